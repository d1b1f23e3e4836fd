"""Consul STAND-IN: command line (`consul agent|validate|version|members|leave|join|reload|kv`)."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse

from standin import VERSION, h2

from . import api as api_mod
from . import config as cfgmod
from .agent import Agent

USAGE = f"""Usage: consul [--version] [--help] <command> [<args>]

This is the metis-deploy STAND-IN for HashiCorp Consul (version {VERSION}), not Consul itself.
It implements the part of Consul that a Metis organisation node relies on.

Available commands are:
    agent          Runs a Consul agent
    join           Tell Consul agent to join cluster
    kv             Interact with the key-value store (get, put, delete)
    leave          Gracefully leaves the Consul cluster and shuts down
    members        Lists the members of a Consul cluster
    reload         Triggers the agent to reload configuration files
    validate       Validate config files/directories
    version        Prints the Consul version
"""

AGENT_FLAGS = {
    "config-file": "list", "config-dir": "list", "config-format": "str", "data-dir": "str",
    "node": "str", "datacenter": "str", "bind": "str", "advertise": "str", "client": "str",
    "server": "bool", "bootstrap": "bool", "bootstrap-expect": "int", "retry-join": "list",
    "join": "list", "retry-interval": "str", "retry-max": "int", "log-file": "str",
    "log-level": "str", "http-port": "int", "dns-port": "int", "serf-lan-port": "int",
    "serf-wan-port": "int", "server-port": "int", "grpc-port": "int", "ui": "bool", "dev": "bool",
    "node-id": "str", "encrypt": "str",
}
HTTP_FLAGS = {"http-addr": "str", "token": "str", "datacenter": "str", "stale": "bool"}


class UsageError(Exception):
    pass


def parse_flags(args: list[str], spec: dict) -> tuple[dict, list[str]]:
    """Go `flag` syntax: -name value, -name=value, --name, bool flags without a value;
    stops at the first non-flag argument or `--`."""
    out: dict = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return out, args[i + 1:]
        if not a.startswith("-") or a == "-":
            return out, args[i:]
        name, eq, value = a.lstrip("-").partition("=")
        if name in ("h", "help"):
            raise UsageError("help")
        kind = spec.get(name)
        if kind is None:
            raise UsageError(f"flag provided but not defined: -{name}")
        if kind == "bool":
            val = value.lower() not in ("false", "0") if eq else True
        else:
            if not eq:
                i += 1
                if i >= len(args):
                    raise UsageError(f"flag needs an argument: -{name}")
                value = args[i]
            val = value
            if kind == "int":
                try:
                    val = int(value)
                except ValueError:
                    raise UsageError(f'invalid value "{value}" for flag -{name}: parse error') from None
        if kind == "list":
            out.setdefault(name, []).append(val)
        else:
            out[name] = val
        i += 1
    return out, []


def _flag_overrides(f: dict) -> dict:
    o: dict = {}
    simple = {"data-dir": "data_dir", "node": "node_name", "datacenter": "datacenter", "bind": "bind_addr",
              "advertise": "advertise_addr", "client": "client_addr", "server": "server",
              "bootstrap": "bootstrap", "bootstrap-expect": "bootstrap_expect", "retry-join": "retry_join",
              "join": "start_join", "retry-interval": "retry_interval", "retry-max": "retry_max",
              "log-file": "log_file", "log-level": "log_level", "ui": "ui", "node-id": "node_id",
              "encrypt": "encrypt"}
    for flag, key in simple.items():
        if flag in f:
            o[key] = f[flag]
    ports = {"http-port": "http", "dns-port": "dns", "serf-lan-port": "serf_lan", "serf-wan-port": "serf_wan",
             "server-port": "server", "grpc-port": "grpc"}
    for flag, key in ports.items():
        if flag in f:
            o.setdefault("ports", {})[key] = f[flag]
    return o


class _Formatter(logging.Formatter):
    LEVELS = {logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARN", logging.ERROR: "ERROR", 5: "TRACE"}

    def format(self, record: logging.LogRecord) -> str:
        t = time.gmtime(record.created)
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{int(record.msecs):03d}Z"
        lvl = f"[{self.LEVELS.get(record.levelno, record.levelname)}]"
        return f"{ts} {lvl:<7} {record.getMessage()}"


LEVEL_NUM = {"TRACE": 5, "DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING, "ERR": logging.ERROR}


def _logger(cfg: dict) -> logging.Logger:
    log = logging.getLogger("consul-standin")
    log.handlers.clear()
    log.propagate = False
    log.setLevel(LEVEL_NUM[cfg["log_level"]])
    h = logging.StreamHandler(sys.stdout)
    h.setFormatter(_Formatter())
    log.addHandler(h)
    path = cfg["log_file"]
    if path:
        if path.endswith("/"):
            path += "consul.log"
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fh = logging.FileHandler(path, encoding="utf-8")
        fh.setFormatter(_Formatter())
        log.addHandler(fh)
    return log


def _dns_answer(query: bytes) -> bytes:
    """Answers every DNS query with NOTIMP (the stand-in has no DNS interface)."""
    if len(query) < 12:
        return b""
    flags = 0x8000 | (query[2] & 0x79) << 8 | 4  # QR, opcode and RD copied, RCODE=NOTIMP
    return query[:2] + flags.to_bytes(2, "big") + query[4:6] + b"\0\0\0\0\0\0" + query[12:]


def _dns_udp(sock: socket.socket) -> None:
    while True:
        try:
            data, peer = sock.recvfrom(4096)
            sock.sendto(_dns_answer(data), peer)
        except OSError:
            return


def cmd_agent(args: list[str]) -> int:
    try:
        f, rest = parse_flags(args, AGENT_FLAGS)
    except UsageError as e:
        print(str(e) if str(e) != "help" else "Usage: consul agent [options] (metis-deploy stand-in)", file=sys.stderr)
        return 1
    if rest:
        print(f"==> Unexpected extra arguments: {rest}", file=sys.stderr)
        return 1
    if f.get("dev"):
        print("==> -dev is not supported by the consul stand-in: give a configuration", file=sys.stderr)
        return 1
    if f.get("config-format", "json") != "json":
        print("==> the consul stand-in reads JSON configuration only", file=sys.stderr)
        return 1
    files, dirs, overrides = f.get("config-file", []), f.get("config-dir", []), _flag_overrides(f)
    try:
        cfg = cfgmod.build(cfgmod.load(files, dirs, overrides))
        os.makedirs(cfg["data_dir"], exist_ok=True)
        log = _logger(cfg)
    except cfgmod.ConfigError as e:
        print(f"==> {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"==> Error starting agent: {e}", file=sys.stderr)
        return 1

    agent = Agent(cfg, log)
    p = cfg["ports"]
    print("==> Starting Consul agent...")
    banner = [
        ("Version", f"'{VERSION}' (metis-deploy stand-in, not HashiCorp Consul)"),
        ("Node ID", f"'{agent.node_id}'"),
        ("Node name", f"'{agent.name}'"),
        ("Datacenter", f"'{agent.dc}' (Segment: '<all>')"),
        ("Server", f"{str(agent.server).lower()} (Bootstrap: {str(cfg['bootstrap']).lower()})"),
        ("Client Addr", f"[{' '.join(cfg['client_addrs'])}] (HTTP: {p['http']}, HTTPS: {p['https']}, gRPC: {p['grpc']}, DNS: {p['dns']})"),
        ("Cluster Addr", f"{agent.addr} (LAN: {p['serf_lan']}, WAN: {p['serf_wan']})"),
    ]
    for k, v in banner:
        print(f"{k:>18}: {v}")
    print("\n==> Log data will now stream in as it occurs:\n", flush=True)
    agent.log(logging.INFO, "agent", "consul stand-in starting (metis-deploy stand-in, not HashiCorp Consul)",
              version=VERSION, node=agent.name, datacenter=agent.dc, server=str(agent.server).lower())
    for key in cfg["ignored"]:
        agent.log(logging.WARNING, "agent", "configuration key accepted but not implemented by the stand-in", key=key)
    if cfg["server"] and cfg["bootstrap_expect"] and cfg["bootstrap_expect"] % 2 == 0:
        agent.log(logging.WARNING, "agent", "bootstrap_expect is even: raft needs an odd number of servers",
                  bootstrap_expect=cfg["bootstrap_expect"])

    def reload() -> str | None:
        agent.log(logging.INFO, "agent", "Reloading configuration...")
        try:
            new = cfgmod.build(cfgmod.load(files, dirs, overrides))
        except cfgmod.ConfigError as e:
            agent.log(logging.ERROR, "agent", "Failed to reload configs", error=str(e).strip())
            return str(e).strip()
        log.setLevel(LEVEL_NUM[new["log_level"]])
        agent.cfg["log_level"] = new["log_level"]
        agent.cfg["services"] = new["services"]
        agent.sync_config_services(new["services"])
        agent.log(logging.INFO, "agent", "configuration reloaded", log_level=new["log_level"])
        return None

    def leave_and_stop(leave: bool = True) -> None:
        agent.shutdown(leave)

    try:
        agent.bind()
        the_api = api_mod.Api(agent, reload, leave_and_stop)
        if p["http"] > 0:
            for host in cfg["http_addrs"]:
                agent.listeners.append(api_mod.start(agent, the_api, host, p["http"]))
        if p["dns"] > 0:
            for host in cfg["dns_addrs"]:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    s.bind((host, p["dns"]))
                except OSError as e:
                    raise OSError(e.errno, f"listen udp {host}:{p['dns']}: bind: {e.strerror}") from None
                agent.listeners.append(s)
                threading.Thread(target=_dns_udp, args=(s,), daemon=True).start()
        if p["grpc"] > 0:
            for host in cfg["grpc_addrs"]:
                agent.listeners.append(h2.start_server(host, p["grpc"], "consul stand-in gRPC"))
    except OSError as e:
        agent.log(logging.ERROR, "agent", "Error starting agent", error=e.strerror or e)
        agent.shutdown(False)
        return 1

    agent.start()
    agent.log(logging.INFO, "agent", "started state syncer")
    agent.log(logging.INFO, "agent", "Consul agent running!")
    if cfg["retry_join"] or cfg["start_join"]:
        agent.log(logging.INFO, "agent", "Joining cluster...", cluster="LAN")

    def on_term(signum, frame):
        agent.log(logging.INFO, "agent", f"Caught signal: {signal.Signals(signum).name}")
        leave = agent.cfg["leave_on_terminate"]
        threading.Thread(target=leave_and_stop, args=(leave,), daemon=True).start()

    def on_hup(signum, frame):
        agent.log(logging.INFO, "agent", "Caught signal: SIGHUP")
        threading.Thread(target=reload, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, on_hup)
    while not agent.done.wait(0.5):
        pass
    return agent.exit_code


def cmd_validate(args: list[str]) -> int:
    try:
        f, paths = parse_flags(args, {"quiet": "bool", "config-format": "str"})
    except UsageError as e:
        print(str(e) if str(e) != "help" else "Usage: consul validate [options] FILE_OR_DIRECTORY...", file=sys.stderr)
        return 1
    if not paths:
        print("Must specify at least one config file or directory", file=sys.stderr)
        return 1
    files = [p for p in paths if not os.path.isdir(p)]
    dirs = [p for p in paths if os.path.isdir(p)]
    try:
        cfgmod.build(cfgmod.load(files, dirs))
    except cfgmod.ConfigError as e:
        print(f"Config validation failed: {e}", file=sys.stderr)
        return 1
    if not f.get("quiet"):
        print("Configuration is valid!")
    return 0


def cmd_version(args: list[str]) -> int:
    print(f"Consul v{VERSION}")
    print("Revision standin")
    print("Protocol 2 spoken by default, understands 2 to 3 (agent will automatically use protocol >2 when speaking to compatible agents)")
    print("This is the metis-deploy stand-in for HashiCorp Consul, not Consul itself.")
    return 0


def _http(f: dict):
    addr = f.get("http-addr") or os.environ.get("CONSUL_HTTP_ADDR") or "127.0.0.1:8500"
    if "://" in addr:
        addr = urllib.parse.urlsplit(addr).netloc
    host, _, port = addr.rpartition(":")
    return host or addr, int(port or 8500)


def _call(f: dict, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    host, port = _http(f)
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request(method, path, body=body)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def _unexpected(doing: str, status: int, body: bytes) -> None:
    """Consul's message for an HTTP API answer other than 200, on stderr."""
    print(f"Error {doing}: Unexpected response code: {status} ({body.decode().strip()})", file=sys.stderr)


