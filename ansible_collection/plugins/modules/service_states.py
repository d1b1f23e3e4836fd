#!/usr/bin/python
# Copyright: metis-deploy contributors
# Apache License 2.0 or, at your option, GNU General Public License v3.0+
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later
# (see https://www.apache.org/licenses/LICENSE-2.0 and https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service_states
short_description: Tell whether a host's planned services run, and since when
version_added: 0.2.0
description:
  - Reports, for each service of the host plan given in O(services), the state of its unit as
    systemd words it (V(active), V(inactive), V(failed), V(not-found) or V(unknown)), its sub-state
    (V(running), V(dead)...), since when it is in that state and why when the answer is not a
    plain one. C(metis-deploy status) runs it on every host in one ad-hoc call.
  - "Which manager runs the services here: O(service_manager) from the host plan; with V(auto),
    systemd when Ansible's C(service_mgr) fact would say C(systemd) (the rule the roles' C(auto)
    uses: the fact is computed here by Ansible's own collector), else start-stop-daemon processes."
  - Under systemd it asks C(systemctl show) (C(ActiveEnterTimestamp) is the time).
  - "Without systemd, a service with a pid file (the plan's C(pid_file), written by
    start-stop-daemon) is V(active) (V(running)) while that pid is a live process (not a zombie)
    that started before the pid file was written; its start time (C(/proc/PID/stat)'s C(starttime)
    after C(/proc/stat)'s C(btime)) is the time, written as systemd writes its timestamps. No pid
    file is V(inactive) (V(dead)): never started, or stopped (stop removes it). A pid file whose
    process ended or is a zombie, or that was written before the host last started, is V(failed)
    (V(dead)), with the reason. A process that started after its pid file was written (its pid
    reused by another, or the clock stepped forward) is V(unknown), with the reason. A pid that
    runs but that C(/proc) hides (C(hidepid)) is V(unknown), saying to ask with become."
  - "Without systemd, a distribution's service (no pid file in the plan, such as MariaDB or nginx) is
    asked as the roles ask it, C(service NAME status) (its init script): V(active) for 0, V(inactive)
    for 3, V(failed) for 1 and 2, V(unknown) with the reason otherwise; its init script gives no start
    time. Some init scripts need root to tell (MariaDB's), so without become only V(active) is
    believed and any other answer is V(unknown), saying so."
  - Reads only; changes nothing.
options:
  services:
    description:
      - The services to report, each with these keys of its entry of the host plan's
        C(metis_plan.services).
    type: list
    elements: dict
    required: true
    suboptions:
      unit:
        description: The unit's name (C(metis-consul.service), C(mariadb.service)).
        type: str
        required: true
      pid_file:
        description:
          - The pid file start-stop-daemon writes for the service where systemd does not run it;
            none for a distribution's service.
        type: str
  service_manager:
    description:
      - The host plan's C(service_manager).
    type: str
    choices: [auto, systemd, process]
    default: auto
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
    description: Runs on the managed host (Linux, C(/proc)).
author:
  - metis-deploy contributors (@metis-deploy)
"""

EXAMPLES = r"""
- name: Read the states of the host's services
  metis.node.service_states:
    services: "{{ metis_plan.services | map('dict2items') | map('selectattr', 'key', 'in', ['unit', 'pid_file'])
                  | map('items2dict') | list }}"
    service_manager: "{{ metis_plan.service_manager }}"
  register: states

- name: Show the consul agent's
  ansible.builtin.debug:
    msg: "{{ states.units['metis-consul.service'] }}"
"""

RETURN = r"""
manager:
  description: How this host runs the services (C(auto) resolved).
  returned: always
  type: str
  choices: [systemd, process]
  sample: process
units:
  description: Each unit of O(services), by name.
  returned: always
  type: dict
  sample:
    metis-compute.service:
      state: active
      sub: running
      since: "Thu 2026-12-03 18:00:00 UTC"
      pid: 4242
      reason: null
  contains:
    state:
      description: V(active), V(inactive), V(failed), V(not-found), V(unknown) (or another systemd state).
      type: str
      returned: always
    sub:
      description: V(running), V(dead)... (empty when not known).
      type: str
      returned: always
    since:
      description:
        - When it entered its state, as systemd writes C(ActiveEnterTimestamp)
          (C(Thu 2026-12-03 18:00:00 UTC)); null when not known.
      type: str
      returned: always
    pid:
      description: The process of a service with a pid file, while it runs; null otherwise.
      type: int
      returned: always
    reason:
      description: Why the state is V(unknown) or V(failed), or how it was told; null for a plain answer.
      type: str
      returned: always
