# carrier: metis-deploy STAND-IN for the Metis/Datum carrier (tests and lab only; not the carrier).
"""Behaves like the carrier where the deploy depends on it (SERVICES.md): its YAML keys are its
flag names and an unknown one stops it; it needs its discovery consul, the KV key
datumnetwork/dataCenter_ip_port and its p2p key; it refuses to start while a `carrier`-tagged
service is registered; it serves gRPC (HTTP/2) on rpc-port, the gateway's nodeInfo, pprof and
the p2p ports; it registers carrierService and deregisters on SIGTERM."""

from __future__ import annotations

import http.server
import ipaddress
import json
import os
import re
import signal
import socket
import sys
import threading
import time

from standin import VERSION, consulapi, h2, miniyaml, secp256k1

KV_DATA_CENTER = "datumnetwork/dataCenter_ip_port"
SERVICE_NAME = "carrierService"
SERVICE_TAG = "carrier"
NODE_INFO_PATH = "/carrier/v1/yarn/nodeInfo"

# Flag name -> (type, default). Types: str, int, bool, strlist, intlist.
FLAGS = {
    "config-file": ("str", ""),
    "datadir": ("str", "./data"),
    "verbosity": ("any", 3),
    "pprof": ("bool", False),
    "pprof-port": ("int", 10032),
    "pprof-addr": ("str", "127.0.0.1"),
    "debug": ("bool", False),
    "rpc-host": ("str", "127.0.0.1"),
    "rpc-port": ("int", 10033),
    "tls-cert": ("str", ""),
    "tls-key": ("str", ""),
    "disable-grpc-gateway": ("bool", False),
    "grpc-gateway-host": ("str", "127.0.0.1"),
    "grpc-gateway-port": ("int", 10034),
    "enable-debug-rpc-endpoints": ("bool", False),
    "no-discovery": ("bool", False),
    "bootstrap-node": ("strlist", []),
    "p2p-udp-port": ("int", 10035),
    "p2p-tcp-port": ("int", 10036),
    "p2p-local-ip": ("str", "0.0.0.0"),
    "p2p-host-ip": ("str", ""),
    "p2p-priv-key": ("str", ""),
    "p2p-max-peers": ("int", 45),
    "blockchain.url": ("str", ""),
    "blockchain.hrp": ("str", "lat"),
    "did.document-contract-proxy": ("str", ""),
    "did.pct-contract-proxy": ("str", ""),
    "did.credential-contract-proxy": ("str", ""),
    "did.proposal-contract-proxy": ("str", ""),
    "pay-agent-contract-proxy": ("str", ""),
    "task.metadata-consume-option": ("int", 0),
    "discovery-server-ip": ("str", ""),
    "discovery-server-port": ("int", 0),
    "enable-grpc-gateway-private-check": ("bool", False),
    "not-check-private-ip": ("bool", False),
    "public-rpc-service": ("intlist", []),
    "log-file": ("str", ""),
    "log-format": ("str", "text"),
}
KMS_PREFIX = "kms."

HELP = f"""NAME:
   carrier - the Metis carrier: metis-deploy STAND-IN {VERSION} (not the real carrier)

USAGE:
   carrier [global options] command [command options]

COMMANDS:
   version  print the version
   help     show this help

GLOBAL OPTIONS:
   --config-file value  YAML file whose keys are the flag names below
""" + "".join(f"   --{k}\n" for k in FLAGS if k != "config-file") + "   --kms.* (accepted, unused)\n"


class Fatal(Exception):
    pass


class Log:
    """logrus-style text lines (or JSON with log-format: json) to stdout and the log file."""

    def __init__(self):
        self.file = None
        self.json = False
        self.lock = threading.Lock()

    def open(self, path: str, fmt: str) -> None:
        self.json = fmt == "json"
        if path:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            self.file = open(path, "a", encoding="utf-8")

    def __call__(self, level: str, msg: str, **fields) -> None:
        now = time.gmtime()
        if self.json:
            doc = {"level": level, "msg": msg, "prefix": "carrier-standin",
                   "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", now), **{k: str(v) for k, v in fields.items()}}
            line = json.dumps(doc)
        else:
            extra = "".join(f" {k.replace('_', '-')}={json.dumps(str(v)) if ' ' in str(v) else v}" for k, v in fields.items())
            line = f"[{time.strftime('%Y-%m-%d %H:%M:%S', now)}] {level.upper():>5} carrier-standin: {msg}{extra}"
        with self.lock:
            print(line, flush=True, file=sys.stderr if level == "error" else sys.stdout)
            if self.file:
                self.file.write(line + "\n")
                self.file.flush()


