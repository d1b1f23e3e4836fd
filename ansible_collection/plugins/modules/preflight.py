#!/usr/bin/python
# Copyright: metis-deploy contributors
# Apache License 2.0 or, at your option, GNU General Public License v3.0+
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later
# (see https://www.apache.org/licenses/LICENSE-2.0 and https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preflight
short_description: Check that a host can run its part of a Metis organisation
version_added: 0.2.0
description:
  - Runs every check of a host at once and returns all problems found, never stopping at the
    first one, so that the bootstrap playbook can report every host's problems together.
  - "Checks: operating system (Debian 11/12/13, Ubuntu 20.04 or later), architecture (x86_64),
    Python 3.8 or later, free disk space where the plan's deploy_dir will be, every port of the host
    plan not taken by another program (the program is named), the clock synchronised (skipped
    in containers, whose clock is the machine's), and whether the CPU has avx2 (which chooses
    the rosetta build)."
  - A port held by one of the host's own services (its systemd unit or its pid file, from the
    host plan) is not a problem, so that bootstrap can run again on a deployed organisation.
  - Reads only; changes nothing.
options:
  plan:
    description:
      - The host plan of this host (the C(metis_plan) fact set by M(metis.node.host_plan)).
    type: dict
    required: true
  min_free_mb:
    description:
      - Free space needed on the file system that holds the deploy directory, in MiB.
    type: int
    default: 2048
attributes:
  check_mode:
    support: full
    description: Only reads; the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
  platform:
    support: full
    platforms: posix
    description: Runs on the managed host (Linux).
author:
  - metis-deploy contributors (@metis-deploy)
"""

EXAMPLES = r"""
- name: Check the host
  metis.node.preflight:
    plan: "{{ metis_plan }}"
  register: preflight
  become: true
"""

RETURN = r"""
problems:
  description: Every problem found, one sentence each, with how to fix it.
  returned: always
  type: list
  elements: str
  sample: ["port 8500/tcp (consul http) is taken by nginx (pid 812)"]
facts:
  description: What was found.
  returned: always
  type: dict
  contains:
    os:
      description: Distribution and version.
      type: str
      returned: always
    arch:
      description: Machine architecture.
      type: str
      returned: always
    avx2:
      description: Whether the CPU has avx2.
      type: bool
      returned: always
    container:
      description: Whether the host is a container.
      type: bool
      returned: always
    free_mb:
      description: Free MiB on the deploy directory's file system.
      type: int
      returned: always