"""

import errno
import os
import time

from ansible.module_utils.basic import AnsibleModule

SYSTEMD_PROPERTIES = "Id,LoadState,ActiveState,SubState,ActiveEnterTimestamp"
# How much later than its pid file a process may appear to have started (the boot time in
# /proc/stat is whole seconds) before it counts as another process with a reused pid.
START_SLACK_SECS = 2.0
# The largest pid Linux gives (PID_MAX_LIMIT on 64-bit systems).
PID_MAX_LIMIT = 1 << 22


def _state(state, sub="", since=None, pid=None, reason=None):
    return {"state": state, "sub": sub, "since": since, "pid": pid, "reason": reason}


def unknown(reason):
    return _state("unknown", reason=reason)


def format_since(epoch):
    """A time as systemd writes ActiveEnterTimestamp: 'Thu 2026-12-03 18:00:00 UTC' (local time)."""
    return time.strftime("%a %Y-%m-%d %H:%M:%S %Z", time.localtime(epoch))


# ---- systemd


def parse_systemctl_show(text):
    """Blocks of `systemctl show -p Id,LoadState,...`, in the order of the units asked."""
    blocks = []
    for block in text.split("\n\n"):
        props = {}
        for line in block.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                props[key.strip()] = value.strip()
        if props.get("Id"):
            blocks.append(props)
    return blocks


def _from_props(props):
    if props.get("LoadState") == "not-found":
        return _state("not-found", reason="systemd has no such unit")
    return _state(props.get("ActiveState") or "unknown", props.get("SubState") or "", props.get("ActiveEnterTimestamp") or None)


def systemd_states(module, units):
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return {u: unknown("systemctl is not installed") for u in units}
    rc, out, err = module.run_command([systemctl, "show", "--no-pager", "--property=" + SYSTEMD_PROPERTIES, "--"] + list(units))
    if rc != 0:
        why = (err or out).strip().splitlines()
        return {u: unknown(f"systemctl show exited {rc}: {why[0] if why else 'no message'}") for u in units}
    blocks = parse_systemctl_show(out)
    if len(blocks) == len(units):
        # One block per unit asked, in order (an alias's block names the unit it stands for).
        return {u: _from_props(p) for u, p in zip(units, blocks)}
    by_id = {p["Id"]: p for p in blocks}
    return {u: _from_props(by_id[u]) if u in by_id else unknown("systemctl show did not report it") for u in units}


# ---- processes with pid files (start-stop-daemon)


def boot_time(proc="/proc"):
    with open(f"{proc}/stat", encoding="ascii") as f:
        for line in f:
            if line.startswith("btime "):
                return int(line.split()[1])
    raise ValueError(f"no btime in {proc}/stat")


def read_stat(pid, proc="/proc"):
    """(state letter, start time in clock ticks after boot) of a process, or None when it is gone."""
    try:
        with open(f"{proc}/{pid}/stat", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); starttime is field 22.
    return fields[0], int(fields[19])


def pid_file_state(pid_file, proc="/proc"):
    """The state of a service started by start-stop-daemon with this pid file."""
    try:
        with open(pid_file, encoding="utf-8", errors="replace") as f:
            text = f.read(64).strip()
        written = os.stat(pid_file).st_mtime
    except FileNotFoundError:
        return _state("inactive", "dead", reason=f"no pid file {pid_file}: not started, or stopped")
    except OSError as e:
        return unknown(f"cannot read {pid_file}: {e.strerror}" + (" (run with become)" if e.errno == errno.EACCES else ""))
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= PID_MAX_LIMIT:
        return unknown(f"{pid_file} does not hold a pid: {text[:20]!r}")
    pid = int(text)
    try:
        stat = read_stat(pid, proc)
        if stat is None and proc == "/proc" and _hidden(pid):
            return unknown(f"pid {pid} of {pid_file} runs but /proc hides it (hidepid): run with become")
        if stat is None:
            return _state("failed", "dead", reason=f"pid {pid} of {pid_file} is not running: it ended without being stopped")
        letter, ticks = stat
        booted = boot_time(proc)
        started = booted + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError) as e:
        return unknown(f"cannot read /proc for pid {pid} of {pid_file}: {e}")
    if letter in ("Z", "X", "x"):
        return _state("failed", "dead", reason=f"pid {pid} of {pid_file} has exited (a zombie its parent has not reaped)")
    if written < booted:
        return _state(
            "failed",
            "dead",
            reason=(
                f"{pid_file} was written before the host started ({format_since(written)}, booted {format_since(booted)}): "
                f"pid {pid} is another process, the service has not run since the restart"
            ),
        )
    if started > written + START_SLACK_SECS:
        # start-stop-daemon writes the pid file after the process started; a later start is
        # another process that got the pid, unless the clock stepped forward since.
        return unknown(
            f"pid {pid} of {pid_file} started {format_since(started)}, after the pid file was written "
            f"({format_since(written)}): another process that got its pid, or the clock stepped"
        )
    return _state("active", "running", format_since(started), pid)


def _hidden(pid):
    """Whether a pid that /proc does not show exists all the same (a /proc mounted hidepid=2)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---- distribution services without systemd (their init scripts)


