"""Consul STAND-IN: service definitions as the HTTP API and config files give them, and the
health checks the agent runs for them (TCP, HTTP, gRPC, H2PING, TTL)."""

from __future__ import annotations

import http.client
import os
import socket
import time
import urllib.parse

from standin import h2

from .config import ConfigError, parse_duration

# Consul raises DeregisterCriticalServiceAfter to this minimum. The environment variable exists
# for the stand-in's own tests only (to see the reaper work without waiting a minute).
MIN_DEREGISTER = float(os.environ.get("METIS_STANDIN_CONSUL_MIN_DEREGISTER_SECS", "60"))
MAX_OUTPUT = 4096


class RequestError(Exception):
    """An invalid request body: HTTP 400 with this text."""


def _norm(k: str) -> str:
    return k.replace("_", "").replace("-", "").lower()


def ci(d: dict, *names, default=None):
    """Case- and underscore-insensitive lookup, as consul's decoder accepts `DeregisterCriticalServiceAfter`,
    `deregister_critical_service_after` alike."""
    want = {_norm(n) for n in names}
    for k, v in d.items():
        if isinstance(k, str) and _norm(k) in want:
            return v
    return default


def _typed(value, kind, what):
    if value is None:
        return None
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "list": isinstance(value, list) and all(isinstance(x, str) for x in value),
        "dict": isinstance(value, dict),
        "bool": isinstance(value, bool),
    }[kind]
    if not ok:
        raise RequestError(f"Request decode failed: {what}: expected {kind}, got {value!r}")
    return value


def _duration(value, what) -> float:
    if value in (None, ""):
        return 0.0
    try:
        return parse_duration(value, what)
    except ConfigError as e:
        raise RequestError(f"Request decode failed: {e}") from None


def parse_service(body, datacenter: str) -> tuple[dict, list[dict]]:
    """(service, check definitions) of a registration body; raises RequestError."""
    if not isinstance(body, dict):
        raise RequestError("Request decode failed: the body is not a JSON object")
    name = _typed(ci(body, "Name"), "str", "Name")
    if not name:
        raise RequestError("Missing service name")
    sid = _typed(ci(body, "ID"), "str", "ID") or name
    port = _typed(ci(body, "Port", default=0), "int", "Port")
    service = {
        "ID": sid,
        "Service": name,
        "Tags": list(_typed(ci(body, "Tags"), "list", "Tags") or []),
        "Meta": dict(_typed(ci(body, "Meta"), "dict", "Meta") or {}),
        "Port": port,
        "Address": _typed(ci(body, "Address", default=""), "str", "Address"),
        "Weights": {"Passing": 1, "Warning": 1},
        "EnableTagOverride": bool(ci(body, "EnableTagOverride", default=False)),
        "Datacenter": datacenter,
    }
    tagged = ci(body, "TaggedAddresses")
    if isinstance(tagged, dict) and tagged:
        service["TaggedAddresses"] = tagged
    defs = []
    one = ci(body, "Check")
    many = ci(body, "Checks") or []
    if one:
        defs.append(_typed(one, "dict", "Check"))
    if not isinstance(many, list):
        raise RequestError("Request decode failed: Checks: expected a list")
    defs.extend(_typed(c, "dict", "Checks") for c in many)
    checks = []
    for i, d in enumerate(defs, 1):
        default_id = f"service:{sid}" if len(defs) == 1 else f"service:{sid}:{i}"
        checks.append(parse_check(d, service, default_id))
    return service, checks


