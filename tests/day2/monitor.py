#!/usr/bin/env python3
"""Polls the organisation's health (`metis-deploy health --format json`) until STOP exists and
writes one JSON line per sample to OUT: the instances ("service@host") unhealthy at that moment.

    monitor.py INVENTORY METIS_DEPLOY OUT STOP

A check that goes through another instance counts against that instance while it is down:
nginx's proxy to the admin on its host; the registrations and KV keys read from the first consul
agent (against it while it is down or does not answer the read, and its registrations for 15 s after it came back; against the consul server that is down or "consul@cluster"
while the cluster's leader/peers checks fail: a server leaving or rejoining); the cluster's
leader/peers checks (against the consul server that is down, else "consul@cluster"). Run inside the lab's namespace."""

import json
import os
import subprocess
import sys
import time

inv, binary, out, stop = sys.argv[1:5]
plans = json.loads(subprocess.run([binary, "plan", inv, "--format", "json"], check=True,
                                  capture_output=True, text=True).stdout)["hosts"]
first = next((s["consul_http"].split(":")[0] for h in plans for s in h["services"] if s.get("consul_http")), "")
ip_of = {h["host"]: h["ip"] for h in plans}
first_host = next((h for h, ip in ip_of.items() if ip == first), first)


# After the first agent was down, the registrations it restores are not passing again until their
# checks have run once (consul starts them critical and runs them within their interval, the core's
# CONSUL_CHECK_INTERVAL of 10 s): the agent's restart, not the services'. KV reads are not restored
# agent state: they get no such window.
SETTLING = 15.0
first_back = {"t": float("-inf")}  # when the first agent was last seen down


def unhealthy(checks, now):
    down = {}
    answer = {}  # (instance, check) -> outcome
    for c in checks:
        if not c["ok"]:
            down.setdefault((c["service"], c["host"]), []).append(c["check"])
            answer[(c["service"], c["host"], c["check"])] = c["outcome"]
    own = set()  # instances whose own port checks fail
    for (svc, host), names in down.items():
        if any(not (n.startswith("consul ") or n.startswith("kv ") or n in ("leader", "peers", "http proxy")) for n in names):
            own.add((svc, host))
    first_down = any(svc == "consul" and ip_of.get(host, host) == first for svc, host in own)
    if first_down:
        first_back["t"] = now
    restoring = now - first_back["t"] < SETTLING
    consul_down = sorted(h for s, h in own if s == "consul")
    # The cluster is not settled (a server stopping or rejoining): reads through it fail too.
    unsettled = any(n in ("leader", "peers") for names in down.values() for n in names)
    consul_now = ("consul", consul_down[0]) if consul_down else ("consul", "cluster")
    result = set(own)
    for (svc, host), names in down.items():
        for n in names:
            if n.startswith("consul ") or n.startswith("kv "):
                # Consul answered, and the service is not registered or not passing: the service's.
                # No answer from the agent (reset, refused, timeout): the first agent's.
                no_answer = answer[(svc, host, n)] != "unexpected"
                if first_down or (no_answer and not unsettled):
                    result.add(("consul", first_host))
                elif restoring and n.startswith("consul "):
                    result.add(consul_now if unsettled else ("consul", first_host))
                else:
                    result.add(consul_now if unsettled else (svc, host))
            elif n in ("leader", "peers"):
                result.add(consul_now)
            elif n == "http proxy":
                result.add(("admin", host) if ("admin", host) in own else (svc, host))
    return sorted(f"{s}@{h}" for s, h in result)


with open(out, "w", encoding="utf-8") as f:
    while not os.path.exists(stop):
        t = time.time()
        r = subprocess.run([binary, "health", inv, "--format", "json"], capture_output=True, text=True)
        try:
            checks = json.loads(r.stdout)["checks"]
        except (ValueError, KeyError):
            checks = None
        line = {"t": round(t, 1), "unhealthy": unhealthy(checks, t) if checks is not None else ["?"],
                "failed": [f'{c["service"]}@{c["host"]} {c["check"]}: {c["outcome"]}' for c in checks or [] if not c["ok"]]}
        f.write(json.dumps(line) + "\n")
        f.flush()
        time.sleep(max(0.0, 0.5 - (time.time() - t)))