def _http_cmd(args: list[str], extra: dict, usage: str):
    spec = dict(HTTP_FLAGS, **extra)
    try:
        return parse_flags(args, spec)
    except UsageError as e:
        raise UsageError(usage if str(e) == "help" else str(e)) from None


def cmd_members(args: list[str]) -> int:
    f, _ = _http_cmd(args, {"detailed": "bool", "status": "str", "wan": "bool", "segment": "str"},
                     "Usage: consul members [options]")
    status, body = _call(f, "GET", "/v1/agent/members")
    if status != 200:
        _unexpected("retrieving members", status, body)
        return 1
    names = {1: "alive", 2: "leaving", 3: "left", 4: "failed"}
    rows = [("Node", "Address", "Status", "Type", "Build", "Protocol", "DC", "Segment")]
    for m in sorted(json.loads(body), key=lambda m: m["Name"]):
        st = names.get(m["Status"], "none")
        if f.get("status") and st != f["status"]:
            continue
        t = m["Tags"]
        rows.append((m["Name"], f"{m['Addr']}:{m['Port']}", st, "server" if t.get("role") == "consul" else "client",
                     t.get("build", "").split(":")[0], "2", t.get("dc", ""), "<all>" if t.get("role") == "consul" else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


def _agent_put(args: list[str], name: str, doing: str, done: str) -> int:
    """`consul NAME`: a PUT to the local agent's /v1/agent/NAME, which takes no arguments."""
    f, _ = _http_cmd(args, {}, f"Usage: consul {name} [options]")
    status, body = _call(f, "PUT", f"/v1/agent/{name}")
    if status != 200:
        _unexpected(doing, status, body)
        return 1
    print(done)
    return 0


def cmd_leave(args: list[str]) -> int:
    return _agent_put(args, "leave", "leaving", "Graceful leave complete")


def cmd_reload(args: list[str]) -> int:
    return _agent_put(args, "reload", "reloading", "Configuration reload triggered")


def cmd_join(args: list[str]) -> int:
    f, addrs = _http_cmd(args, {"wan": "bool"}, "Usage: consul join [options] address ...")
    if not addrs:
        print("At least one address to join must be specified.", file=sys.stderr)
        return 1
    ok = 0
    for a in addrs:
        status, body = _call(f, "PUT", f"/v1/agent/join/{urllib.parse.quote(a, safe='')}")
        if status == 200:
            ok += 1
        else:
            _unexpected(f"joining address '{a}'", status, body)
    if not ok:
        print("Failed to join any nodes.", file=sys.stderr)
        return 1
    print(f"Successfully joined cluster by contacting {ok} nodes.")
    return 0


def cmd_kv(args: list[str]) -> int:
    if not args or args[0] not in ("get", "put", "delete"):
        print("Usage: consul kv <get|put|delete> [options] KEY [VALUE]  (metis-deploy stand-in)", file=sys.stderr)
        return 1
    sub, rest = args[0], args[1:]
    f, pos = _http_cmd(rest, {"recurse": "bool", "base64": "bool", "detailed": "bool"}, f"Usage: consul kv {sub} KEY")
    if not pos:
        print("Error! Missing KEY argument", file=sys.stderr)
        return 1
    key = urllib.parse.quote(pos[0].lstrip("/"))
    if sub == "get":
        status, body = _call(f, "GET", f"/v1/kv/{key}")
        if status == 404:
            print(f"Error! No key exists at: {pos[0]}", file=sys.stderr)
            return 1
        if status != 200:
            _unexpected("querying Consul agent", status, body)
            return 1
        value = json.loads(body)[0]["Value"]
        sys.stdout.write((base64.b64decode(value) if value else b"").decode("utf-8", "replace") + "\n")
        return 0
    if sub == "put":
        value = pos[1] if len(pos) > 1 else ""
        data = base64.b64decode(value) if f.get("base64") else value.encode()
        status, body = _call(f, "PUT", f"/v1/kv/{key}", data)
        if status != 200 or body.strip() != b"true":
            print(f"Error! Failed writing data: {status} {body.decode().strip()}", file=sys.stderr)
            return 1
        print(f"Success! Data written to: {pos[0]}")
        return 0
    status, body = _call(f, "DELETE", f"/v1/kv/{key}" + ("?recurse" if f.get("recurse") else ""))
    if status != 200:
        print(f"Error! Failed deleting data: {status} {body.decode().strip()}", file=sys.stderr)
        return 1
    print(f"Success! Deleted key: {pos[0]}")
    return 0


COMMANDS = {"agent": cmd_agent, "validate": cmd_validate, "version": cmd_version, "members": cmd_members,
            "leave": cmd_leave, "reload": cmd_reload, "join": cmd_join, "kv": cmd_kv}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "-help", "help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        return 0 if argv else 1
    if argv[0] in ("-v", "--version", "-version"):
        return cmd_version([])
    cmd = COMMANDS.get(argv[0])
    if cmd is None:
        print(USAGE, file=sys.stderr)
        return 1
    try:
        return cmd(argv[1:])
    except UsageError as e:
        print(str(e), file=sys.stderr)
        return 1
    except (OSError, http.client.HTTPException) as e:
        print(f"Error connecting to Consul agent: {e}", file=sys.stderr)
        return 1