"""

import os
import platform
import re
import shutil
import subprocess

from ansible.module_utils.basic import AnsibleModule

SUPPORTED = "Debian 11, 12 or 13, or Ubuntu 20.04 or later"
# /proc/net files: (path, proto, listening state or None for udp)
_SOCKET_TABLES = (
    ("/proc/net/tcp", "tcp", "0A"),
    ("/proc/net/tcp6", "tcp", "0A"),
    ("/proc/net/udp", "udp", None),
    ("/proc/net/udp6", "udp", None),
)


def _os_release():
    info = {}
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                key, sep, value = line.strip().partition("=")
                if sep:
                    info[key] = value.strip().strip('"')
    except OSError:
        pass
    return info


def check_os(problems):
    rel = _os_release()
    os_id, version = rel.get("ID", "unknown"), rel.get("VERSION_ID", "")
    name = f"{rel.get('NAME', os_id)} {version}".strip()
    try:
        parts = tuple(int(p) for p in version.split("."))
    except ValueError:
        parts = ()
    ok = (os_id == "debian" and parts[:1] in ((11,), (12,), (13,))) or (os_id == "ubuntu" and parts >= (20, 4))
    if not ok:
        problems.append(f"operating system {name} is not supported: use {SUPPORTED}")
    return name


def check_arch(problems):
    arch = platform.machine()
    if arch != "x86_64":
        problems.append(f"architecture {arch} is not supported: the Metis artifacts are built for x86_64")
    return arch


def check_python(problems):
    if os.sys.version_info < (3, 8):
        problems.append(f"Python {platform.python_version()} is too old: install python3 3.8 or later")


def _existing_parent(path):
    while path and not os.path.exists(path):
        parent = os.path.dirname(path.rstrip("/")) or "/"
        if parent == path:
            break
        path = parent
    return path or "/"


def check_disk(problems, deploy_dir, min_free_mb):
    where = _existing_parent(deploy_dir)
    free_mb = shutil.disk_usage(where).free // (1024 * 1024)
    if free_mb < min_free_mb:
        problems.append(
            f"only {free_mb} MiB free on the file system of {deploy_dir} ({where}): {min_free_mb} MiB needed; "
            "free some space or set deploy_dir to a larger file system"
        )
    return free_mb


def _listening():
    """{(proto, port): [socket inode, ...]} of listening TCP and bound UDP sockets."""
    out = {}
    for path, proto, state in _SOCKET_TABLES:
        try:
            with open(path, encoding="ascii") as f:
                next(f, None)
                for line in f:
                    cols = line.split()
                    if len(cols) < 10 or (state and cols[3] != state):
                        continue
                    port = int(cols[1].rsplit(":", 1)[1], 16)
                    out.setdefault((proto, port), []).append(cols[9])
        except (OSError, ValueError, IndexError):
            continue
    return out


def _socket_owners():
    """{socket inode: pid} for every process whose descriptors can be read."""
    owners = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                owners.setdefault(target[8:-1], int(pid))
    return owners


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def _pid_from_file(path):
    text = _read(path) if path else ""
    return int(text) if text.isdigit() else None


def _ancestors(pid):
    """pid and its parents (a service's worker processes descend from its main one)."""
    seen = []
    while pid and pid > 1 and pid not in seen and len(seen) < 64:
        seen.append(pid)
        stat = _read(f"/proc/{pid}/stat")
        try:
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (IndexError, ValueError):
            break
    return seen


def check_ports(problems, plan):
    """Every port of the plan that a process other than the host's own services holds."""
    services = plan.get("services") or []
    own_units = {s["unit"] for s in services if s.get("unit")}
    own_pids = set()
    for s in services:
        pid = _pid_from_file(s.get("pid_file"))
        if pid:
            own_pids.add(pid)
    listening = _listening()
    owners = _socket_owners() if listening else {}
    for s in services:
        for p in s.get("ports") or []:
            for port in range(p["port"], p["last"] + 1):
                for inode in listening.get((p["proto"], port), []):
                    pid = owners.get(inode)
                    if pid is None:
                        who = "a process this check cannot see"
                    else:
                        cgroup = _read(f"/proc/{pid}/cgroup")
                        units = set(re.findall(r"/([^/\s]+\.service)", cgroup))
                        if units & own_units or own_pids.intersection(_ancestors(pid)):
                            continue
                        who = f"{_read(f'/proc/{pid}/comm') or 'unknown'} (pid {pid})"
                    what = f"{s['name']} {p['purpose']}"
                    problems.append(
                        f"port {port}/{p['proto']} ({what}) is taken by {who}: stop that program or "
                        "choose another port in the inventory"
                    )
                    break


def _in_container():
    try:
        res = subprocess.run(["systemd-detect-virt", "--container"], capture_output=True, text=True, check=False)
        if res.returncode == 0:
            return True
    except OSError:
        pass
    return os.path.exists("/run/.containerenv") or os.path.exists("/.dockerenv") or "container=" in _read("/proc/1/environ").replace("\0", " ")


def check_clock(problems, container):
    if container:
        return
    try:
        res = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"], capture_output=True, text=True, check=False)
    except OSError:
        return
    if res.returncode == 0 and res.stdout.strip() == "no":
        problems.append(
            "the clock is not synchronised (timedatectl: NTPSynchronized=no): consul and the carrier need "
            "synchronised clocks; enable systemd-timesyncd, chrony or ntp"
        )


def has_avx2():
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("flags"):
            return "avx2" in line.split()
    return False


def main():
    module = AnsibleModule(
        argument_spec={
            "plan": {"type": "dict", "required": True},
            "min_free_mb": {"type": "int", "default": 2048},
        },
        supports_check_mode=True,
    )
    plan = module.params["plan"]
    problems = []
    os_name = check_os(problems)
    arch = check_arch(problems)
    check_python(problems)
    free_mb = check_disk(problems, plan.get("deploy_dir") or "/", module.params["min_free_mb"])
    check_ports(problems, plan)
    container = _in_container()
    check_clock(problems, container)
    facts = {"os": os_name, "arch": arch, "avx2": has_avx2(), "container": container, "free_mb": free_mb}
    module.exit_json(changed=False, problems=problems, facts=facts)


if __name__ == "__main__":
    main()
