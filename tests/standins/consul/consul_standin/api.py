"""Consul STAND-IN: the HTTP API subset metis-deploy and the Metis services use, with consul's
JSON shapes and status codes."""

from __future__ import annotations

import base64
import http.server
import json
import logging
import re
import threading
import time
import urllib.parse

from standin import VERSION

from . import checks as chk
from .agent import STATUS_CODE, Agent, NoLeader
from .config import ConfigError, parse_duration

MAX_KV_VALUE = 512 * 1024
MAX_BODY = 8 << 20
UI_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Consul stand-in</title></head>
<body><h1>Consul stand-in (metis-deploy)</h1>
<p>This agent is the metis-deploy stand-in for HashiCorp Consul, version {version}, node {node},
datacenter {dc}. It has no web UI: use the HTTP API under <code>/v1/</code>.</p></body></html>
"""


class HttpError(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status, self.text = status, text


def _member_json(agent: Agent, rec: dict) -> dict:
    role = "consul" if rec.get("Server") else "node"
    tags = {"build": f"{rec['Build']}:standin", "dc": rec["Datacenter"], "id": rec.get("NodeID", ""),
            "role": role, "segment": "", "vsn": "2", "vsn_max": "3", "vsn_min": "2", "acls": "0"}
    if rec.get("Server"):
        tags.update({"port": str(rec["ServerPort"]), "raft_vsn": "3", "expect": str(rec.get("Expect", 0)),
                     "wan_join_port": str(rec.get("WanPort", 8302))})
    status = agent.member_status(rec["Name"])
    return {"Name": rec["Name"], "Addr": rec["Addr"], "Port": rec["SerfPort"], "Tags": tags,
            "Status": STATUS_CODE[status], "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2,
            "DelegateMin": 2, "DelegateMax": 5, "DelegateCur": 4}


class Api:
    """Routes: (method, regex) -> handler(match, query, body) -> (status, obj|bytes|str, index)."""

    def __init__(self, agent: Agent, reload_fn, leave_fn):
        self.agent = agent
        self.reload_fn = reload_fn
        self.leave_fn = leave_fn
        r = [
            ("GET", r"/v1/status/leader", self.status_leader),
            ("GET", r"/v1/status/peers", self.status_peers),
            ("GET", r"/v1/kv/(?P<key>.*)", self.kv_get),
            ("PUT", r"/v1/kv/(?P<key>.*)", self.kv_put),
            ("DELETE", r"/v1/kv/(?P<key>.*)", self.kv_delete),
            ("GET", r"/v1/agent/services", self.agent_services),
            ("GET", r"/v1/agent/service/(?P<id>(?!register$)[^/]+)", self.agent_service),
            ("PUT", r"/v1/agent/service/register", self.agent_register),
            ("PUT", r"/v1/agent/service/deregister/(?P<id>.+)", self.agent_deregister),
            ("GET", r"/v1/agent/checks", self.agent_checks),
            ("PUT", r"/v1/agent/check/(?P<verb>pass|warn|fail)/(?P<id>.+)", self.agent_ttl),
            ("PUT", r"/v1/agent/check/update/(?P<id>.+)", self.agent_ttl_update),
            ("GET", r"/v1/agent/self", self.agent_self),
            ("GET", r"/v1/agent/members", self.agent_members),
            ("PUT", r"/v1/agent/leave", self.agent_leave),
            ("PUT", r"/v1/agent/reload", self.agent_reload),
            ("PUT", r"/v1/agent/join/(?P<addr>.+)", self.agent_join),
            ("PUT", r"/v1/agent/force-leave/(?P<node>[^/]+)", self.agent_force_leave),
            ("GET", r"/v1/health/service/(?P<name>.+)", self.health_service),
            ("GET", r"/v1/health/checks/(?P<name>.+)", self.health_checks),
            ("GET", r"/v1/health/node/(?P<node>.+)", self.health_node),
            ("GET", r"/v1/catalog/services", self.catalog_services),
            ("GET", r"/v1/catalog/service/(?P<name>.+)", self.catalog_service),
            ("GET", r"/v1/catalog/nodes", self.catalog_nodes),
            ("GET", r"/v1/catalog/datacenters", lambda m, q, b: (200, [self.agent.dc], None)),
            ("GET", r"/", self.root),
            ("GET", r"/ui/?.*", self.ui),
        ]
        self.routes = [(meth, re.compile(pat + "$"), fn) for meth, pat, fn in r]

    def handle(self, method: str, path: str, query: dict, body: bytes):
        matched_path = False
        for meth, rx, fn in self.routes:
            m = rx.match(path)
            if not m:
                continue
            matched_path = True
            if meth == method or (method == "HEAD" and meth == "GET") or (method == "POST" and meth == "PUT"):
                return fn(m, query, body)
        if matched_path:
            raise HttpError(405, f"method {method} not allowed")
        raise HttpError(404, f"Invalid URL path: not a recognized HTTP API endpoint (metis-deploy consul stand-in): {path}")

    # -------------------------------------------------------------- status

    def status_leader(self, m, q, b):
        return 200, self.agent.leader() or "", None

    def status_peers(self, m, q, b):
        return 200, self.agent.peers(), None

    # -------------------------------------------------------------- kv

    def _kv(self, req: dict, q: dict):
        try:
            r = self.agent.kv_request(req, stale="stale" in q)
        except NoLeader:
            raise HttpError(500, "No cluster leader") from None
        if "error" in r:
            raise HttpError(r.get("status", 500), r["error"])
        return r

    def kv_get(self, m, q, b):
        key = m.group("key")
        r = self._kv({"verb": "get", "key": key, "recurse": "recurse" in q, "keys": "keys" in q,
                      "separator": q.get("separator", "")}, q)
        if r["status"] == 404:
            return 404, b"", r["index"]
        if "raw" in q and not ("recurse" in q or "keys" in q):
            value = r["result"][0]["Value"]
            return 200, base64.b64decode(value) if value else b"", r["index"]
        return 200, r["result"], r["index"]

    def kv_put(self, m, q, b):
        key = m.group("key")
        if not key:
            raise HttpError(400, "Missing key name")
        if "acquire" in q or "release" in q:
            raise HttpError(400, "sessions (acquire/release) are not supported by the consul stand-in")
        if len(b) > MAX_KV_VALUE:
            raise HttpError(413, f"Request body(-{len(b)} bytes) too large, max size: {MAX_KV_VALUE} bytes.")
        req = {"verb": "put", "key": key, "value": base64.b64encode(b).decode() if b else None,
               "flags": _int_param(q, "flags"), "cas": _int_param(q, "cas") if "cas" in q else None}
        return 200, self._kv(req, q)["result"], None

    def kv_delete(self, m, q, b):
        req = {"verb": "delete", "key": m.group("key"), "recurse": "recurse" in q,
               "cas": _int_param(q, "cas") if "cas" in q else None}
        return 200, self._kv(req, q)["result"], None

    # -------------------------------------------------------------- agent

    def agent_services(self, m, q, b):
        with self.agent.lock:
            return 200, {sid: dict(s) for sid, s in sorted(self.agent.services.items())}, None

    def agent_service(self, m, q, b):
        with self.agent.lock:
            s = self.agent.services.get(urllib.parse.unquote(m.group("id")))
            if s is None:
                raise HttpError(404, f"unknown service ID: {m.group('id')}")
            return 200, dict(s, ContentHash="standin"), None

    def agent_register(self, m, q, b):
        try:
            body = json.loads(b or b"null")
        except ValueError as e:
            raise HttpError(400, f"Request decode failed: {e}") from None
        try:
            self.agent.register(body)
        except chk.RequestError as e:
            raise HttpError(400, str(e)) from None
        return 200, b"", None

    def agent_deregister(self, m, q, b):
        sid = urllib.parse.unquote(m.group("id"))
        if not self.agent.deregister(sid):
            raise HttpError(404, f'Unknown service ID "{sid}". Ensure that the service ID is passed, not the service name.')
        return 200, b"", None

    def agent_checks(self, m, q, b):
        with self.agent.lock:
            return 200, {cid: chk.public_check(c, self.agent.name) for cid, c in sorted(self.agent.checks.items())}, None

    def agent_ttl(self, m, q, b):
        status = {"pass": "passing", "warn": "warning", "fail": "critical"}[m.group("verb")]
        if not self.agent.update_ttl(urllib.parse.unquote(m.group("id")), status, q.get("note", "")):
            raise HttpError(404, f'Unknown check ID "{m.group("id")}". Ensure that the check ID is passed, not the check name.')
        return 200, b"", None

    def agent_ttl_update(self, m, q, b):
        try:
            body = json.loads(b or b"{}")
        except ValueError as e:
            raise HttpError(400, f"Request decode failed: {e}") from None
        status = chk.ci(body, "Status") or ""
        if status not in ("passing", "warning", "critical"):
            raise HttpError(400, f"Invalid check status: '{status}'")
        if not self.agent.update_ttl(urllib.parse.unquote(m.group("id")), status, chk.ci(body, "Output") or ""):
            raise HttpError(404, f'Unknown check ID "{m.group("id")}".')
        return 200, b"", None

    def agent_self(self, m, q, b):
        a, c = self.agent, self.agent.cfg
        lead = a.leader()
        return 200, {
            "Config": {"Datacenter": a.dc, "NodeName": a.name, "NodeID": a.node_id, "Server": a.server,
                       "Revision": "standin", "Version": VERSION, "PrimaryDatacenter": a.dc,
                       "StandIn": "metis-deploy stand-in for HashiCorp Consul"},
            "DebugConfig": {
                "BindAddr": c["bind_addr"], "AdvertiseAddrLAN": a.addr, "ClientAddrs": c["client_addrs"],
                "DataDir": c["data_dir"], "Datacenter": a.dc, "NodeName": a.name, "ServerMode": a.server,
                "Bootstrap": c["bootstrap"], "BootstrapExpect": c["bootstrap_expect"],
                "RetryJoinLAN": c["retry_join"], "RetryJoinIntervalLAN": f"{c['retry_interval']:g}s",
                "StartJoinAddrsLAN": c["start_join"], "LeaveOnTerm": c["leave_on_terminate"],
                "HTTPPort": a.ports["http"], "DNSPort": a.ports["dns"], "GRPCPort": a.ports["grpc"],
                "SerfPortLAN": a.ports["serf_lan"], "SerfPortWAN": a.ports["serf_wan"],
                "ServerPort": a.ports["server"], "LogFile": c["log_file"], "LogLevel": c["log_level"],
                "UIConfig": {"Enabled": c["ui"]},
            },
            "Coord": None,
            "Member": _member_json(a, a.record()),
            "Stats": {
                "agent": {"check_monitors": "0", "checks": str(len(a.checks)), "services": str(len(a.services))},
                "consul": {"server": str(a.server).lower(), "leader": str(lead == a.server_addr).lower(),
                           "leader_addr": lead or "", "bootstrap": str(c["bootstrap"]).lower(),
                           "known_datacenters": "1"},
                "raft": {"num_peers": str(max(0, len(a.peers()) - 1)), "state": "Leader" if lead == a.server_addr else "Follower"},
                "build": {"version": VERSION, "revision": "standin", "prerelease": ""},
            },
            "Meta": {"consul-network-segment": ""},
        }, None

    def agent_members(self, m, q, b):
        return 200, [_member_json(self.agent, r) for r in self.agent.all_members()], None

    def agent_leave(self, m, q, b):
        threading.Thread(target=self.leave_fn, daemon=True).start()
        return 200, b"", None

    def agent_reload(self, m, q, b):
        err = self.reload_fn()
        if err:
            raise HttpError(500, f"Failed reloading config: {err}")
        return 200, b"", None

    def agent_join(self, m, q, b):
        addr = urllib.parse.unquote(m.group("addr"))
        try:
            host, port = self.agent._resolve_join(addr)
        except (ValueError, OSError) as e:
            raise HttpError(500, str(e)) from None
        self.agent._join_error = "no answer"
        if not self.agent._exchange(host, port, joining=True):
            raise HttpError(500, f"1 error occurred:\n\t* Failed to join {host}:{port}: {self.agent._join_error}\n\n")
        self.agent.joined = True
        return 200, b"", None

    def agent_force_leave(self, m, q, b):
        node = m.group("node")
        a = self.agent
        with a.lock:
            rec = a.members.get(node)
            if rec is None:
                raise HttpError(500, f"agent: No node found with name '{node}'")
            if not a.alive(node):
                a.members[node] = dict(rec, Status="left", Version=rec["Version"] + 1)
                a.index += 1
        a.save_state()
        a._sweep()
        return 200, b"", None

    # -------------------------------------------------------------- health and catalog

    def _passing_filter(self, entries, q):
        if "tag" in q:
            entries = [e for e in entries if q["tag"] in e["Service"]["Tags"]]
        if "passing" in q and q.get("passing", "") not in ("false", "0"):
            entries = [e for e in entries if all(c["Status"] == "passing" for c in e["Checks"])]
        return entries

    def health_service(self, m, q, b):
        name = urllib.parse.unquote(m.group("name"))
        return 200, self._passing_filter(self.agent.health_service(name), q), self.agent.index

    def health_checks(self, m, q, b):
        name = urllib.parse.unquote(m.group("name"))
        out = [c for e in self.agent.health_service(name) for c in e["Checks"] if c["ServiceID"]]
        return 200, out, self.agent.index

    def health_node(self, m, q, b):
        node = m.group("node")
        for rec, alive in self.agent.catalog_nodes():
            if rec["Name"] == node:
                own = sorted(rec.get("Checks", {}).values(), key=lambda c: c["CheckID"])
                return 200, [self.agent.serf_check(rec, alive)] + own, self.agent.index
        return 200, [], self.agent.index

    def catalog_services(self, m, q, b):
        return 200, self.agent.catalog_services(), self.agent.index

    def catalog_service(self, m, q, b):
        name = urllib.parse.unquote(m.group("name"))
        out = []
        for e in self._passing_filter(self.agent.health_service(name), {k: v for k, v in q.items() if k == "tag"}):
            n, s = e["Node"], e["Service"]
            out.append({"ID": n["ID"], "Node": n["Node"], "Address": n["Address"], "Datacenter": n["Datacenter"],
                        "TaggedAddresses": n["TaggedAddresses"], "NodeMeta": n["Meta"], "ServiceKind": "",
                        "ServiceID": s["ID"], "ServiceName": s["Service"], "ServiceTags": s["Tags"],
                        "ServiceAddress": s["Address"], "ServiceWeights": s["Weights"], "ServiceMeta": s["Meta"],
                        "ServicePort": s["Port"], "ServiceEnableTagOverride": s["EnableTagOverride"],
                        "CreateIndex": 1, "ModifyIndex": 1})
        return 200, out, self.agent.index

    def catalog_nodes(self, m, q, b):
        return 200, [self.agent.node_json(r) for r, _ in self.agent.catalog_nodes()], self.agent.index

    def root(self, m, q, b):
        return 301, "/ui/", None

    def ui(self, m, q, b):
        if not self.agent.cfg["ui"]:
            raise HttpError(404, "404 page not found")
        page = UI_PAGE.format(version=VERSION, node=self.agent.name, dc=self.agent.dc)
        return 200, page, None


def _int_param(q: dict, name: str) -> int:
    v = q.get(name, "0") or "0"
    try:
        return int(v)
    except ValueError:
        raise HttpError(400, f"Invalid {name}: {v!r}") from None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "consul-standin"
    sys_version = ""

    def log_message(self, fmt, *args):  # access log at debug level, as consul
        self.server.agent.log(logging.DEBUG, "agent.http", "Request finished", method=self.command,
                              url=self.path, from_=self.client_address[0])

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
                if len(out) > MAX_BODY:
                    raise HttpError(413, "request body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise HttpError(413, "request body too large")
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, payload, index, pretty: bool) -> None:
        ctype = "application/json"
        if isinstance(payload, bytes):
            data = payload
            ctype = "text/plain; charset=utf-8"
        elif status == 301:
            data = b""
        elif isinstance(payload, str) and payload.startswith("<!DOCTYPE"):
            data, ctype = payload.encode(), "text/html; charset=utf-8"
        else:
            data = (json.dumps(payload, indent=4) + "\n" if pretty else json.dumps(payload, separators=(",", ":"))).encode()
        self.send_response(status)
        if status == 301:
            self.send_header("Location", payload)
        self.send_header("Content-Type", ctype)
        self.send_header("Vary", "Accept-Encoding")
        if index is not None:
            self.send_header("X-Consul-Index", str(max(1, index)))
            self.send_header("X-Consul-Knownleader", "true" if self.server.agent.leader() else "false")
            self.send_header("X-Consul-Lastcontact", "0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _dispatch(self) -> None:
        u = urllib.parse.urlsplit(self.path)
        q = {k: (v[0] if v else "") for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        try:
            body = self._body()
            path = urllib.parse.unquote(u.path)
            status, payload, index = self.server.api.handle(self.command, path, q, body)
            # Blocking query: ?index=N waits (up to ?wait, at most 30 s here) for a newer index.
            if self.command == "GET" and index is not None and "index" in q:
                want = _int_param(q, "index")
                wait = 300.0
                if q.get("wait"):
                    try:
                        wait = parse_duration(q["wait"], "wait")
                    except ConfigError:
                        raise HttpError(400, f"Invalid wait time: {q['wait']}") from None
                deadline = time.monotonic() + min(wait, 30.0)
                while index <= want and time.monotonic() < deadline:
                    time.sleep(0.2)
                    status, payload, index = self.server.api.handle(self.command, path, q, body)
            self._send(status, payload, index, "pretty" in q)
        except HttpError as e:
            data = e.text.encode()
            self.send_response(e.status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    do_GET = do_PUT = do_DELETE = do_POST = do_HEAD = _dispatch


class HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start(agent: Agent, api: Api, host: str, port: int) -> HttpServer:
    try:
        srv = HttpServer((host, port), Handler)
    except OSError as e:
        raise OSError(e.errno, f"listen tcp {host}:{port}: bind: {e.strerror}") from None
    srv.agent, srv.api = agent, api
    threading.Thread(target=srv.serve_forever, daemon=True, name=f"http {host}:{port}").start()
    return srv
