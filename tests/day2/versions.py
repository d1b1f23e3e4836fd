#!/usr/bin/env python3
"""Prints "service@host version" of every instance whose program comes from the bundle, as the
instance itself reports it: each consul agent (/v1/agent/self), the carrier (nodeInfo), the admin
(its health endpoint), the web UI nginx serves (index.html) and the fighters (the version in their
consul registration on the first agent). Run inside the lab's namespace.

    versions.py INVENTORY METIS_DEPLOY"""

import json
import re
import subprocess
import sys
import urllib.request

inv, binary = sys.argv[1:3]
plans = json.loads(subprocess.run([binary, "plan", inv, "--format", "json"], check=True,
                                  capture_output=True, text=True).stdout)["hosts"]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.read().decode()
    except OSError as e:
        return f"<{e}>"


def port(svc, purpose):
    return next(p["port"] for p in svc["ports"] if p["purpose"] == purpose)


first = next(s["consul_http"] for h in plans for s in h["services"] if s.get("consul_http"))
registered = json.loads(get(f"http://{first}/v1/agent/services") or "{}")
for h in plans:
    ip = h["ip"]
    for s in h["services"]:
        name, v = s["name"], None
        if name == "consul":
            self_ = get(f"http://{ip}:{port(s, 'http')}/v1/agent/self")
            v = json.loads(self_)["Config"]["Version"] if self_.startswith("{") else self_
        elif name == "carrier":
            info = get(f"http://{ip}:{port(s, 'grpc_gateway')}/carrier/v1/yarn/nodeInfo")
            m = re.search(r'"version":\s*"([^"]+)"', info)
            v = m.group(1) if m else info[:80]
        elif name == "admin":
            health = get(f"http://{ip}:{port(s, 'web')}/datum-admin/health")
            v = json.loads(health).get("version") if health.startswith("{") else health
        elif name == "nginx":
            page = get(f"http://{ip}:{port(s, 'http')}/")
            m = re.search(r'<span id="version">([^<]+)<', page)
            v = m.group(1) if m else page[:80]
        elif name in ("data", "compute"):
            mine = [r for r in registered.values() if r.get("Address") == ip and r.get("Port") == port(s, "grpc")]
            v = mine[0].get("Meta", {}).get("version") if mine else "<not registered>"
        if v is not None:
            print(f"{name}@{h['host']} {v}")