def parse_check(d: dict, service: dict | None, default_id: str) -> dict:
    interval = _duration(ci(d, "Interval"), "Interval")
    timeout = _duration(ci(d, "Timeout"), "Timeout") or 10.0
    ttl = _duration(ci(d, "TTL"), "TTL")
    dereg = _duration(ci(d, "DeregisterCriticalServiceAfter"), "DeregisterCriticalServiceAfter")
    kind = None
    target = None
    for key, k in (("GRPC", "grpc"), ("HTTP", "http"), ("TCP", "tcp"), ("H2PING", "h2ping")):
        v = ci(d, key)
        if v:
            kind, target = k, _typed(v, "str", key)
            break
    if kind is None and (ci(d, "Args") or ci(d, "Script")):
        raise RequestError("Scripts are disabled on this agent; to enable, configure "
                           "'enable_script_checks' or 'enable_local_script_checks' to true")
    if kind is None and (ci(d, "DockerContainerID") or ci(d, "AliasService") or ci(d, "AliasNode")):
        raise RequestError("Invalid check: Docker and alias checks are not supported by the consul stand-in")
    if kind is None:
        if ttl <= 0:
            raise RequestError("Invalid check: TTL must be > 0 for TTL checks")
        kind = "ttl"
    elif interval <= 0:
        raise RequestError("Invalid check: Interval must be > 0 for Script, HTTP, H2PING, or TCP checks")
    status = ci(d, "Status") or "critical"
    if status not in ("passing", "warning", "critical"):
        raise RequestError(f"Invalid check: status '{status}' is not one of passing, warning, critical")
    check = {
        "CheckID": ci(d, "CheckID", "ID") or default_id,
        "Name": ci(d, "Name") or (f"Service '{service['Service']}' check" if service else default_id),
        "Status": status,
        "Notes": ci(d, "Notes") or "",
        "Output": "",
        "ServiceID": service["ID"] if service else (ci(d, "ServiceID") or ""),
        "ServiceName": service["Service"] if service else "",
        "ServiceTags": list(service["Tags"]) if service else [],
        "Type": kind,
        "Definition": {},
        "CreateIndex": 0,
        "ModifyIndex": 0,
        # Runtime fields (not shown by the API: see public_check).
        "_target": target,
        "_method": ci(d, "Method") or "GET",
        "_header": ci(d, "Header") or {},
        "_interval": interval,
        "_timeout": timeout,
        "_ttl": ttl,
        "_deregister_after": max(dereg, MIN_DEREGISTER) if dereg > 0 else 0.0,
        "_critical_since": time.monotonic() if status == "critical" else None,
        "_next": time.monotonic(),
        "_ttl_deadline": time.monotonic() + ttl if kind == "ttl" else None,
        "_running": False,
    }
    return check


def public_check(c: dict, node: str) -> dict:
    out = {k: v for k, v in c.items() if not k.startswith("_")}
    out["Node"] = node
    return dict(sorted(out.items(), key=lambda kv: _ORDER.get(kv[0], 99)))


_ORDER = {k: i for i, k in enumerate(
    ["Node", "CheckID", "Name", "Status", "Notes", "Output", "ServiceID", "ServiceName",
     "ServiceTags", "Type", "Definition", "CreateIndex", "ModifyIndex"])}


def _split_hostport(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def run_check(c: dict) -> tuple[str, str]:
    """(status, output) of one run of an interval check."""
    kind, target, timeout = c["Type"], c["_target"], c["_timeout"]
    if kind == "tcp":
        try:
            host, port = _split_hostport(target)
            with socket.create_connection((host, port), timeout=timeout):
                return "passing", f"TCP connect {target}: Success"
        except (OSError, ValueError) as e:
            return "critical", f"dial tcp {target}: connect: {getattr(e, 'strerror', None) or e}"
    if kind in ("grpc", "h2ping"):
        try:
            host, port = _split_hostport(target.split("/", 1)[0])
        except ValueError:
            return "critical", f"invalid gRPC target {target}"
        ok, out = h2.probe(host, port, timeout)
        return ("passing" if ok else "critical"), out
    if kind == "http":
        u = urllib.parse.urlsplit(target)
        cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        try:
            conn = cls(u.hostname, u.port, timeout=timeout)
            path = (u.path or "/") + (f"?{u.query}" if u.query else "")
            headers = {k: (v[0] if isinstance(v, list) and v else v) for k, v in c["_header"].items()}
            headers.setdefault("User-Agent", "Consul Health Check (metis-deploy stand-in)")
            conn.request(c["_method"], path, headers=headers)
            r = conn.getresponse()
            body = r.read(MAX_OUTPUT).decode("utf-8", "replace")
            conn.close()
        except (OSError, http.client.HTTPException, ValueError) as e:
            return "critical", f"Get \"{target}\": {getattr(e, 'strerror', None) or e}"
        out = f"HTTP {c['_method']} {target}: {r.status} {r.reason} Output: {body}"
        if 200 <= r.status < 300:
            return "passing", out
        if r.status == 429:
            return "warning", out
        return "critical", out
    return c["Status"], c["Output"]