log = Log()


def parse_cli(argv: list[str]) -> tuple[dict, str | None]:
    """Command-line flags (`--name value`, `--name=value`, `-name`); returns (flags, command)."""
    out: dict = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-"):
            return out, a
        name, eq, value = a.lstrip("-").partition("=")
        if name in ("h", "help"):
            return out, "help"
        if name in ("v", "version"):
            return out, "version"
        if name not in FLAGS and not name.startswith(KMS_PREFIX):
            raise Fatal(f"flag provided but not defined: -{name}")
        kind = FLAGS.get(name, ("str", ""))[0]
        if kind == "bool" and not eq:
            out[name] = True
        else:
            if not eq:
                i += 1
                if i >= len(argv):
                    raise Fatal(f"flag needs an argument: -{name}")
                value = argv[i]
            out[name] = coerce(name, value, from_cli=True)
        i += 1
    return out, None


def coerce(name: str, value, from_cli: bool = False):
    kind = FLAGS.get(name, ("str", ""))[0]
    bad = Fatal(f'invalid value "{value}" for flag -{name}: expected {kind}')
    if kind == "any":
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if from_cli and str(value).lower() in ("true", "false", "1", "0"):
            return str(value).lower() in ("true", "1")
        raise bad
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise bad
    if kind == "str":
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise bad
    items = value if isinstance(value, list) else ([] if value is None else str(value).split(","))
    if kind == "intlist":
        try:
            return [int(x) for x in items]
        except (TypeError, ValueError):
            raise bad from None
    return [str(x) for x in items]