def init_script_state(module, unit, init_dir="/etc/init.d"):
    name = unit[: -len(".service")] if unit.endswith(".service") else unit
    if not os.path.exists(f"{init_dir}/{name}"):
        return _state("not-found", reason=f"no init script {init_dir}/{name}")
    service = module.get_bin_path("service")
    if not service:
        return unknown(f"no `service` command to ask {init_dir}/{name}")
    rc, out, err = module.run_command([service, name, "status"])
    said = (out or err).strip().splitlines()
    said = said[-1] if said else ""
    how = f"service {name} status: {said}" if said else f"service {name} status exited {rc}"
    if rc == 0:
        return _state("active", "running", reason=how)
    if os.geteuid() != 0:
        # Some init scripts need root to tell (MariaDB's reads a root-only file and then says
        # "stopped"): only "running" is sure without it.
        return unknown(f"{how} (exit {rc}), asked without root, which this init script may need: ask with become")
    if rc == 3:
        return _state("inactive", "dead", reason=how)
    if rc in (1, 2):
        return _state("failed", "dead", reason=how)
    return unknown(f"service {name} status exited {rc}: {said or 'no message'}")


# ---- which manager


def host_manager(module, service_manager):
    """systemd or process: as the roles decide (`service_manager`, and for auto the service_mgr fact)."""
    if service_manager != "auto":
        return service_manager
    from ansible.module_utils.facts import ansible_collector, default_collectors

    collector = ansible_collector.get_ansible_collector(
        all_collector_classes=default_collectors.collectors,
        gather_subset=["!all", "service_mgr"],
        minimal_gather_subset=frozenset(),
        gather_timeout=10,
    )
    facts = collector.collect(module=module)
    return "systemd" if facts.get("service_mgr") == "systemd" else "process"


def states(module, services, manager):
    units = []
    pid_files = {}
    for s in services:
        if s["unit"] not in pid_files:
            units.append(s["unit"])
            pid_files[s["unit"]] = s.get("pid_file")
    if manager == "systemd":
        return systemd_states(module, units) if units else {}
    return {u: pid_file_state(pid_files[u]) if pid_files[u] else init_script_state(module, u) for u in units}


def main():
    module = AnsibleModule(
        argument_spec={
            "services": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "unit": {"type": "str", "required": True},
                    "pid_file": {"type": "str"},
                },
            },
            "service_manager": {"type": "str", "choices": ["auto", "systemd", "process"], "default": "auto"},
        },
        supports_check_mode=True,
    )
    manager = host_manager(module, module.params["service_manager"])
    module.exit_json(changed=False, manager=manager, units=states(module, module.params["services"], manager))


if __name__ == "__main__":
    main()
