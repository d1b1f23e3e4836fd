#!/usr/bin/env python3
"""Benchmark: `metis-deploy validate` against `ansible-inventory --list` on generated inventories.

Prints, per size, the median wall time of each (over several runs) and their ratio, then the
growth of metis-deploy from size to size (linear growth: time ratio close to the size ratio).
ansible-inventory grows quadratically: it is skipped (n/a) above --ansible-max hosts, where it
takes many minutes.

    python3 benches/validate_vs_ansible.py [--sizes 100,1000,5000,20000] [--runs 3] [--ansible-max 5000]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def inventory(n_hosts: int) -> str:
    """An organisation of n_hosts: 3 consul, carrier, admin, ice_via, the rest data/compute."""
    ip = lambda i: f"10.{i // 62500}.{i // 250 % 250}.{i % 250 + 1}"
    fighters = max(n_hosts - 6, 2)
    n_data = fighters // 2
    n_compute = fighters - n_data
    lines = ["[consul]", ip(1), ip(2), ip(3), "[carrier]", ip(4), "[admin]", ip(5), "[ice_via]", ip(6), "[data]"]
    lines += [ip(1000 + i) for i in range(n_data)]
    lines += ["[compute]"] + [ip(100000 + i) for i in range(n_compute)]
    lines += [
        "[all:vars]",
        "ansible_ssh_user = deployer",
        "consul_server_port = [8200, 8201, 8202]",
        "consul_serf_lan_port = [8300, 8301, 8302]",
        "consul_serf_wan_port = [8400, 8401, 8402]",
        "consul_http_port = [8500, 8501, 8502]",
        "consul_dns_port = [8600, 8601, 8602]",
        "carrier_external_ip = 203.0.113.7",
        "ice_via_external_ip = 203.0.113.8",
        "mysql_root_password = \"{{ vault_root }}\"",
        "admin_password = \"{{ vault_admin }}\"",
        "storage_ip = 10.0.0.9",
        "storage_port = 9099",
        "data_port = [" + ", ".join(str(2000 + i % 60000) for i in range(n_data)) + "]",
        "compute_port = [" + ", ".join(str(3000 + i % 60000) for i in range(n_compute)) + "]",
    ]
    return "\n".join(lines) + "\n"


def timed(cmd, env=None, cpu=None) -> float:
    """Wall time of one run; its CPU time (user + system) is appended to `cpu` when given."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,5000,20000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ansible-max", type=int, default=5000, help="largest size ansible-inventory is run on")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/metis-deploy"))
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "metis-deploy"], cwd=ROOT, check=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    env = dict(os.environ, ANSIBLE_INVENTORY_ENABLED="ini")
    print(f"{'hosts':>6} {'metis-deploy':>14} {'(cpu)':>9} {'ansible-inventory':>18} {'ratio':>8}")
    ours = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = os.path.join(tmp, f"inv{n}.ini")
            with open(path, "w") as f:
                f.write(inventory(n))
            cpu: list[float] = []
            m = statistics.median(timed([args.binary, "validate", path], cpu=cpu) for _ in range(args.runs))
            c = statistics.median(cpu)
            ours[n] = m
            if n > args.ansible_max:
                print(f"{n:>6} {m * 1000:>12.1f}ms {c * 1000:>7.1f}ms {'n/a':>18} {'n/a':>8}", flush=True)
                continue
            a = statistics.median(timed(["ansible-inventory", "-i", path, "--list"], env) for _ in range(args.runs))
            print(f"{n:>6} {m * 1000:>12.1f}ms {c * 1000:>7.1f}ms {a * 1000:>16.1f}ms {a / m:>7.0f}x", flush=True)
    print("\ngrowth of metis-deploy (time ratio / size ratio; 1.0 is linear, below 1 the fixed start-up cost):")
    for a, b in zip(sizes, sizes[1:]):
        print(f"  {a:>5} -> {b:<5} {ours[b] / ours[a]:6.2f} / {b / a:<5.1f} = {(ours[b] / ours[a]) / (b / a):.2f}")


if __name__ == "__main__":
    main()