def load_config(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise Fatal(f"cannot read the config file {path}: {e.strerror}") from None
    try:
        flat = miniyaml.flatten(miniyaml.loads(text))
    except miniyaml.YamlError as e:
        raise Fatal(f"cannot parse the config file {path}: {e}") from None
    out = {}
    for key, value in flat.items():
        if key == "config-file" or (key not in FLAGS and not key.startswith(KMS_PREFIX)):
            raise Fatal(f"flag provided but not defined: -{key}")
        out[key] = coerce(key, value)
    return out


def read_key(path: str) -> bytes:
    if not path:
        raise Fatal("p2p-priv-key is not set: the carrier needs its p2p private key file (made by `keytool genkeypair`)")
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
    except (OSError, UnicodeDecodeError) as e:
        raise Fatal(f"cannot read the p2p private key file {path}: {getattr(e, 'strerror', None) or e}") from None
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise Fatal(f"the p2p private key file {path} does not hold a private key (expected 64 hex characters)")
    return bytes.fromhex(text)


def data_center(consul: consulapi.Consul) -> tuple[str, int]:
    try:
        raw = consul.kv_get(KV_DATA_CENTER)
    except consulapi.ConsulError as e:
        raise Fatal(f"cannot read {KV_DATA_CENTER} from the discovery server: {e}") from None
    if raw is None:
        raise Fatal(f"consul KV {KV_DATA_CENTER} is not set at {consul.base}: "
                    "seed it with '<ip>_<port>' of the data centre before starting the carrier")
    text = raw.decode("utf-8", "replace").strip()
    parts = text.split("_")
    try:
        if len(parts) != 2:
            raise ValueError
        ip = str(ipaddress.IPv4Address(parts[0]))
        port = int(parts[1])
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise Fatal(f"consul KV {KV_DATA_CENTER} = '{text}' is malformed: expected '<ip>_<port>'") from None
    return ip, port


def check_stale(consul: consulapi.Consul) -> None:
    try:
        services = consul.agent_services()
    except consulapi.ConsulError as e:
        raise Fatal(f"cannot list the services of the discovery server: {e}") from None
    for sid, s in sorted(services.items()):
        if SERVICE_TAG in (s.get("Tags") or []):
            raise Fatal(
                f"a service tagged '{SERVICE_TAG}' is already registered in consul at {consul.base} "
                f"(id {sid}, {s.get('Address')}:{s.get('Port')}): another carrier is running or a stale "
                f"registration remains; deregister it (PUT {consul.base}/v1/agent/service/deregister/{sid}) "
                "before starting the carrier"
            )


class HttpHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "carrier-standin"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def _reply(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        status, body, ctype = self.server.route(path)
        self._reply(status, body, ctype)

    do_HEAD = do_GET

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        body = json.dumps({"code": 12, "message": "the carrier stand-in implements GET endpoints only"}).encode()
        self._reply(501, body, "application/json")


class HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_http(host: str, port: int, route, what: str) -> HttpServer:
    try:
        srv = HttpServer((host, port), HttpHandler)
    except OSError as e:
        raise Fatal(f"{what}: listen tcp {host}:{port}: bind: {e.strerror}") from None
    srv.route = route
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def main(argv: list[str]) -> int:
    try:
        cli, command = parse_cli(argv)
    except Fatal as e:
        print(f"Incorrect Usage: {e}\n\n{HELP}", file=sys.stderr)
        return 1
    if command == "version":
        print(f"carrier version {VERSION} (metis-deploy stand-in, not the real carrier)")
        return 0
    if command in ("help",):
        print(HELP)
        return 0
    if command is not None:
        print(f"No help topic for '{command}'", file=sys.stderr)
        return 3
    try:
        return run(cli)
    except Fatal as e:
        log("error", str(e))
        log("error", "carrier stand-in exiting", exit_code=1)
        return 1


def run(cli: dict) -> int:
    conf = {k: v for k, (t, v) in FLAGS.items()}
    if cli.get("config-file"):
        conf.update(load_config(cli["config-file"]))
    conf.update(cli)
    try:
        log.open(conf["log-file"], conf["log-format"])
    except OSError as e:
        raise Fatal(f"cannot open the log file {conf['log-file']}: {e.strerror}") from None
    log("info", "carrier stand-in starting (metis-deploy stand-in, not the real carrier)", version=VERSION,
        config=cli.get("config-file", ""))
    ip, port = conf["discovery-server-ip"], conf["discovery-server-port"]
    if not ip or not port:
        raise Fatal("discovery-server-ip and discovery-server-port are required: the consul agent the carrier "
                    "registers with and reads its KV keys from")
    try:
        os.makedirs(conf["datadir"], exist_ok=True)
    except OSError as e:
        raise Fatal(f"cannot create datadir {conf['datadir']}: {e.strerror}") from None
    consul = consulapi.Consul(ip, port)
    dc_ip, dc_port = data_center(consul)
    log("info", "data centre address from consul", key=KV_DATA_CENTER, ip=dc_ip, port=dc_port)
    check_stale(consul)
    priv = read_key(conf["p2p-priv-key"])
    node_id = secp256k1.public_key(int.from_bytes(priv, "big")).hex()
    started = time.time()

    host_ip = conf["p2p-host-ip"] or conf["p2p-local-ip"]
    info = {
        "status": 0,
        "msg": "ok",
        "information": {
            "name": "", "nodeId": node_id, "identityId": "", "state": "NodeState_Active",
            "nodeType": "NodeType_YarnNode", "externalIp": host_ip, "internalIp": conf["p2p-local-ip"],
            "externalPort": str(conf["p2p-tcp-port"]), "internalPort": str(conf["p2p-tcp-port"]),
            "dataCenter": {"ip": dc_ip, "port": dc_port}, "version": VERSION,
            "standIn": "metis-deploy stand-in, not the real carrier",
        },
    }

    def gateway(path: str):
        if path == NODE_INFO_PATH:
            doc = dict(info, information=dict(info["information"], uptimeSeconds=int(time.time() - started)))
            return 200, json.dumps(doc).encode(), "application/json"
        return 404, json.dumps({"code": 5, "message": "Not Found", "details": []}).encode(), "application/json"

    def pprof(path: str):
        if path in ("/debug/pprof/", "/debug/pprof"):
            page = ("<html><head><title>/debug/pprof/</title></head><body>/debug/pprof/<br><br>"
                    "carrier stand-in (metis-deploy): no profiles<br>Types of profiles available:<table>"
                    "<tr><td>0</td><td><a href='goroutine?debug=1'>goroutine</a></td></tr></table></body></html>")
            return 200, page.encode(), "text/html; charset=utf-8"
        if path == "/debug/pprof/cmdline":
            return 200, "\0".join(sys.argv).encode(), "text/plain; charset=utf-8"
        return 404, b"404 page not found\n", "text/plain; charset=utf-8"

    servers = []
    rpc_host, rpc_port = conf["rpc-host"], conf["rpc-port"]
    try:
        servers.append(h2.start_server(rpc_host, rpc_port, "carrier stand-in gRPC",
                                       log=lambda m: log("debug", m)))
    except OSError as e:
        raise Fatal(f"gRPC server: listen tcp {rpc_host}:{rpc_port}: bind: {e.strerror}") from None
    log("info", "gRPC server listening", address=f"{rpc_host}:{rpc_port}")
    if not conf["disable-grpc-gateway"]:
        gw = (conf["grpc-gateway-host"], conf["grpc-gateway-port"])
        servers.append(start_http(*gw, gateway, "gRPC gateway"))
        log("info", "gRPC gateway listening", address=f"{gw[0]}:{gw[1]}")
    if conf["pprof"]:
        pp = (conf["pprof-addr"], conf["pprof-port"])
        servers.append(start_http(*pp, pprof, "pprof"))
        log("info", "Starting pprof server", address=f"{pp[0]}:{pp[1]}")
    p2p_ip = conf["p2p-local-ip"]
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        tcp.bind((p2p_ip, conf["p2p-tcp-port"]))
        tcp.listen(16)
        udp.bind((p2p_ip, conf["p2p-udp-port"]))
    except OSError as e:
        raise Fatal(f"p2p: listen {p2p_ip} tcp {conf['p2p-tcp-port']} / udp {conf['p2p-udp-port']}: {e.strerror}") from None
    threading.Thread(target=_p2p_tcp, args=(tcp,), daemon=True).start()
    threading.Thread(target=_p2p_udp, args=(udp,), daemon=True).start()
    log("info", "p2p listening", tcp=f"{p2p_ip}:{conf['p2p-tcp-port']}", udp=f"{p2p_ip}:{conf['p2p-udp-port']}",
        node_id=node_id[:16] + "...")

    service_id = f"{SERVICE_NAME}_{rpc_host}_{rpc_port}"
    registration = {
        "ID": service_id, "Name": SERVICE_NAME, "Tags": [SERVICE_TAG], "Address": rpc_host, "Port": rpc_port,
        "Meta": {"version": VERSION, "standin": "true"},
        "Check": {"GRPC": f"{rpc_host}:{rpc_port}", "Interval": "10s", "Timeout": "5s",
                  "DeregisterCriticalServiceAfter": "1m"},
    }
    try:
        consul.register(registration)
    except consulapi.ConsulError as e:
        raise Fatal(str(e)) from None
    log("info", "registered in consul", service=SERVICE_NAME, id=service_id, consul=consul.base)

    stop = threading.Event()
    got = {}

    def on_signal(signum, frame):
        got["sig"] = signal.Signals(signum).name
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, lambda s, f: log("info", "SIGHUP ignored: the carrier reads its config at start only"))
    log("info", "carrier stand-in running", version=VERSION)
    while not stop.wait(0.5):
        pass
    log("info", "Got interrupt, shutting down...", signal=got.get("sig", "?"))
    try:
        consul.deregister(service_id)
        log("info", "deregistered from consul", id=service_id)
    except consulapi.ConsulError as e:
        log("warn", "could not deregister from consul", error=str(e))
    for s in servers:
        s.shutdown()
        s.server_close()
    tcp.close()
    udp.close()
    log("info", "carrier stand-in stopped")
    return 0


def _p2p_tcp(sock: socket.socket) -> None:
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        conn.close()


def _p2p_udp(sock: socket.socket) -> None:
    while True:
        try:
            sock.recvfrom(2048)
        except OSError:
            return


sys.exit(main(sys.argv[1:]))
