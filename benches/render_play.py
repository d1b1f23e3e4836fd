#!/usr/bin/env python3
"""Benchmark: a check-mode play of metis.node.render_config over generated organisations.

Each organisation is written in the style of tests/collection/fixtures/inventory.ini: every host a
loopback address reached with the local connection, 3 consul hosts (one also ice_via, one carrier,
one admin), every other host running data and compute. The play renders every host's files in
check mode below a temporary directory (the plugin's ``root`` option, ``set_owner: false``), with
``forks`` workers. Prints the play's wall time in total and per host, and the growth of the
per-host time from the smallest organisation (1.0 is flat: the cost per host does not depend on
the organisation's size).

Runs Ansible as ``<this interpreter> -m ansible`` with the collection of this checkout, so run it
with the Python that has metis_deploy installed:

    .venv/bin/python benches/render_play.py [--sizes 20,40,80,160] [--forks 10] [--source play|file]
                                            [--play render|validate|ping]

``--play validate`` runs metis.node.validate_inventory on every host instead: the controller's
share alone (reading the play's inventory, calling metis-core). ``--play ping`` runs
ansible.builtin.ping: the floor of any play that runs one module per host on this machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PLAYS = {
    # What the README's figure is about.
    "render": """\
---
- name: Render every host's files (check mode)
  hosts: all
  gather_facts: false
  tasks:
    - name: Render
      metis.node.render_config:
        path: "{{ metis_inventory_path | default(omit) }}"
        root: "{{ bench_out }}/{{ inventory_hostname }}"
        set_owner: false
      check_mode: true
""",
    # The controller's share alone: reading the inventory and calling metis-core, once per host.
    "validate": """\
---
- name: Validate on every host (controller only)
  hosts: all
  gather_facts: false
  tasks:
    - name: Validate
      metis.node.validate_inventory:
        path: "{{ metis_inventory_path | default(omit) }}"
""",
    # The floor of any play that runs one module per host: the ping module.
    "ping": """\
---
- name: Ping every host (check mode)
  hosts: all
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
      check_mode: true
