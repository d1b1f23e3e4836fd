"""Helpers of the stand-in tests: processes with bounded waits, loopback ports, HTTP and HTTP/2
clients, the bundle build, a consul cluster, MariaDB. (A module of its own name, so that it never
mixes with another directory's conftest.)"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUILD = HERE / "build"


def wait_for(fn, timeout: float, what: str, interval: float = 0.1):
    """Calls fn until it returns a true value (returned) or `timeout` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
            if last:
                return last
        except (OSError, ValueError, http.client.HTTPException, KeyError) as e:
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(interval)


# ---------------------------------------------------------------------------- network

def free_port(ip: str = "127.0.0.1", udp_too: bool = False) -> int:
    """A port free on `ip` (TCP, and UDP when asked); "0.0.0.0" for every address."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((ip, 0))
            port = s.getsockname()[1]
        if not udp_too:
            return port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind((ip, port))
                return port
            except OSError:
                continue
    raise RuntimeError(f"no free port on {ip}")


def http_req(method: str, url: str, body: bytes | str | None = None, timeout: float = 5.0):
    """(status, body bytes, headers) of one HTTP request."""
    assert url.startswith("http://")
    hostport, _, path = url[len("http://"):].partition("/")
    host, _, port = hostport.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, "/" + path, body=body.encode() if isinstance(body, str) else body)
        r = conn.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally:
        conn.close()


def get_json(url: str):
    status, body, _ = http_req("GET", url)
    assert status == 200, f"GET {url}: HTTP {status} {body[:300]!r}"
    return json.loads(body)


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def read_frame(s: socket.socket) -> tuple[int, int, int, int, bytes]:
    """(length, type, flags, stream, payload) of the next HTTP/2 frame."""
    head = _recv_exact(s, 9)
    length = int.from_bytes(head[:3], "big")
    stream = struct.unpack(">I", head[5:9])[0] & 0x7FFFFFFF
    return length, head[3], head[4], stream, _recv_exact(s, length)


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def h2_exchange(host: str, port: int) -> dict:
    """Speaks HTTP/2 to host:port: preface + empty SETTINGS, then a PING. Returns the server's
    first frame (must be SETTINGS), the ACK of our SETTINGS and the PING answer, as raw frames."""
    with socket.create_connection((host, port), timeout=5) as s:
        s.settimeout(5)
        s.sendall(H2_PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        first = read_frame(s)
        ack = read_frame(s)
        s.sendall(b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"standin!")
        ping = read_frame(s)
        return {"settings": first, "settings_ack": ack, "ping": ping}


def assert_h2_server(host: str, port: int) -> None:
    f = h2_exchange(host, port)
    length, ftype, flags, stream, payload = f["settings"]
    assert (ftype, flags, stream) == (4, 0, 0), f"first frame is not SETTINGS: {f['settings']}"
    assert length == len(payload) and length % 6 == 0, f["settings"]
    assert f["settings_ack"][:4] == (0, 4, 1, 0), f"no SETTINGS ACK: {f['settings_ack']}"
    assert f["ping"] == (8, 6, 1, 0, b"standin!"), f"no PING ACK: {f['ping']}"


# ---------------------------------------------------------------------------- processes

class Proc:
    """A started program with its output in a file; stopped (by its own pid) at teardown."""

    def __init__(self, argv: list[str], log: Path, cwd: Path | None = None, env: dict | None = None):
        self.argv, self.log = argv, log
        log.parent.mkdir(parents=True, exist_ok=True)
        self.out = open(log, "ab")
        self.p = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.STDOUT, cwd=cwd,
                                  env=dict(os.environ, **(env or {})))

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.p.poll() is None

    def wait(self, timeout: float = 15) -> int:
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.argv[0]} did not exit within {timeout} s; output:\n{self.text()[-3000:]}") from None

    def signal(self, sig: int) -> None:
        if self.running():
            self.p.send_signal(sig)

    def stop(self) -> None:
        if self.running():
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self.out.close()


def run(argv, timeout: float = 30, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kw)


# ---------------------------------------------------------------------------- the bundle

def build_bundle(out: Path, version: str | None = None) -> Path:
    cmd = [sys.executable, str(BUILD), str(out)] + (["--version", version] if version else [])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"build failed: {r.stdout}{r.stderr}"
    return out


# ---------------------------------------------------------------------------- consul

class Consul:
    """Consul stand-in agents on given loopback addresses, each with its own free ports."""

    def __init__(self, binary: Path, root: Path, ips: list[str], start, dc: str = "standin-test",
                 expect: int | None = None, extra: dict | None = None):
        self.binary, self.root, self.ips, self.start_proc = binary, root, ips, start
        self.ports = [{k: free_port(ip, udp_too=k in ("serf_lan", "serf_wan", "dns"))
                       for k in ("server", "serf_lan", "serf_wan", "http", "dns")} for ip in ips]
        self.procs: dict[int, Proc] = {}
        self.dc = dc
        self.expect = len(ips) if expect is None else expect
        self.extra = extra or {}

    def config(self, i: int) -> dict:
        ip = self.ips[i]
        return {
            "datacenter": self.dc, "node_name": f"consul_{ip}", "server": True,
            "bootstrap_expect": self.expect, "bind_addr": ip, "client_addr": ip,
            "data_dir": str(self.dir(i) / "data"), "log_file": str(self.dir(i) / "logs" / "consul.log"),
            "log_level": "INFO", "ui_config": {"enabled": True}, "ports": self.ports[i],
            "retry_join": [f"{self.ips[j]}:{self.ports[j]['serf_lan']}" for j in range(len(self.ips)) if j != i],
            **self.extra,
        }

    def dir(self, i: int) -> Path:
        return self.root / f"consul{i}"

    def write_config(self, i: int, cfg: dict | None = None) -> Path:
        conf = self.dir(i) / "config"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "consul.json").write_text(json.dumps(cfg or self.config(i), indent=2))
        return conf

    def start(self, i: int, env: dict | None = None) -> Proc:
        conf = self.write_config(i) if not (self.dir(i) / "config" / "consul.json").exists() else self.dir(i) / "config"
        p = self.start_proc([self.binary, "agent", f"-config-dir={conf}"], self.dir(i) / "stdout.log", env=env)
        self.procs[i] = p
        wait_for(lambda: self.try_get(i, "/v1/status/leader") is not None or not p.running(), 15,
                 f"consul agent {i} HTTP API")
        assert p.running(), f"consul agent {i} exited:\n{p.text()}"
        return p

    def url(self, i: int, path: str) -> str:
        return f"http://{self.ips[i]}:{self.ports[i]['http']}{path}"

    def http(self, i: int) -> str:
        return f"{self.ips[i]}:{self.ports[i]['http']}"

    def try_get(self, i: int, path: str):
        try:
            status, body, _ = http_req("GET", self.url(i, path), timeout=2)
        except OSError:
            return None
        return json.loads(body) if status == 200 else None

    def get(self, i: int, path: str):
        return get_json(self.url(i, path))

    def leader(self, i: int) -> str:
        return self.get(i, "/v1/status/leader")

    def server_addr(self, i: int) -> str:
        return f"{self.ips[i]}:{self.ports[i]['server']}"

    def wait_leader(self, timeout: float = 15) -> str:
        running = [i for i, p in self.procs.items() if p.running()]

        def agreed():
            leaders = {self.leader(i) for i in running}
            return leaders.pop() if len(leaders) == 1 and "" not in leaders else None

        return wait_for(agreed, timeout, "a leader agreed by every running agent")

    def put_kv(self, i: int, key: str, value: str) -> None:
        status, body, _ = http_req("PUT", self.url(i, f"/v1/kv/{key}"), value)
        assert (status, body) == (200, b"true"), (status, body)

    def register(self, i: int, service: dict) -> None:
        status, body, _ = http_req("PUT", self.url(i, "/v1/agent/service/register"), json.dumps(service))
        assert status == 200, (status, body)

    def services(self, i: int) -> dict:
        return self.get(i, "/v1/agent/services")

    def checks_of(self, i: int, service_id: str) -> list[dict]:
        return [c for c in self.get(i, "/v1/agent/checks").values() if c["ServiceID"] == service_id]

    def wait_passing(self, i: int, service_id: str, timeout: float = 15) -> list[dict]:
        def passing():
            cs = self.checks_of(i, service_id)
            return cs if cs and all(c["Status"] == "passing" for c in cs) else None

        return wait_for(passing, timeout, f"the checks of {service_id} to pass")


# ---------------------------------------------------------------------------- MariaDB

class MariaDB:
    """A MariaDB server of its own on ip (a free port unless given), root over the socket;
    `defaults_file` is read first (e.g. the rendered [mysqld] snippet)."""

    def __init__(self, root: Path, ip: str, start, port: int | None = None, defaults_file: Path | None = None):
        self.root, self.ip = root, ip
        self.port = port or free_port(ip)
        self.sock = root / "mysqld.sock"
        data = root / "data"
        for tool in ("mariadb-install-db", "mariadbd", "mariadb"):
            assert shutil.which(tool), f"{tool} is missing: tests/setup.sh installs mariadb-server"
        r = run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
                 "--user=root", "--skip-test-db"], timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        if defaults_file:  # its [mysqld] section sets the address, port and time zone
            first, where = [f"--defaults-file={defaults_file}"], []
        else:
            first = ["--no-defaults"]
            where = [f"--bind-address={ip}", f"--port={self.port}", "--default-time-zone=+00:00"]
        self.proc = start(["mariadbd", *first, f"--datadir={data}", *where, f"--socket={self.sock}",
                           f"--pid-file={root / 'mysqld.pid'}", "--user=root", "--skip-name-resolve", "--skip-log-bin"],
                          root / "mariadbd.log")

        def up():
            assert self.proc.running(), self.proc.text()
            with socket.create_connection((ip, self.port), timeout=1):
                return True

        wait_for(up, 60, "mariadbd to accept connections")

    def sql(self, statements: str, database: str | None = None, stdin: str | None = None) -> str:
        argv = ["mariadb", "--no-defaults", f"--socket={self.sock}", "-uroot", "--batch"]
        if statements:
            argv += ["-e", statements]
        if database:
            argv.append(database)
        r = run(argv, input=stdin, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout
