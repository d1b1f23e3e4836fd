"""Consul STAND-IN: the agent. Not HashiCorp Consul: a small, deterministic imitation of what
the Metis deploy relies on.

- Membership ("serf"): every agent exchanges its full member table with every known member once
  a second over TCP on its serf_lan port (JSON lines); `retry_join` addresses are tried until one
  answers. A member not heard from directly for FAIL_AFTER seconds is `failed`; a member that
  leaves gracefully sends a `left` record.
- Raft stand-in: servers bootstrap once `bootstrap_expect` servers of the datacenter are alive
  (all expecting the same number). After that the raft peers are the servers that have not left;
  a leader exists while more than half of them are alive: the lowest address among the alive
  ones (deterministic). Bootstrap state and members survive restarts (data_dir).
- KV: reads and writes go to the leader over the server port (no leader: HTTP 500 "No cluster
  leader", as consul); the leader copies every write to the other servers at once, and every
  gossip exchange carries the store so a server that was away catches up.
- Services and checks are agent-local (the HTTP API registers on the agent it talks to); each
  agent publishes them with its member record, which makes the cluster-wide catalog and health
  views.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import threading
import time
import uuid

from standin import VERSION

from . import checks as chk

GOSSIP_INTERVAL = 1.0
FAIL_AFTER = 5.0
CONNECT_TIMEOUT = 0.5
RPC_TIMEOUT = 2.0
MAX_LINE = 16 << 20
STATUS_CODE = {"alive": 1, "leaving": 2, "left": 3, "failed": 4}


class NoLeader(Exception):
    pass


def addr_key(a: str):
    host, _, port = a.rpartition(":")
    try:
        parts = tuple(int(x) for x in host.split("."))
    except ValueError:
        parts = (999,)
    return parts, int(port or 0)


def rpc(host: str, port: int, msg: dict, timeout: float = RPC_TIMEOUT) -> dict:
    """One JSON-line request/answer over TCP. Raises OSError or ValueError."""
    with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT) as s:
        s.settimeout(timeout)
        s.sendall(json.dumps(msg).encode() + b"\n")
        f = s.makefile("rb")
        line = f.readline(MAX_LINE)
    if not line:
        raise OSError(f"{host}:{port} closed the connection without an answer")
    return json.loads(line)


class _LineHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        try:
            line = self.rfile.readline(MAX_LINE)
            if not line:
                return
            msg = json.loads(line)
            reply = self.server.dispatch(msg, self.client_address)
        except (ValueError, OSError) as e:
            reply = {"error": f"bad request: {e}"}
        try:
            self.wfile.write(json.dumps(reply).encode() + b"\n")
        except OSError:
            pass


class LineServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, dispatch):
        self.dispatch = dispatch
        super().__init__(addr, _LineHandler)


class Agent:
    def __init__(self, cfg: dict, log: logging.Logger):
        self.cfg = cfg
        self.logger = log
        self.lock = threading.RLock()
        self.stopped = threading.Event()
        self.done = threading.Event()
        self.wake = threading.Event()  # a local change to publish now, as consul syncs at once
        self.name = cfg["node_name"]
        self.dc = cfg["datacenter"]
        self.addr = cfg["advertise_addr"]
        self.server = cfg["server"]
        self.ports = cfg["ports"]
        self.server_addr = f"{self.addr}:{self.ports['server']}"
        self.incarnation = time.time_ns()
        self.version = 0
        self.status = "alive"
        self.members: dict[str, dict] = {}
        self.last_seen: dict[str, float] = {}
        self.reported: dict[str, str] = {}
        self.services: dict[str, dict] = {}
        self.checks: dict[str, dict] = {}
        self.registrations: dict[str, dict] = {}  # API registrations, persisted: id -> body
        self.config_service_ids: set[str] = set()
        self.kv: dict[str, dict] = {}
        self.kv_index = 0
        self.bootstrapped = False
        self.joined = not (cfg["retry_join"] or cfg["start_join"])
        self.join_attempts = 0
        self.next_join = 0.0
        self.leader_seen: str | None = None
        self.index = 1
        self.listeners: list = []
        self.node_id = self._node_id()
        self.exit_code = 0

    # ------------------------------------------------------------------ logging

    def log(self, level: int, sub: str, msg: str, **kv) -> None:
        extra = "".join(f" {k}={v}" for k, v in kv.items())
        self.logger.log(level, f"{sub}: {msg}{':' if extra else ''}{extra}")

    # ------------------------------------------------------------------ persistence

    def _path(self, name: str) -> str:
        return os.path.join(self.cfg["data_dir"], name)

    def _node_id(self) -> str:
        p = self._path("node-id")
        try:
            with open(p, encoding="ascii") as f:
                nid = f.read().strip()
            uuid.UUID(nid)
            return nid
        except (OSError, ValueError):
            nid = str(uuid.uuid4())
            with open(p, "w", encoding="ascii") as f:
                f.write(nid)
            return nid

    def _write_json(self, name: str, doc) -> None:
        p = self._path(name)
        tmp = p + ".tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(doc, f)
            os.replace(tmp, p)
        except OSError as e:
            self.log(logging.ERROR, "agent", "cannot write state", file=p, error=e)

    def load_state(self) -> None:
        for name in ("standin-state.json", "standin-services.json"):
            p = self._path(name)
            if not os.path.exists(p):
                continue
            try:
                with open(p, encoding="utf-8") as f:
                    doc = json.load(f)
            except (OSError, ValueError) as e:
                self.log(logging.WARNING, "agent", "ignoring unreadable state file", file=p, error=e)
                continue
            if name == "standin-state.json":
                self.bootstrapped = bool(doc.get("bootstrapped"))
                self.members = {n: r for n, r in doc.get("members", {}).items() if n != self.name}
                if self.server:
                    self.kv = doc.get("kv", {})
                    self.kv_index = int(doc.get("kv_index", 0))
            else:
                for sid, body in doc.get("services", {}).items():
                    try:
                        service, defs = chk.parse_service(body, self.dc)
                    except chk.RequestError as e:
                        self.log(logging.WARNING, "agent", "dropping a persisted service", service=sid, error=e)
                        continue
                    self._add_service(service, defs)
                    self.registrations[service["ID"]] = body
                    self.log(logging.INFO, "agent", "restored service definition", service=sid)

    def save_state(self) -> None:
        with self.lock:
            doc = {"bootstrapped": self.bootstrapped, "members": self.members,
                   "kv": self.kv, "kv_index": self.kv_index}
        self._write_json("standin-state.json", doc)

    def save_services(self) -> None:
        with self.lock:
            doc = {"services": dict(self.registrations)}
        self._write_json("standin-services.json", doc)

    # ------------------------------------------------------------------ member records

    def _touch(self) -> None:
        self.version += 1
        self.index += 1

    def record(self) -> dict:
        with self.lock:
            return {
                "Name": self.name, "Addr": self.addr, "SerfPort": self.ports["serf_lan"],
                "ServerPort": self.ports["server"], "WanPort": self.ports["serf_wan"],
                "Datacenter": self.dc, "Server": self.server, "Expect": self.cfg["bootstrap_expect"],
                "Bootstrapped": self.bootstrapped, "Incarnation": self.incarnation,
                "Version": self.version, "Status": self.status, "Build": VERSION,
                "NodeID": self.node_id, "Meta": self.cfg["node_meta"],
                "Services": {sid: dict(s) for sid, s in self.services.items()},
                "Checks": {cid: chk.public_check(c, self.name) for cid, c in self.checks.items()},
            }

    def alive(self, name: str) -> bool:
        if name == self.name:
            return self.status == "alive"
        t = self.last_seen.get(name)
        return t is not None and time.monotonic() - t < FAIL_AFTER

    def member_status(self, name: str) -> str:
        if name == self.name:
            return self.status
        rec = self.members.get(name)
        if rec is None or rec["Status"] == "left":
            return "left"
        return "alive" if self.alive(name) else "failed"

    def all_members(self) -> list[dict]:
        with self.lock:
            return [self.record()] + [self.members[n] for n in sorted(self.members)]

    def merge(self, records: list, sender: str | None) -> None:
        changed = False
        with self.lock:
            if sender and sender != self.name:
                self.last_seen[sender] = time.monotonic()
                if not self.joined:
                    self.joined = True
            for rec in records:
                if not isinstance(rec, dict) or rec.get("Datacenter") != self.dc:
                    continue
                n = rec.get("Name")
                if n == self.name:
                    # Someone says this agent left or is older: refute with a newer version.
                    if (rec.get("Incarnation") == self.incarnation and rec.get("Version", 0) >= self.version
                            and rec.get("Status") != self.status and self.status == "alive"):
                        self.version = rec["Version"] + 1
                    continue
                cur = self.members.get(n)
                if cur is None or (rec["Incarnation"], rec["Version"]) > (cur["Incarnation"], cur["Version"]):
                    if cur is None or cur.get("Status") != rec.get("Status") or cur.get("Addr") != rec.get("Addr"):
                        changed = True
                    self.members[n] = rec
                    self.index += 1
        if changed:
            self.save_state()

    # ------------------------------------------------------------------ raft stand-in

    def _servers(self) -> list[dict]:
        recs = [self.record()] if self.server and self.status != "left" else []
        recs += [r for r in self.members.values() if r.get("Server") and r["Status"] != "left"]
        return recs

    def _bootstrapped_view(self) -> bool:
        if self.server:
            return self.bootstrapped
        return any(r.get("Bootstrapped") for r in self._servers())

    def evaluate_bootstrap(self) -> None:
        with self.lock:
            if not self.server or self.bootstrapped or self.status != "alive":
                return
            alive = [r for r in self._servers() if self.alive(r["Name"])]
            if any(r.get("Bootstrapped") for r in alive if r["Name"] != self.name):
                self.bootstrapped = True
                self._touch()
                self.log(logging.INFO, "agent.server", "joining an existing raft cluster",
                         peers=",".join(sorted(f"{r['Addr']}:{r['ServerPort']}" for r in alive)))
            elif self.cfg["bootstrap"]:
                self.bootstrapped = True
                self._touch()
                self.log(logging.INFO, "agent.server", "bootstrap = true: electing this server")
            else:
                expect = self.cfg["bootstrap_expect"]
                if not expect or len(alive) < expect:
                    return
                conflicting = [r["Name"] for r in alive if r.get("Expect") not in (0, expect)]
                if conflicting:
                    self.log(logging.ERROR, "agent.server",
                             "Member has a conflicting expect value. All nodes should expect the same number.",
                             members=",".join(conflicting))
                    return
                self.bootstrapped = True
                self._touch()
                self.log(logging.INFO, "agent.server", "Found expected number of peers, attempting bootstrap",
                         peers=",".join(sorted((f"{r['Addr']}:{r['ServerPort']}" for r in alive), key=addr_key)))
        self.save_state()

    def peers(self) -> list[str]:
        with self.lock:
            if not self._bootstrapped_view():
                return []
            return sorted({f"{r['Addr']}:{r['ServerPort']}" for r in self._servers()}, key=addr_key)

    def leader(self) -> str | None:
        with self.lock:
            if not self._bootstrapped_view():
                return None
            servers = self._servers()
            alive = [f"{r['Addr']}:{r['ServerPort']}" for r in servers if self.alive(r["Name"])]
            if not servers or len(alive) * 2 <= len(servers):
                return None
            return min(alive, key=addr_key)

    def _log_leader(self) -> None:
        with self.lock:
            lead = self.leader()
            if lead == self.leader_seen:
                return
            self.leader_seen = lead
            if lead is None:
                self.log(logging.ERROR, "agent", "No cluster leader")
            elif lead == self.server_addr and self.server:
                self.log(logging.INFO, "agent.server.raft", "entering leader state", leader=lead)
                self.log(logging.INFO, "agent.server", "cluster leadership acquired")
            else:
                self.log(logging.INFO, "agent", "New leader elected", payload=lead)

    # ------------------------------------------------------------------ gossip

    def _payload(self, op: str) -> dict:
        with self.lock:
            msg = {"op": op, "from": self.name, "dc": self.dc, "members": self.all_members()}
            if self.server:
                msg["kv_index"] = self.kv_index
                msg["kv"] = self.kv
            return msg

    def _apply_kv(self, msg: dict) -> None:
        if not self.server or not isinstance(msg.get("kv"), dict):
            return
        with self.lock:
            if int(msg.get("kv_index", 0)) <= self.kv_index:
                return
            self.kv = msg["kv"]
            self.kv_index = int(msg["kv_index"])
        self.save_state()

    def dispatch_serf(self, msg: dict, client) -> dict:
        op = msg.get("op")
        if msg.get("dc") != self.dc:
            return {"error": f"Member '{msg.get('from')}' part of wrong datacenter '{msg.get('dc')}' (this is '{self.dc}')"}
        if self.status != "alive":
            return {"error": "agent is leaving"}
        if op == "pushpull":
            self.merge(msg.get("members", []), msg.get("from"))
            self._apply_kv(msg)
            self._sweep()
            return self._payload("pushpull")
        if op == "leave":
            self.merge([msg.get("record")], None)
            self._sweep()
            return {"ok": True}
        return {"error": f"unknown operation {op!r}"}

    def _exchange(self, host: str, port: int, joining: bool = False) -> str | None:
        """Push-pull with one member; returns its name, or None."""
        try:
            reply = rpc(host, port, self._payload("pushpull"), timeout=RPC_TIMEOUT)
        except (OSError, ValueError) as e:
            if joining:
                self._join_error = f"dial tcp {host}:{port}: {getattr(e, 'strerror', None) or e}"
            return None
        if "error" in reply:
            if joining:
                self._join_error = reply["error"]
            self.log(logging.WARNING, "agent.server.serf.lan", "push-pull refused", member=f"{host}:{port}",
                     error=reply["error"])
            return None
        sender = reply.get("from")
        if sender == self.name:
            return None
        self.merge(reply.get("members", []), sender)
        self._apply_kv(reply)
        return sender

    def _resolve_join(self, a: str) -> tuple[str, int]:
        if a.startswith("provider="):
            raise ValueError(f"cloud auto-join ({a}) is not supported by the consul stand-in")
        if a.startswith("["):
            host, _, rest = a[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else 8301
        elif a.count(":") == 1:
            host, p = a.split(":")
            port = int(p)
        else:
            port = 8301
        return socket.gethostbyname(host), port

    def _join_round(self) -> None:
        now = time.monotonic()
        if self.joined or now < self.next_join:
            return
        self.join_attempts += 1
        self._join_error = "no address answered"
        ok = 0
        for a in self.cfg["retry_join"] + self.cfg["start_join"]:
            try:
                host, port = self._resolve_join(a)
            except (ValueError, OSError) as e:
                self._join_error = f"{a}: {e}"
                continue
            if (host, port) == (self.addr, self.ports["serf_lan"]):
                continue
            if self._exchange(host, port, joining=True):
                ok += 1
        if ok:
            self.joined = True
            self.log(logging.INFO, "agent", "Join cluster completed. Synced with initial agents",
                     cluster="LAN", num_agents=ok)
            return
        if self.joined:
            return
        interval = self.cfg["retry_interval"]
        if self.cfg["retry_max"] and self.join_attempts >= self.cfg["retry_max"]:
            self.log(logging.ERROR, "agent", "max join retry exhausted, exiting")
            self.exit_code = 1
            threading.Thread(target=self.shutdown, args=(False,), daemon=True).start()
            return
        self.next_join = now + interval
        self.log(logging.WARNING, "agent", "Join cluster failed, will retry", cluster="LAN",
                 retry_interval=f"{interval:g}s", error=self._join_error)

    def _sweep(self) -> None:
        """Logs member state changes (serf events) and leadership changes."""
        with self.lock:
            for n in sorted(self.members):
                st = self.member_status(n)
                prev = self.reported.get(n)
                if st == prev:
                    continue
                self.reported[n] = st
                rec = self.members[n]
                if st == "alive":
                    self.log(logging.INFO, "agent.server.serf.lan", f"serf: EventMemberJoin: {n} {rec['Addr']}")
                elif st == "failed" and prev is not None:
                    self.log(logging.INFO, "agent.server.serf.lan", f"serf: EventMemberFailed: {n} {rec['Addr']}")
                elif st == "left" and prev is not None:
                    self.log(logging.INFO, "agent.server.serf.lan", f"serf: EventMemberLeave: {n} {rec['Addr']}")
                self.index += 1
        self.evaluate_bootstrap()
        self._log_leader()

    def gossip_loop(self) -> None:
        while not self.stopped.is_set():
            self.wake.clear()
            if self.status == "alive":
                self._gossip_round()
            self.wake.wait(GOSSIP_INTERVAL)

    def _gossip_round(self) -> None:
        self._join_round()
        with self.lock:
            targets = [(r["Addr"], r["SerfPort"]) for n, r in self.members.items() if r["Status"] != "left"]
        threads = [threading.Thread(target=self._exchange, args=t, daemon=True) for t in targets]
        for t in threads:
            t.start()
        for t in threads:
            t.join(RPC_TIMEOUT + CONNECT_TIMEOUT)
        self._sweep()

    # ------------------------------------------------------------------ server RPC (KV)

    def dispatch_server(self, msg: dict, client) -> dict:
        op = msg.get("op")
        if op == "kv":
            try:
                return self.kv_request(msg.get("req", {}), hops=int(msg.get("hops", 0)))
            except NoLeader:
                return {"status": 500, "error": "No cluster leader"}
        if op == "replicate":
            self._apply_kv(msg)
            return {"ok": True}
        if op == "ping":
            return {"ok": True, "name": self.name}
        return {"error": f"unknown operation {op!r}"}

    def kv_request(self, req: dict, hops: int = 0, stale: bool = False) -> dict:
        lead = self.leader()
        local = (self.server and (lead == self.server_addr or (stale and req.get("verb") == "get")))
        if local:
            return self._kv_apply(req)
        if lead is None or hops > 1:
            raise NoLeader()
        host, _, port = lead.rpartition(":")
        try:
            return rpc(host, int(port), {"op": "kv", "req": req, "hops": hops + 1})
        except (OSError, ValueError) as e:
            self.log(logging.ERROR, "agent", "RPC to the leader failed", leader=lead, error=e)
            raise NoLeader() from None

    def _kv_apply(self, req: dict) -> dict:
        verb, key = req.get("verb"), req.get("key", "")
        with self.lock:
            if verb == "get":
                if req.get("keys"):
                    sep = req.get("separator") or ""
                    keys = set()
                    for k in self.kv:
                        if k.startswith(key):
                            rest = k[len(key):]
                            if sep and sep in rest:
                                k = key + rest[: rest.index(sep) + len(sep)]
                            keys.add(k)
                    found = sorted(keys)
                    return {"status": 200 if found else 404, "result": found, "index": self.kv_index}
                if req.get("recurse"):
                    found = [self.kv[k] for k in sorted(self.kv) if k.startswith(key)]
                    return {"status": 200 if found else 404, "result": found, "index": self.kv_index}
                e = self.kv.get(key)
                return {"status": 200 if e else 404, "result": [e] if e else [], "index": self.kv_index}
            cas = req.get("cas")
            existing = self.kv.get(key)
            if cas is not None:
                if (cas == 0 and existing) or (cas != 0 and (not existing or existing["ModifyIndex"] != cas)):
                    return {"status": 200, "result": False, "index": self.kv_index}
            if verb == "put":
                self.kv_index += 1
                self.kv[key] = {
                    "LockIndex": 0, "Key": key, "Flags": int(req.get("flags") or 0),
                    "Value": req.get("value"),
                    "CreateIndex": existing["CreateIndex"] if existing else self.kv_index,
                    "ModifyIndex": self.kv_index,
                }
            elif verb == "delete":
                gone = [k for k in self.kv if (k.startswith(key) if req.get("recurse") else k == key)]
                self.kv_index += 1
                for k in gone:
                    del self.kv[k]
            else:
                return {"status": 400, "error": f"unknown KV operation {verb!r}"}
            snapshot = {"op": "replicate", "kv": dict(self.kv), "kv_index": self.kv_index}
            peers = [(r["Addr"], r["ServerPort"]) for r in self.members.values()
                     if r.get("Server") and r["Status"] != "left" and self.alive(r["Name"])]
            index = self.kv_index
        self.save_state()
        for host, port in peers:
            try:
                rpc(host, port, snapshot, timeout=1.0)
            except (OSError, ValueError):
                pass
        return {"status": 200, "result": True, "index": index}

    # ------------------------------------------------------------------ services and checks

    def _add_service(self, service: dict, defs: list[dict]) -> None:
        sid = service["ID"]
        for cid in [cid for cid, c in self.checks.items() if c["ServiceID"] == sid]:
            del self.checks[cid]
        self.services[sid] = service
        for c in defs:
            self.checks[c["CheckID"]] = c
        self._touch()
        self.wake.set()

    def register(self, body: dict, persist: bool = True) -> dict:
        service, defs = chk.parse_service(body, self.dc)
        with self.lock:
            self._add_service(service, defs)
            if persist:
                self.registrations[service["ID"]] = body
        if persist:
            self.save_services()
        self.log(logging.INFO, "agent", "Synced service", service=service["ID"])
        return service

    def deregister(self, sid: str) -> bool:
        with self.lock:
            if sid not in self.services:
                return False
            del self.services[sid]
            for cid in [cid for cid, c in self.checks.items() if c["ServiceID"] == sid]:
                del self.checks[cid]
            self.registrations.pop(sid, None)
            self.config_service_ids.discard(sid)
            self._touch()
            self.wake.set()
        self.save_services()
        self.log(logging.INFO, "agent", "Deregistered service", service=sid)
        return True

    def sync_config_services(self, defs: list[dict]) -> None:
        """Registers the services of the config files (replacing those of an earlier load)."""
        new_ids = set()
        for body in defs:
            try:
                s = self.register(body, persist=False)
                new_ids.add(s["ID"])
            except chk.RequestError as e:
                self.log(logging.ERROR, "agent", "invalid service definition in the configuration", error=e)
        for sid in self.config_service_ids - new_ids:
            self.deregister(sid)
        self.config_service_ids = new_ids

    def _set_status(self, c: dict, status: str, output: str) -> None:
        if c["Status"] != status:
            level = logging.WARNING if status != "passing" else logging.INFO
            word = {"passing": "Synced check", "warning": "Check is now warning", "critical": "Check is now critical"}
            self.log(level, "agent", word[status], check=c["CheckID"])
            c["_critical_since"] = time.monotonic() if status == "critical" else None
            self.wake.set()
        if c["Status"] != status or c["Output"] != output:
            c["Status"], c["Output"] = status, output
            self._touch()

    def update_ttl(self, cid: str, status: str, output: str) -> bool:
        with self.lock:
            c = self.checks.get(cid)
            if c is None or c["Type"] != "ttl":
                return False
            c["_ttl_deadline"] = time.monotonic() + c["_ttl"]
            self._set_status(c, status, output)
            return True

    def _run_one(self, c: dict) -> None:
        status, output = chk.run_check(c)
        with self.lock:
            c["_running"] = False
            c["_next"] = time.monotonic() + c["_interval"]
            if self.checks.get(c["CheckID"]) is c:
                self._set_status(c, status, output)

    def check_loop(self) -> None:
        while not self.stopped.wait(0.1):
            now = time.monotonic()
            due, reap = [], []
            with self.lock:
                for c in self.checks.values():
                    if c["Type"] == "ttl":
                        if c["_ttl_deadline"] and now > c["_ttl_deadline"] and c["Status"] != "critical":
                            self._set_status(c, "critical", "TTL expired")
                    elif not c["_running"] and c["_next"] <= now:
                        c["_running"] = True
                        due.append(c)
                    since = c["_critical_since"]
                    if c["_deregister_after"] and c["Status"] == "critical" and since is not None \
                            and now - since > c["_deregister_after"] and c["ServiceID"]:
                        reap.append((c["ServiceID"], c["CheckID"]))
            for c in due:
                threading.Thread(target=self._run_one, args=(c,), daemon=True).start()
            for sid, cid in reap:
                if self.deregister(sid):
                    self.log(logging.INFO, "agent",
                             "Check for service has been critical for too long; deregistered service",
                             service=sid, check=cid)

    # ------------------------------------------------------------------ catalog views

    def catalog_nodes(self) -> list[tuple[dict, bool]]:
        """(record, alive) of every member that has not left, sorted by node name."""
        with self.lock:
            recs = [self.record()] + [r for r in self.members.values() if r["Status"] != "left"]
            return sorted(((r, self.alive(r["Name"])) for r in recs), key=lambda x: x[0]["Name"])

    @staticmethod
    def node_json(rec: dict) -> dict:
        a = rec["Addr"]
        return {"ID": rec.get("NodeID", ""), "Node": rec["Name"], "Address": a, "Datacenter": rec["Datacenter"],
                "TaggedAddresses": {"lan": a, "lan_ipv4": a, "wan": a, "wan_ipv4": a},
                "Meta": dict(rec.get("Meta") or {}, **{"consul-network-segment": ""}),
                "CreateIndex": 1, "ModifyIndex": 1}

    @staticmethod
    def serf_check(rec: dict, alive: bool) -> dict:
        return {"Node": rec["Name"], "CheckID": "serfHealth", "Name": "Serf Health Status",
                "Status": "passing" if alive else "critical", "Notes": "",
                "Output": "Agent alive and reachable" if alive else "Agent not live or unreachable",
                "ServiceID": "", "ServiceName": "", "ServiceTags": [], "Type": "", "Definition": {},
                "CreateIndex": 1, "ModifyIndex": 1}

    @staticmethod
    def consul_service(rec: dict) -> dict:
        return {"ID": "consul", "Service": "consul", "Tags": [], "Address": "", "Meta": {"raft_version": "3",
                "serf_protocol_current": "2", "serf_protocol_max": "5", "serf_protocol_min": "1", "version": rec["Build"]},
                "Port": rec["ServerPort"], "Weights": {"Passing": 1, "Warning": 1}, "EnableTagOverride": False,
                "Datacenter": rec["Datacenter"]}

    def node_services(self, rec: dict) -> list[dict]:
        out = [self.consul_service(rec)] if rec.get("Server") else []
        return out + [rec["Services"][k] for k in sorted(rec.get("Services", {}))]

    def health_service(self, name: str) -> list[dict]:
        entries = []
        for rec, alive in self.catalog_nodes():
            for svc in self.node_services(rec):
                if svc["Service"] != name:
                    continue
                own = [c for c in rec.get("Checks", {}).values() if c["ServiceID"] == svc["ID"]]
                s = dict(svc)
                s.pop("Datacenter", None)
                s.update({"CreateIndex": 1, "ModifyIndex": 1})
                entries.append({"Node": self.node_json(rec), "Service": s,
                                "Checks": [self.serf_check(rec, alive)] + sorted(own, key=lambda c: c["CheckID"])})
        return entries

    def catalog_services(self) -> dict:
        out: dict[str, set] = {}
        for rec, _alive in self.catalog_nodes():
            for svc in self.node_services(rec):
                out.setdefault(svc["Service"], set()).update(svc["Tags"])
        return {k: sorted(v) for k, v in sorted(out.items())}

    # ------------------------------------------------------------------ lifecycle

    def bind(self) -> None:
        """Opens every listener; raises OSError naming the address that failed."""
        a = self.cfg["bind_addr"]

        def tcp_line(port, dispatch):
            try:
                srv = LineServer((a, port), dispatch)
            except OSError as e:
                raise OSError(e.errno, f"listen tcp {a}:{port}: bind: {e.strerror}") from None
            self.listeners.append(_start(srv, f"{a}:{port}"))

        def udp_sink(host, port):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            _bind(s, host, port, "udp")
            self.listeners.append(s)
            threading.Thread(target=_drain_udp, args=(s,), daemon=True).start()

        tcp_line(self.ports["serf_lan"], self.dispatch_serf)
        udp_sink(a, self.ports["serf_lan"])
        if self.server:
            tcp_line(self.ports["server"], self.dispatch_server)
            if self.ports["serf_wan"] > 0:
                tcp_line(self.ports["serf_wan"], lambda m, c: {"error": "WAN federation is not supported by the consul stand-in"})
                udp_sink(a, self.ports["serf_wan"])

    def start(self) -> None:
        self.load_state()
        self.sync_config_services(self.cfg["services"])
        for target in (self.gossip_loop, self.check_loop):
            threading.Thread(target=target, daemon=True, name=target.__name__).start()

    def shutdown(self, leave: bool) -> None:
        with self.lock:
            if self.stopped.is_set() or self.status == "left":
                return
            if leave:
                self.status = "left"
                self._touch()
        if leave:
            self.log(logging.INFO, "agent", "Gracefully shutting down agent...")
            rec = self.record()
            with self.lock:
                targets = [(r["Addr"], r["SerfPort"]) for n, r in self.members.items() if self.alive(n)]
            for host, port in targets:
                try:
                    rpc(host, port, {"op": "leave", "dc": self.dc, "from": self.name, "record": rec}, timeout=1.0)
                except (OSError, ValueError):
                    pass
            self.log(logging.INFO, "agent", "Graceful leave complete")
        self.stopped.set()
        self.wake.set()
        for srv in self.listeners:
            try:
                if isinstance(srv, socket.socket):
                    srv.close()
                else:
                    srv.shutdown()
                    srv.server_close()
            except OSError:
                pass
        self.save_state()
        self.log(logging.INFO, "agent", "shutdown complete")
        self.done.set()


def _bind(s: socket.socket, host: str, port: int, proto: str) -> None:
    try:
        s.bind((host, port))
    except OSError as e:
        s.close()
        raise OSError(e.errno, f"listen {proto} {host}:{port}: bind: {e.strerror}") from None


def _start(srv, what: str):
    threading.Thread(target=srv.serve_forever, daemon=True, name=what).start()
    return srv


def _drain_udp(s: socket.socket) -> None:
    while True:
        try:
            s.recvfrom(65536)
        except OSError:
            return