""",
}


def ip(i: int) -> str:
    """The i-th loopback address (i from 0): 127.0.1.1, 127.0.1.2, ..."""
    return f"127.0.{1 + i // 250}.{i % 250 + 1}"


def inventory(n_hosts: int) -> str:
    """An organisation of n_hosts (at least 4): consul on the first three (ice_via, carrier and
    admin one each), data and compute on each of the others."""
    if n_hosts < 4:
        raise ValueError("an organisation needs at least 4 hosts")
    core = [ip(i) for i in range(3)]
    fighters = [ip(i) for i in range(3, n_hosts)]
    lines = ["[consul]", *core, "[ice_via]", core[0], "[carrier]", core[1], "[admin]", core[2]]
    lines += ["[data]", *fighters, "[compute]", *fighters]
    lines += [
        "[all:vars]",
        "ansible_ssh_user = metis-op",
        "ansible_connection = local",
        'ansible_python_interpreter = "{{ ansible_playbook_python }}"',
        "cluster_name = bench",
        "deploy_dir = /opt/metis",
        "service_user = daemon",
        *(f"enable_deploy_{g} = True" for g in ("consul", "ice_via", "carrier", "admin", "data", "compute")),
        "consul_server_port = [8200, 8201, 8202]",
        "consul_serf_lan_port = [8300, 8301, 8302]",
        "consul_serf_wan_port = [8400, 8401, 8402]",
        "consul_http_port = [8500, 8501, 8502]",
        "consul_dns_port = [8600, 8601, 8602]",
        "enable_tls = False",
        "admin_server_name = admin.bench.test",
        'mysql_root_password = "Bench-Root-2Xc9"',
        "amin_user = datum_admin",
        'admin_password = "Bench-Db-7Hk3"',
        "admin_web_port = 9090",
        "admin_grpc_server_port = 9091",
        'pinata_token = "Bench-Token-5Vm1"',
        "pinata_gateway = https://gateway.pinata.cloud",
        f"carrier_external_ip = {core[1]}",
        "carrier_pprof_port = 10032",
        "carrier_rpc_port = 10033",
        "carrier_grpc_gateway_port = 10034",
        "carrier_p2p_udp_port = 10035",
        "carrier_p2p_tcp_port = 10036",
        f"ice_via_external_ip = {core[0]}",
        "ice_glacier2_port = 20031",
        "ice_grid_port = 20032",
        "ice_protocol = tcp",
        f"storage_ip = {fighters[0]}",
        "storage_port = 9099",
        "data_port = [" + ", ".join(str(30000 + i) for i in range(len(fighters))) + "]",
        "compute_port = [" + ", ".join(str(40000 + i) for i in range(len(fighters))) + "]",
    ]
    return "\n".join(lines) + "\n"


def run_play(work: str, n: int, forks: int, source: str, play: str) -> float:
    inv = os.path.join(work, f"inventory-{n}.ini")
    with open(inv, "w", encoding="utf-8") as f:
        f.write(inventory(n))
    out = os.path.join(work, f"out-{n}")
    os.mkdir(out)
    cmd = [sys.executable, "-m", "ansible", "playbook", "-i", inv, "-f", str(forks), "-e", f"bench_out={out}"]
    if source == "file":
        cmd += ["-e", f"metis_inventory_path={inv}"]
    cmd.append(os.path.join(work, f"{play}.yml"))
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    elapsed = time.perf_counter() - start
    text = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        sys.exit(f"the play over {n} hosts failed ({proc.returncode}):\n{text[-3000:]}")
    recap = text.split("PLAY RECAP")[-1]
    changed = recap.count("changed=1 ")
    if play == "render" and changed != n:
        sys.exit(f"the play reported {changed} of {n} hosts changed (check mode over an empty root: all)\n{text[-3000:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20,40,80,160", help="organisation sizes (hosts), comma-separated")
    ap.add_argument("--forks", type=int, default=10)
    ap.add_argument("--source", choices=("play", "file"), default="play",
                    help="the plugin reads the play's inventory (default) or the file (path option)")
    ap.add_argument("--play", choices=sorted(PLAYS), default="render",
                    help="render (default); validate: the controller's share alone; ping: the floor of one module per host")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    with tempfile.TemporaryDirectory(prefix="metis-bench-") as work:
        # The collection of this checkout, without building it.
        coll = os.path.join(work, "collections", "ansible_collections", "metis")
        os.makedirs(coll)
        os.symlink(os.path.join(ROOT, "ansible_collection"), os.path.join(coll, "node"))
        os.mkdir(os.path.join(work, "tmp"))
        for name, text in PLAYS.items():
            with open(os.path.join(work, f"{name}.yml"), "w", encoding="utf-8") as f:
                f.write(text)
        os.environ.update(
            ANSIBLE_COLLECTIONS_PATH=os.path.join(work, "collections"),
            ANSIBLE_LOCAL_TEMP=os.path.join(work, "tmp"),
            ANSIBLE_REMOTE_TMP=os.path.join(work, "tmp"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_LOCALHOST_WARNING="0",
            ANSIBLE_DEPRECATION_WARNINGS="0",
        )
        print(f"{args.play} play, forks {args.forks}, inventory from the {args.source}")
        print(f"{'hosts':>6} {'total':>9} {'per host':>9} {'growth':>7}")
        per_host = {}
        for n in sizes:
            total = run_play(work, n, args.forks, args.source, args.play)
            per_host[n] = total / n
            growth = per_host[n] / per_host[sizes[0]]
            print(f"{n:>6} {total:>8.1f}s {per_host[n]:>8.3f}s {growth:>7.2f}", flush=True)
        print(f"\nper-host time at {sizes[-1]} hosts / at {sizes[0]} hosts: "
              f"{per_host[sizes[-1]] / per_host[sizes[0]]:.2f} (1.0 is flat)")


if __name__ == "__main__":
    main()
