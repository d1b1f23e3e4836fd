"""Tests of the stand-ins (tests/standins): the bundle, then each stand-in against the behaviours
the deploy relies on (SERVICES.md) and their failure modes, then `metis-deploy health` against
stand-ins started from configs the core renders. Loopback addresses 127.0.2.x only."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import signal
import socket
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from standins_support import (
    HERE,
    REPO,
    Consul,
    MariaDB,
    assert_h2_server,
    build_bundle,
    free_port,
    get_json,
    h2_exchange,
    http_req,
    run,
    wait_for,
)

sys.path.insert(0, str(HERE / "lib"))
from standin import h2  # noqa: E402  (a gRPC-looking server for consul's checks)

WHEELS = ["fighter_dcv-0.9.1-py3-none-any.whl", "datum_network_channel_sdk-2.0.4-py3-none-any.whl",
          "latticex_psi-1.0.0-py3-none-any.whl"]
ROSETTA = "latticex_rosetta-1.0.0-py3-none-any.whl"
KV_DC = "datumnetwork/dataCenter_ip_port"
SECRETS = dict(
    line.split("=", 1)
    for line in (REPO / "tests" / "fixtures" / "sandbox-secrets.env").read_text().splitlines()
    if line and not line.startswith("#")
)


def cpu_build() -> str:
    with open("/proc/cpuinfo") as f:
        return "avx2" if any(line.startswith("flags") and " avx2" in line for line in f) else "no_avx2"


# ============================================================================ the bundle

def test_bundle_layout_checksums_and_determinism(bundle, tmp_path):
    files = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    deps = [f for f in files if f.startswith("wheels/deps/")]
    assert len(deps) == 1 and re.fullmatch(r"wheels/deps/PyYAML-[\d.]+-cp311-cp311-manylinux[\w.]*x86_64\.whl", deps[0]), deps
    assert [f for f in files if f not in deps] == sorted([
        "SHA256SUMS", "VERSION", "admin.jar", "admin.sql", "admin.tar", "carrier", "consul.zip", "keytool",
        *[f"wheels/{w}" for w in WHEELS], f"wheels/avx2/{ROSETTA}", f"wheels/no_avx2/{ROSETTA}"])
    assert (bundle / "VERSION").read_text() == "0.5.1-standin\n"

    # SHA256SUMS: coreutils format, every other file, and sha256sum -c agrees.
    lines = (bundle / "SHA256SUMS").read_text().splitlines()
    assert all(re.fullmatch(r"[0-9a-f]{64}  \S+", line) for line in lines), lines
    assert sorted(line[66:] for line in lines) == [f for f in files if f != "SHA256SUMS"]
    r = run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=bundle)
    assert r.returncode == 0, r.stdout + r.stderr
    (bundle / "keytool").write_bytes((bundle / "keytool").read_bytes() + b"#")
    try:
        r = run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=bundle)
        assert r.returncode == 1 and "keytool: FAILED" in r.stdout, "the sums must catch a changed file"
    finally:
        (bundle / "keytool").write_bytes((bundle / "keytool").read_bytes()[:-1])

    for exe in ("carrier", "keytool"):
        assert os.access(bundle / exe, os.X_OK) and (bundle / exe).read_bytes().startswith(b"#!/usr/bin/python3\n")
    with zipfile.ZipFile(bundle / "consul.zip") as z:
        assert z.namelist() == ["consul"]
        assert (z.getinfo("consul").external_attr >> 16) & 0o777 == 0o755
    with tarfile.open(bundle / "admin.tar") as t:
        assert t.getnames() == ["index.html"]
        assert b"stand-in" in t.extractfile("index.html").read()
    sql = (bundle / "admin.sql").read_text()
    assert "CREATE TABLE IF NOT EXISTS t_user" in sql and "CREATE TABLE IF NOT EXISTS t_org" in sql
    assert not re.search(r"(?im)^\s*(CREATE\s+DATABASE|USE)\b", sql)
    avx2, plain = (bundle / "wheels/avx2" / ROSETTA).read_bytes(), (bundle / "wheels/no_avx2" / ROSETTA).read_bytes()
    assert avx2 != plain
    with zipfile.ZipFile(bundle / "wheels/avx2" / ROSETTA) as z:
        assert "BUILD = 'avx2'" in z.read("latticex/rosetta/_build.py").decode()
        assert z.testzip() is None

    # The same sources and version give the same bytes.
    again = build_bundle(tmp_path / "again")
    assert (again / "SHA256SUMS").read_bytes() == (bundle / "SHA256SUMS").read_bytes()


@pytest.mark.time_limit(180)
def test_every_standin_reports_the_bundle_version(bundle, tmp_path):
    other = build_bundle(tmp_path / "v2", "7.7.7-standin")
    assert (other / "VERSION").read_text() == "7.7.7-standin\n"
    changed = {line[66:] for line in (other / "SHA256SUMS").read_text().splitlines()} - {
        line for line in (bundle / "SHA256SUMS").read_text().splitlines()}
    assert changed, "a new version changes the artifacts"
    with zipfile.ZipFile(other / "consul.zip") as z:
        z.extract("consul", tmp_path)
    (tmp_path / "consul").chmod(0o755)
    for argv, want in [
        ([tmp_path / "consul", "version"], "Consul v7.7.7-standin"),
        ([other / "carrier", "version"], "carrier version 7.7.7-standin"),
        ([other / "keytool", "version"], "keytool version 7.7.7-standin"),
        (["java", "-jar", other / "admin.jar", "--version"], "datum-admin 7.7.7-standin"),
    ]:
        r = run(argv)
        assert r.returncode == 0 and want in r.stdout and "stand-in" in r.stdout, (argv, r.stdout, r.stderr)
    # The wheels are pure Python: unpacked side by side they are importable as installed.
    site = tmp_path / "site"
    for w in WHEELS + [f"no_avx2/{ROSETTA}"]:
        with zipfile.ZipFile(other / "wheels" / w) as z:
            z.extractall(site)
    path = str(site)
    r = run([sys.executable, "-m", "fighter_project.data_svc.main", "--version"], env=dict(os.environ, PYTHONPATH=path))
    assert r.returncode == 0 and "7.7.7-standin" in r.stdout and "stand-in" in r.stdout, r.stdout + r.stderr
    code = ("import channel_sdk, latticex.psi, latticex.rosetta as r; "
            "print(channel_sdk.BUNDLE_VERSION, latticex.psi.BUNDLE_VERSION, r.BUNDLE_VERSION, r.BUILD)")
    r = run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=path))
    assert r.stdout.split() == ["7.7.7-standin"] * 3 + ["no_avx2"], r.stdout + r.stderr
    with tarfile.open(other / "admin.tar") as t:
        assert b"7.7.7-standin" in t.extractfile("index.html").read()
    # --help of each says what it is.
    for argv in ([tmp_path / "consul", "--help"], [other / "carrier", "--help"], [other / "keytool", "--help"],
                 ["java", "-jar", other / "admin.jar", "--help"]):
        r = run(argv)
        assert "stand-in" in (r.stdout + r.stderr).lower(), argv


def test_keytool_genkeypair_prints_a_key_pair(bins):
    outs = []
    for _ in range(2):
        r = run([bins["keytool"], "genkeypair"])
        assert r.returncode == 0, r.stderr
        assert re.fullmatch(r"PrivateKey: [0-9a-f]{64}\nPublicKey: [0-9a-f]{128}\n", r.stdout), r.stdout
        outs.append(r.stdout)
    assert outs[0] != outs[1], "each call makes a new key"
    r = run([bins["keytool"], "bogus"])
    assert r.returncode == 1 and "unknown command" in r.stderr


# ============================================================================ consul

@pytest.mark.time_limit(150)
def test_consul_cluster_elects_after_the_third_server_replicates_kv_and_leaves(bins, tmp_path, procs):
    c = Consul(bins["consul"], tmp_path, ["127.0.2.1", "127.0.2.2", "127.0.2.3"], procs)
    c.start(0)
    c.start(1)
    wait_for(lambda: sorted(m["Status"] for m in c.get(1, "/v1/agent/members")) == [1, 1], 10, "two alive members")
    # Several gossip rounds later, two of three expected servers still have no leader.
    time.sleep(3)
    for i in (0, 1):
        assert c.leader(i) == "" and c.get(i, "/v1/status/peers") == []
    status, body, _ = http_req("GET", c.url(0, "/v1/kv/any"))
    assert (status, body) == (500, b"No cluster leader")

    c.start(2)
    leader = c.wait_leader()
    assert leader == c.server_addr(0), "the lowest address leads"
    servers = sorted(c.server_addr(i) for i in range(3))
    for i in range(3):
        assert c.get(i, "/v1/status/peers") == servers
    log0 = (c.dir(0) / "logs" / "consul.log").read_text()
    assert "stand-in" in log0 and "Found expected number of peers" in log0
    me = c.get(1, "/v1/agent/self")
    assert (me["Config"]["NodeName"], me["Config"]["Version"], me["Config"]["Server"]) == ("consul_127.0.2.2", "0.5.1-standin", True)
    assert me["Member"]["Addr"] == "127.0.2.2" and me["Member"]["Tags"]["role"] == "consul"

    # KV: written through one agent, read through every agent (forwarded to the leader).
    c.put_kv(2, KV_DC, "127.0.2.9_9099")
    for i in range(3):
        [entry] = c.get(i, f"/v1/kv/{KV_DC}")
        assert sorted(entry) == ["CreateIndex", "Flags", "Key", "LockIndex", "ModifyIndex", "Value"]
        assert entry["Key"] == KV_DC and base64.b64decode(entry["Value"]) == b"127.0.2.9_9099"
        status, body, headers = http_req("GET", c.url(i, f"/v1/kv/{KV_DC}?raw"))
        assert (status, body) == (200, b"127.0.2.9_9099") and int(headers["X-Consul-Index"]) >= 1
    # Replicated: a follower's own copy (?stale reads locally) has it too.
    [entry] = c.get(2, f"/v1/kv/{KV_DC}?stale")
    assert base64.b64decode(entry["Value"]) == b"127.0.2.9_9099"
    assert http_req("GET", c.url(1, "/v1/kv/datumnetwork/missing"))[:2] == (404, b"")
    assert http_req("PUT", c.url(1, "/v1/kv/tmp/k"), "v")[:2] == (200, b"true")
    assert http_req("DELETE", c.url(0, "/v1/kv/tmp/k"))[:2] == (200, b"true")
    assert http_req("GET", c.url(2, "/v1/kv/tmp/k"))[0] == 404

    r = run([c.binary, "members", "-http-addr", c.http(1)])
    assert r.returncode == 0, r.stderr
    rows = r.stdout.splitlines()
    assert rows[0].split()[:4] == ["Node", "Address", "Status", "Type"]
    assert sorted(row.split()[2] for row in rows[1:]) == ["alive"] * 3
    assert all("0.5.1-standin" in row for row in rows[1:])

    # SIGTERM: a graceful leave, the rest keeps its leader with two peers.
    c.procs[2].signal(signal.SIGTERM)
    assert c.procs[2].wait() == 0
    assert "Graceful leave complete" in (c.dir(2) / "logs" / "consul.log").read_text()
    wait_for(lambda: {m["Name"]: m["Status"] for m in c.get(0, "/v1/agent/members")}["consul_127.0.2.3"] == 3,
             10, "the member to be 'left' (3)")
    assert c.get(0, "/v1/status/peers") == servers[:2]
    assert c.wait_leader() == c.server_addr(0)
    # Back again: it rejoins and is a peer again; the KV survived on it.
    c.start(2)
    wait_for(lambda: all(c.get(i, "/v1/status/peers") == servers for i in range(3)), 15, "three peers again")
    [entry] = c.get(2, f"/v1/kv/{KV_DC}?stale")
    assert base64.b64decode(entry["Value"]) == b"127.0.2.9_9099"

    # `consul leave` through the HTTP API stops that agent gracefully.
    r = run([c.binary, "leave", "-http-addr", c.http(1)])
    assert r.returncode == 0 and "Graceful leave complete" in r.stdout, r.stdout + r.stderr
    assert c.procs[1].wait() == 0


@pytest.mark.time_limit(120)
def test_consul_services_checks_health_and_catalog(bins, tmp_path, procs):
    c = Consul(bins["consul"], tmp_path, ["127.0.2.1", "127.0.2.2", "127.0.2.3"], procs)
    for i in range(3):
        c.start(i)
    c.wait_leader()
    ip = "127.0.2.9"
    listener = socket.socket()
    listener.bind((ip, 0))
    listener.listen()
    grpc = h2.start_server(ip, 0, "test gRPC server")
    closed = free_port(ip)
    try:
        tcp_port, grpc_port = listener.getsockname()[1], grpc.server_address[1]
        c.register(0, {"Name": "web", "ID": "web-1", "Tags": ["t1"], "Address": ip, "Port": tcp_port,
                       "Check": {"TCP": f"{ip}:{tcp_port}", "Interval": "1s", "DeregisterCriticalServiceAfter": "1m"}})
        c.register(0, {"Name": "web", "ID": "web-2", "Address": ip, "Port": closed,
                       "Checks": [{"HTTP": f"http://{ip}:{closed}/", "Interval": "1s"}]})
        # Lower-case keys, as some clients send them; a gRPC check.
        c.register(1, {"name": "api", "id": "api-1", "address": ip, "port": grpc_port, "tags": ["x"],
                       "check": {"grpc": f"{ip}:{grpc_port}", "interval": "1s", "deregister_critical_service_after": "90s"}})

        # Agent-local: agent 0 lists only what was registered on it.
        svcs = c.services(0)
        assert sorted(svcs) == ["web-1", "web-2"]
        assert svcs["web-1"] == {"ID": "web-1", "Service": "web", "Tags": ["t1"], "Meta": {}, "Port": tcp_port,
                                 "Address": ip, "Weights": {"Passing": 1, "Warning": 1},
                                 "EnableTagOverride": False, "Datacenter": "standin-test"}
        [check] = c.wait_passing(0, "web-1")
        assert check["CheckID"] == "service:web-1" and check["Type"] == "tcp"
        assert check["Output"] == f"TCP connect {ip}:{tcp_port}: Success"
        web2 = wait_for(lambda: [x for x in c.checks_of(0, "web-2") if x["Output"]], 10, "web-2's first check")
        assert web2[0]["Status"] == "critical" and "refused" in web2[0]["Output"].lower(), web2
        [grpc_check] = c.wait_passing(1, "api-1")
        assert grpc_check["Type"] == "grpc" and "success" in grpc_check["Output"]

        # Cluster-wide views, from another agent.
        def web_entries(q=""):
            return c.get(2, f"/v1/health/service/web{q}")

        entries = wait_for(lambda: (e := web_entries()) and len(e) == 2 and e, 10, "both web instances")
        assert sorted(entries[0]) == ["Checks", "Node", "Service"]
        assert entries[0]["Node"]["Node"] == "consul_127.0.2.1" and entries[0]["Node"]["Address"] == "127.0.2.1"
        assert entries[0]["Checks"][0]["CheckID"] == "serfHealth"
        passing = wait_for(lambda: (e := web_entries("?passing")) and len(e) == 1 and e, 10, "one passing web")
        assert passing[0]["Service"]["ID"] == "web-1"
        assert [e["Service"]["ID"] for e in c.get(0, "/v1/health/service/api?passing")] == ["api-1"]
        assert c.get(0, "/v1/health/service/nothing") == []
        wait_for(lambda: c.get(2, "/v1/catalog/services") == {"api": ["x"], "consul": [], "web": ["t1"]}, 5,
                 "the catalog of every service")

        # Deregister: local only, 404 for an unknown id.
        assert http_req("PUT", c.url(0, "/v1/agent/service/deregister/web-1"))[0] == 200
        status, body, _ = http_req("PUT", c.url(0, "/v1/agent/service/deregister/web-1"))
        assert status == 404 and b"Unknown service ID" in body
        assert http_req("PUT", c.url(0, "/v1/agent/service/deregister/api-1"))[0] == 404
        assert "web-1" not in c.services(0) and "api-1" in c.services(1)
        wait_for(lambda: [e["Service"]["ID"] for e in web_entries()] == ["web-2"], 10, "web-1 gone everywhere")

        # Invalid registrations.
        for body, want in [({"ID": "x"}, b"Missing service name"),
                           ({"Name": "x", "Check": {"HTTP": "http://a/"}}, b"Interval must be > 0"),
                           ({"Name": "x", "Check": {"Args": ["/bin/true"], "Interval": "1s"}}, b"Scripts are disabled")]:
            status, got, _ = http_req("PUT", c.url(0, "/v1/agent/service/register"), json.dumps(body))
            assert status == 400 and want in got, (status, got)
        assert http_req("GET", c.url(0, "/v1/agent/service/register"))[0] == 405
        assert http_req("GET", c.url(0, "/v1/no/such/endpoint"))[0] == 404
    finally:
        listener.close()
        grpc.shutdown()
        grpc.server_close()


@pytest.mark.time_limit(120)
def test_consul_keeps_registrations_across_restarts_reloads_and_reaps(bins, tmp_path, procs):
    c = Consul(bins["consul"], tmp_path, ["127.0.2.4"], procs, expect=1)
    # The reaper's one-minute minimum lowered for this test only.
    env = {"METIS_STANDIN_CONSUL_MIN_DEREGISTER_SECS": "1"}
    c.start(0, env=env)
    c.wait_leader()
    ip = "127.0.2.9"
    closed = free_port(ip)
    listener = socket.socket()
    listener.bind((ip, 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        c.register(0, {"Name": "doomed", "Port": closed,
                       "Check": {"TCP": f"{ip}:{closed}", "Interval": "1s", "DeregisterCriticalServiceAfter": "1s"}})
        c.register(0, {"Name": "kept", "Port": port, "Check": {"TCP": f"{ip}:{port}", "Interval": "1s"}})
        c.put_kv(0, KV_DC, "127.0.2.9_9099")
        wait_for(lambda: "doomed" not in c.services(0), 15, "the critical service to be reaped")
        assert "critical for too long" in (c.dir(0) / "logs" / "consul.log").read_text()

        # Restart: API registrations and KV are kept in data_dir, as consul does.
        c.procs[0].signal(signal.SIGTERM)
        assert c.procs[0].wait() == 0
        c.start(0, env=env)
        c.wait_leader()
        assert list(c.services(0)) == ["kept"]
        c.wait_passing(0, "kept")
        assert http_req("GET", c.url(0, f"/v1/kv/{KV_DC}?raw"))[:2] == (200, b"127.0.2.9_9099")

        # SIGHUP reloads: a service defined in the config appears, the new log level applies.
        cfg = c.config(0)
        cfg.update(log_level="DEBUG", services=[{"name": "from-config", "port": port}])
        c.write_config(0, cfg)
        c.procs[0].signal(signal.SIGHUP)
        wait_for(lambda: "from-config" in c.services(0), 10, "the config-file service after SIGHUP")
        log = c.dir(0) / "logs" / "consul.log"
        assert "configuration reloaded: log_level=DEBUG" in log.read_text()
        # An invalid config on reload is reported and the agent keeps its old one.
        cfg["bogus_key"] = 1
        c.write_config(0, cfg)
        c.procs[0].signal(signal.SIGHUP)
        wait_for(lambda: "Failed to reload configs" in log.read_text(), 10, "the reload error")
        assert "invalid config key bogus_key" in log.read_text()
        assert c.procs[0].running() and c.leader(0) == c.server_addr(0)
    finally:
        listener.close()


def test_consul_validate_and_agent_refuse_unknown_keys(bins, tmp_path):
    consul = bins["consul"]
    c = Consul(consul, tmp_path, ["127.0.2.4"], None, expect=1)
    good = c.write_config(0) / "consul.json"
    for target in (good, good.parent):
        r = run([consul, "validate", target])
        assert (r.returncode, r.stdout) == (0, "Configuration is valid!\n"), r.stderr
    cases = [
        ({"foo": 1}, "invalid config key foo"),
        ({"ports": dict(c.ports[0], bogus=1)}, "invalid config key ports.bogus"),
        ({"log_level": "loud"}, "Invalid log level: loud"),
        ({"server": False}, "'bootstrap_expect > 0' requires 'server = true'"),
        ({"ports": dict(c.ports[0], http="8500")}, "'http' expected type 'int'"),
    ]
    for change, message in cases:
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(dict(c.config(0), **change)))
        r = run([consul, "validate", bad])
        assert r.returncode == 1 and message in r.stderr, (change, r.stderr)
        assert r.stderr.startswith("Config validation failed:")
    r = run([consul, "agent", f"-config-file={bad}"], timeout=15)
    assert r.returncode == 1 and "'http' expected type 'int'" in r.stderr
    bad.write_text(json.dumps(dict(c.config(0), foo=1)))
    r = run([consul, "agent", "-config-file", bad], timeout=15)
    assert r.returncode == 1 and "invalid config key foo" in r.stderr
    r = run([consul, "agent", "-bogus-flag", "x"], timeout=15)
    assert r.returncode == 1 and "flag provided but not defined: -bogus-flag" in r.stderr
    r = run([consul, "agent", "-config-file", tmp_path / "missing.json"], timeout=15)
    assert r.returncode == 1 and "missing.json" in r.stderr


# ============================================================================ carrier

def emit_yaml(conf: dict) -> str:
    """carrier.yml as the renderer writes it: strings JSON-quoted, block lists."""
    out = []
    for k, v in conf.items():
        if isinstance(v, list):
            out.append(f"{k}:" + ("".join(f"\n  - {json.dumps(x)}" for x in v) if v else " []"))
        elif isinstance(v, bool):
            out.append(f"{k}: {str(v).lower()}")
        else:
            out.append(f"{k}: {json.dumps(v)}")
    return "\n".join(out) + "\n"


def carrier_conf(root: Path, ip: str, consul: Consul, ports: dict) -> dict:
    return {
        "datadir": str(root / "data"), "verbosity": 3, "log-file": str(root / "logs" / "carrier.log"),
        "pprof": True, "pprof-addr": ip, "pprof-port": ports["pprof"], "rpc-host": ip, "rpc-port": ports["rpc"],
        "grpc-gateway-host": ip, "grpc-gateway-port": ports["gateway"], "p2p-local-ip": ip,
        "p2p-host-ip": "203.0.113.7", "p2p-udp-port": ports["udp"], "p2p-tcp-port": ports["tcp"],
        "p2p-priv-key": str(root / "config" / "p2p.key"), "bootstrap-node": ["enr:-Je4QKXyz"],
        "discovery-server-ip": consul.ips[0], "discovery-server-port": consul.ports[0]["http"],
        "blockchain.url": "ws://127.0.0.1:6790", "blockchain.hrp": "lat",
        "did.document-contract-proxy": "0x1000000000000000000000000000000000000001",
        "pay-agent-contract-proxy": "0x1000000000000000000000000000000000000005",
    }


@pytest.mark.time_limit(150)
def test_carrier_refuses_what_the_real_one_refuses_then_serves_and_registers(bins, bundle, tmp_path, procs, single_consul):
    consul = single_consul
    ip = "127.0.2.6"
    root = tmp_path / "carrier"
    (root / "config").mkdir(parents=True)
    ports = {"pprof": free_port(ip), "rpc": free_port(ip), "gateway": free_port(ip), "tcp": free_port(ip),
             "udp": free_port(ip, udp_too=True)}
    conf = carrier_conf(root, ip, consul, ports)
    cfg = root / "config" / "carrier.yml"
    log = root / "logs" / "carrier.log"
    keys = run([bins["keytool"], "genkeypair"]).stdout
    priv, pub = re.findall(r"(?m)^(?:PrivateKey|PublicKey): ([0-9a-f]+)$", keys)

    def attempt(change: dict | None = None, drop: tuple = ()) -> tuple[int, str]:
        c = {k: v for k, v in dict(conf, **(change or {})).items() if k not in drop}
        cfg.write_text(emit_yaml(c))
        r = run([bins["carrier"], "--config-file", cfg], timeout=20)
        return r.returncode, r.stdout + r.stderr

    rc, out = attempt({"bogus-key": 1})
    assert rc == 1 and "flag provided but not defined: -bogus-key" in out, out
    rc, out = attempt(drop=("discovery-server-ip",))
    assert rc == 1 and "discovery-server-ip and discovery-server-port are required" in out, out
    rc, out = attempt()
    assert rc == 1 and f"consul KV {KV_DC} is not set" in out, out
    assert f"consul KV {KV_DC} is not set" in log.read_text(), "the reason is in the log file too"
    consul.put_kv(0, KV_DC, "not-an-address")
    rc, out = attempt()
    assert rc == 1 and "is malformed: expected '<ip>_<port>'" in out, out
    consul.put_kv(0, KV_DC, "127.0.2.9_9099")
    consul.register(0, {"Name": "carrierService", "ID": "stale-carrier", "Tags": ["carrier"], "Port": 1})
    rc, out = attempt()
    assert rc == 1 and "a service tagged 'carrier' is already registered" in out and "stale-carrier" in out, out
    assert http_req("PUT", consul.url(0, "/v1/agent/service/deregister/stale-carrier"))[0] == 200
    rc, out = attempt()
    assert rc == 1 and "cannot read the p2p private key file" in out, out
    (root / "config" / "p2p.key").write_text("xyz\n")
    rc, out = attempt()
    assert rc == 1 and "does not hold a private key" in out, out
    assert not consul.services(0), "no failed start registered anything"

    (root / "config" / "p2p.key").write_text(priv + "\n")
    cfg.write_text(emit_yaml(conf))
    p = procs([bins["carrier"], "--config-file", cfg], tmp_path / "carrier.out")
    sid = f"carrierService_{ip}_{ports['rpc']}"
    wait_for(lambda: sid in consul.services(0) or not p.running(), 15, "carrierService in consul")
    assert p.running(), p.text()

    # gRPC port: HTTP/2, byte for byte.
    f = h2_exchange(ip, ports["rpc"])
    length, ftype, flags, stream, payload = f["settings"]
    assert (ftype, flags, stream) == (4, 0, 0) and length == len(payload) == 18
    assert payload == bytes.fromhex("000300000064" "00040000ffff" "000500004000")
    assert f["settings_ack"] == (0, 4, 1, 0, b"") and f["ping"] == (8, 6, 1, 0, b"standin!")
    info = get_json(f"http://{ip}:{ports['gateway']}/carrier/v1/yarn/nodeInfo")
    assert info["status"] == 0
    assert info["information"]["nodeId"] == pub, "the node id is the public key of the p2p key"
    assert info["information"]["version"] == "0.5.1-standin"
    assert info["information"]["dataCenter"] == {"ip": "127.0.2.9", "port": 9099}
    assert http_req("GET", f"http://{ip}:{ports['gateway']}/other")[0] == 404
    status, body, _ = http_req("GET", f"http://{ip}:{ports['pprof']}/debug/pprof/")
    assert status == 200 and b"/debug/pprof/" in body
    with socket.create_connection((ip, ports["tcp"]), timeout=2):
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, pytest.raises(OSError):
        u.bind((ip, ports["udp"]))

    svc = consul.services(0)[sid]
    assert (svc["Service"], svc["Tags"], svc["Address"], svc["Port"]) == ("carrierService", ["carrier"], ip, ports["rpc"])
    [check] = consul.wait_passing(0, sid)
    assert check["Type"] == "grpc"

    # A second carrier refuses to start while this one is registered.
    r = run([bins["carrier"], "--config-file", cfg], timeout=20)
    assert r.returncode == 1 and "already registered" in r.stderr, r.stdout + r.stderr

    p.signal(signal.SIGTERM)
    assert p.wait() == 0
    assert sid not in consul.services(0)
    text = log.read_text()
    assert "carrier stand-in starting" in text and f"deregistered from consul id={sid}" in text


# ============================================================================ admin

def admin_yaml(db: MariaDB, consul: Consul, web: int, grpc: int, password: str, log: Path) -> str:
    """application-admin.yml in the renderer's shape."""
    ip = db.ip
    url = (f"jdbc:mysql://{ip}:{db.port}/datum_admin?useUnicode=true&characterEncoding=utf8&serverTimezone=UTC"
           "&useSSL=false&allowPublicKeyRetrieval=true")
    q = json.dumps
    return (f"server:\n  port: {web}\nspring:\n  datasource:\n    druid:\n      url: {q(url)}\n"
            f"      username: \"datum_admin\"\n      password: {q(password)}\n"
            f"  cloud:\n    consul:\n      host: {q(consul.ips[0])}\n      port: {consul.ports[0]['http']}\n"
            f"      discovery:\n        instance-id: \"adminService-{ip}-{web}\"\n        prefer-ip-address: true\n"
            f"        ip-address: {q(ip)}\ngrpc:\n  server:\n    port: {grpc}\n"
            f"logging:\n  file:\n    name: {q(str(log))}\npinata-token: \"t\"\n"
            "pinata-gateway: \"https://gateway.pinata.cloud\"\npinata-url: \"https://api.pinata.cloud\"\n")


@pytest.mark.time_limit(240)
def test_admin_jar_needs_its_schema_then_serves_and_registers(bins, bundle, tmp_path, procs, single_consul):
    consul = single_consul
    ip = "127.0.2.5"
    db = MariaDB(tmp_path / "db", ip, procs)
    password = 'db "pa:ss" #1 %x'
    # The user's host is where the JDBC connection comes from: on a real host, connecting to its
    # own address, that address; here, to a 127.0.0.0/8 address, the loopback route's 127.0.0.1.
    client = "127.0.0.1"
    db.sql("CREATE DATABASE datum_admin; "
           f"CREATE USER 'datum_admin'@'{client}' IDENTIFIED BY '{password}'; "
           f"GRANT ALL ON datum_admin.* TO 'datum_admin'@'{client}';")
    work = tmp_path / "admin"
    (work / "config").mkdir(parents=True)
    jar = work / "admin.jar"
    jar.write_bytes(bins["admin"].read_bytes())
    web, grpc = free_port("0.0.0.0"), free_port("0.0.0.0")
    log = work / "logs" / "admin.log"
    cfg = work / "config" / "application-admin.yml"
    argv = ["java", "-Xms64m", "-Xmx256m", "-XX:+UseG1GC", "-jar", jar, "--spring.profiles.active=admin"]

    cfg.write_text(admin_yaml(db, consul, web, grpc, "wrong", log))
    r = run(argv, cwd=work, timeout=60)
    assert r.returncode == 1 and "cannot connect to the database" in r.stderr, r.stdout + r.stderr
    assert "Access denied for user 'datum_admin'" in log.read_text()

    cfg.write_text(admin_yaml(db, consul, web, grpc, password, log))
    r = run(argv, cwd=work, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "database 'datum_admin' has no table t_user, t_org" in r.stderr and "import admin.sql" in r.stderr
    assert "import admin.sql" in log.read_text() and password not in log.read_text()
    assert not consul.services(0)

    db.sql("", database="datum_admin", stdin=(bundle / "admin.sql").read_text())
    p = procs(argv, tmp_path / "admin.out", cwd=work)
    ok = wait_for(lambda: (not p.running()) or http_req("GET", f"http://{ip}:{web}/datum-admin/health")[:2],
                  60, "the admin's health endpoint")
    assert p.running(), p.text()
    assert ok == (200, b'{"status":"UP","version":"0.5.1-standin"}')  # the bundle's version, for upgrade tests
    assert http_req("GET", f"http://{ip}:{web}/datum-admin/other")[0] == 401
    assert http_req("GET", f"http://{ip}:{web}/elsewhere")[0] == 404
    assert_h2_server(ip, grpc)
    svcs = wait_for(lambda: (s := consul.services(0)) and len(s) == 2 and s, 15, "two admin services")
    web_id, grpc_id = f"adminService-{ip}-{web}", f"adminGrpcService-{ip}-{grpc}"
    assert (svcs[web_id]["Service"], svcs[web_id]["Port"], svcs[web_id]["Address"]) == ("adminService", web, ip)
    assert (svcs[grpc_id]["Service"], svcs[grpc_id]["Tags"], svcs[grpc_id]["Port"]) == ("adminGrpcService", ["adminGrpc"], grpc)
    assert consul.wait_passing(0, web_id)[0]["Type"] == "http"
    assert consul.wait_passing(0, grpc_id)[0]["Type"] == "grpc"
    assert "Started DatumAdminStandIn" in log.read_text()

    p.signal(signal.SIGTERM)
    assert p.wait(30) == 143, "the JVM's exit status after SIGTERM, as Spring Boot's"
    assert consul.services(0) == {}
    assert "deregistering" in log.read_text()


# ============================================================================ fighters

@pytest.fixture(scope="session")
def fighter_venv(bundle, tmp_path_factory) -> Path:
    """A fresh venv of the system python3 with the four wheels installed offline, as the deploy does."""
    venv = tmp_path_factory.mktemp("fighter") / "venv"
    r = run(["/usr/bin/python3", "-m", "venv", venv], timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = bundle / "wheels"
    r = run([venv / "bin" / "pip", "install", "--no-index", "--disable-pip-version-check",
             "--find-links", wheels, "--find-links", wheels / "deps",
             *[wheels / w for w in WHEELS], wheels / cpu_build() / ROSETTA], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return venv


def fighter_yaml(kind: str, ip, port, consul: Consul, root: Path) -> str:
    name, tag, ports = {"data": ("dataService", "data", "[31000, 31100]"),
                        "compute": ("jobService", "job", "[41000, 41100]")}[kind]
    q = json.dumps
    text = (f"register_ip: {q(ip)}\nport: {port}\nthread_pool_size: 10\ntask_port_range:\n"
            + "".join(f"  - {p}\n" for p in json.loads(ports))
            + f"pass_ice: true\ncode_root_dir: {q(str(root / 'code'))}\nresults_root_dir: {q(str(root / 'results'))}\n")
    if kind == "data":
        text += f"data_root: {q(str(root / 'data_root'))}\n"
    return text + (f"consul:\n  service_ip: {q(consul.ips[0])}\n  service_port: {consul.ports[0]['http']}\n"
                   f"  name: {q(name)}\n  tag: {q(tag)}\n  interval: \"10s\"\n  deregister: \"1m\"\n")


@pytest.mark.time_limit(240)
def test_fighters_install_offline_refuse_bad_addresses_then_serve_and_register(fighter_venv, tmp_path, procs, single_consul):
    consul = single_consul
    py = fighter_venv / "bin" / "python"
    r = run([py, "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"])
    installed = {d["name"].lower().replace("-", "_"): d["version"] for d in json.loads(r.stdout)}
    for dist, version in [("fighter_dcv", "0.9.1"), ("datum_network_channel_sdk", "2.0.4"),
                          ("latticex_psi", "1.0.0"), ("latticex_rosetta", "1.0.0"), ("pyyaml", "6.0.2")]:
        assert installed.get(dist) == version, installed
    r = run([py, "-c", "import latticex.rosetta as r; print(r.BUILD)"])
    assert r.stdout.strip() == cpu_build(), r.stdout + r.stderr

    ip = "127.0.2.7"
    cfg = tmp_path / "data.yml"
    module = ["-u", "-m", "fighter_project.data_svc.main", cfg]
    for bad_ip, bad_port, message in [
        (ip, 1024, "port must be an integer above 1024"),
        ("0.0.0.0", 8700, "0.0.0.0 cannot be registered in consul"),
        ("localhost", 8700, "register_ip must be this host's IPv4 address in dotted form"),
    ]:
        cfg.write_text(fighter_yaml("data", bad_ip, bad_port, consul, tmp_path))
        r = run([py, *module], timeout=30)
        assert r.returncode == 1 and message in r.stdout, r.stdout + r.stderr

    started = {}
    for kind in ("data", "compute"):
        port = free_port(ip)
        conf = tmp_path / f"{kind}.yml"
        conf.write_text(fighter_yaml(kind, ip, port, consul, tmp_path / kind))
        p = procs([py, "-u", "-m", f"fighter_project.{kind}_svc.main", conf], tmp_path / f"{kind}.out")
        started[kind] = (p, port)
    for kind, (name, tag) in {"data": ("dataService", "data"), "compute": ("jobService", "job")}.items():
        p, port = started[kind]
        sid = f"{name}_{ip}_{port}"
        wait_for(lambda: sid in consul.services(0) or not p.running(), 30, f"{name} in consul")
        assert p.running(), p.text()
        assert_h2_server(ip, port)
        svc = consul.services(0)[sid]
        assert (svc["Service"], svc["Tags"], svc["Address"], svc["Port"]) == (name, [tag], ip, port)
        [check] = consul.wait_passing(0, sid)
        assert check["Type"] == "grpc"
        out = p.text()
        assert f"latticex_rosetta 1.0.0 build={cpu_build()}" in out and "datum_network_channel_sdk 2.0.4" in out
        assert (tmp_path / kind / "code").is_dir()
    assert (tmp_path / "data" / "data_root").is_dir()
    for kind, (p, port) in started.items():
        p.signal(signal.SIGTERM)
        assert p.wait() == 0, p.text()
    assert consul.services(0) == {}


# ============================================================================ metis-deploy health

@pytest.fixture(scope="session")
def metis_deploy() -> Path:
    given = os.environ.get("METIS_DEPLOY_BIN")
    if given:
        return Path(given)
    r = run(["cargo", "build", "--quiet", "--locked", "-p", "metis-deploy"], timeout=3600, cwd=REPO)
    assert r.returncode == 0, r.stderr
    return REPO / "target" / "debug" / "metis-deploy"


HOSTS = ["127.0.2.21", "127.0.2.22", "127.0.2.23"]
ICE, CARRIER, ADMIN = HOSTS  # where the groups live (consul on all three)


def health_inventory(path: Path, venv: Path) -> dict:
    """The organisation on 127.0.2.21-23 with free ports (MySQL and nginx keep 3306 and 80)."""
    h = HOSTS
    cp = [{k: free_port(ip, udp_too=k in ("serf_lan", "serf_wan", "dns")) for k in
           ("server", "serf_lan", "serf_wan", "http", "dns")} for ip in h]
    ports = {"glacier2": free_port(ICE), "grid": free_port(ICE), "data": free_port(ADMIN), "compute": free_port(ICE),
             # The admin binds every address, as Spring Boot does.
             "admin_web": free_port("0.0.0.0"), "admin_grpc": free_port("0.0.0.0")}
    for ip, port in ((ADMIN, 3306), (ADMIN, 80)):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((ip, port))  # fails the test early when taken
    lst = lambda k: "[" + ", ".join(str(p[k]) for p in cp) + "]"  # noqa: E731
    env = lambda n: "\"{{ lookup('ansible.builtin.env', '" + n + "') }}\""  # noqa: E731
    path.write_text(f"""# stand-in health test: the whole organisation on three loopback hosts
[consul]
{h[0]}
{h[1]}
{h[2]}
[ice_via]
{ICE}
[carrier]
{CARRIER}
[admin]
{ADMIN}
[data]
{ADMIN}
[compute]
{ICE}
[all:vars]
cluster_name = standin-health
consul_server_port = {lst('server')}
consul_serf_lan_port = {lst('serf_lan')}
consul_serf_wan_port = {lst('serf_wan')}
consul_http_port = {lst('http')}
consul_dns_port = {lst('dns')}
mysql_root_password = {env('METIS_MYSQL_ROOT_PASSWORD')}
amin_user = datum_admin
admin_password = {env('METIS_ADMIN_DB_PASSWORD')}
admin_web_port = {ports['admin_web']}
admin_grpc_server_port = {ports['admin_grpc']}
admin_jvm_opts = -Xms32m -Xmx256m -XX:+UseG1GC
pinata_token = {env('METIS_PINATA_TOKEN')}
carrier_external_ip = {CARRIER}
carrier_pprof_port = {free_port(CARRIER)}
carrier_rpc_port = {free_port(CARRIER)}
carrier_grpc_gateway_port = {free_port(CARRIER)}
carrier_p2p_udp_port = {free_port(CARRIER, udp_too=True)}
carrier_p2p_tcp_port = {free_port(CARRIER)}
ice_via_external_ip = {ICE}
ice_glacier2_port = {ports['glacier2']}
ice_grid_port = {ports['grid']}
ice_protocol = tcp
storage_ip = {ADMIN}
storage_port = 9099
data_port = [{ports['data']}]
compute_port = [{ports['compute']}]
fighter_python = {venv / 'bin' / 'python'}
""")
    return ports


class Hosts:
    """The rendered files of each host under roots/<host> (only /opt/metis and /etc move there),
    and its units started as systemd would: ExecStart with Environment's $VARS expanded."""

    def __init__(self, rendered: Path, roots: Path, procs, logs: Path):
        self.roots, self.procs, self.logs = roots, procs, logs
        self.units: dict[tuple[str, str], str] = {}
        for host in HOSTS:
            for f in sorted((rendered / host).rglob("*")):
                if not f.is_file():
                    continue
                rel = "/" + f.relative_to(rendered / host).as_posix()
                if rel.startswith("/etc/systemd/system/"):
                    self.units[(host, f.name)] = f.read_text()
                    continue
                dest = Path(self.on(host, rel))
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(self.on(host, f.read_text()))

    def on(self, host: str, path: str) -> str:
        root = self.roots / host
        return path.replace("/opt/metis", f"{root}/opt/metis").replace("/etc/", f"{root}/etc/")

    def path(self, host: str, path: str) -> Path:
        return Path(self.on(host, path))

    def start(self, host: str, unit: str):
        text = self.units[(host, unit)]
        field = lambda k: re.findall(rf"(?m)^{k}=(.*)$", text)  # noqa: E731
        env = dict(shlex.split(e)[0].split("=", 1) for e in field("Environment"))
        argv = []
        for word in shlex.split(field("ExecStart")[0]):
            argv += env[word[1:]].split() if word.startswith("$") else [self.on(host, word)]
        cwd = self.path(host, field("WorkingDirectory")[0])
        (cwd / "logs").mkdir(parents=True, exist_ok=True)
        return self.procs(argv, self.logs / f"{unit}-{host}.out", cwd=cwd)


def start_nginx(hosts: Hosts, host: str, procs, work: Path):
    """Debian's nginx with the rendered site as its only server (a main config of the test's)."""
    site = hosts.path(host, "/etc/nginx/conf.d/metis-admin.conf")
    d = work / "nginx"
    d.mkdir()
    conf = d / "nginx.conf"
    conf.write_text(
        f"daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n"
        f" fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n"
        f" include {site};\n}}\n")
    p = procs(["nginx", "-p", f"{d}/", "-c", conf, "-e", f"{d}/error.log"], d / "nginx.out")
    wait_for(lambda: socket.create_connection((host, 80), timeout=1).close() or True, 20, "nginx on port 80")
    return p


@pytest.mark.time_limit(300)
def test_metis_deploy_health_passes_against_standins_running_rendered_configs(
        metis_deploy, bins, bundle, fighter_venv, tmp_path, procs):
    """Renders the organisation with the core, installs the bundle where the deploy would, starts
    every service from its rendered unit (stand-ins; Debian's MariaDB, nginx, IceGrid, Glacier2)
    in the deploy's start order, and expects `metis-deploy health` to pass."""
    inv = tmp_path / "inventory.ini"
    env = dict(os.environ, **SECRETS)
    # Free ports come from the ephemeral range, which holds the compute task ports (41000-41100):
    # pick again while the core finds a conflict.
    for _ in range(20):
        ports = health_inventory(inv, fighter_venv)
        checked = run([metis_deploy, "validate", inv], env=env)
        if "port-conflict" not in checked.stdout + checked.stderr:
            break
    else:
        pytest.fail(f"no conflict-free ports in 20 picks; the last:\n{checked.stdout}{checked.stderr}")
    rendered = tmp_path / "rendered"
    r = run([metis_deploy, "render", "--out", rendered, inv], env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    hosts = Hosts(rendered, tmp_path / "roots", procs, tmp_path)

    # Artifacts where the deploy puts them.
    for host in HOSTS:
        with zipfile.ZipFile(bundle / "consul.zip") as z:
            z.extract("consul", hosts.path(host, "/opt/metis/consul"))
        hosts.path(host, "/opt/metis/consul/consul").chmod(0o755)
    for exe in ("carrier", "keytool"):
        target = hosts.path(CARRIER, f"/opt/metis/carrier/{exe}")
        target.write_bytes((bundle / exe).read_bytes())
        target.chmod(0o755)
    keys = run([hosts.path(CARRIER, "/opt/metis/carrier/keytool"), "genkeypair"]).stdout
    key = hosts.path(CARRIER, "/opt/metis/carrier/config/p2p.key")
    key.write_text(re.search(r"PrivateKey: ([0-9a-f]{64})", keys).group(1) + "\n")
    key.chmod(0o600)
    hosts.path(ADMIN, "/opt/metis/admin/admin.jar").write_bytes((bundle / "admin.jar").read_bytes())
    web = hosts.path(ADMIN, "/opt/metis/admin/web")
    web.mkdir(parents=True)
    with tarfile.open(bundle / "admin.tar") as t:
        t.extractall(web, filter="data")
    hosts.path(ICE, "/opt/metis/ice_via/data/registry").mkdir(parents=True)
    hosts.path(ICE, "/opt/metis/ice_via/logs").mkdir(parents=True)

    # consul, then the KV keys, then the rest in the deploy's start order.
    for host in HOSTS:
        hosts.start(host, "metis-consul.service")
    first = json.loads(hosts.path(ICE, "/opt/metis/consul/config/consul.json").read_text())
    api = f"http://{ICE}:{first['ports']['http']}"
    wait_for(lambda: get_json(f"{api}/v1/status/leader"), 30, "a consul leader")
    for k, value in [("datumnetwork/glacier2_ip_port", f"{ICE}_{ports['glacier2']}"),
                     ("datumnetwork/icegrid_ip_port", f"{ICE}_{ports['grid']}"), (KV_DC, f"{ADMIN}_9099")]:
        assert http_req("PUT", f"{api}/v1/kv/{k}", value)[:2] == (200, b"true")
    hosts.start(ICE, "metis-icegrid.service")
    wait_for(lambda: socket.create_connection((ICE, ports["grid"]), timeout=1).close() or True, 20, "IceGrid")
    hosts.start(ICE, "metis-glacier2.service")
    carrier = hosts.start(CARRIER, "metis-carrier.service")
    db = MariaDB(tmp_path / "mysql", ADMIN, procs, port=3306,
                 defaults_file=hosts.path(ADMIN, "/etc/mysql/mariadb.conf.d/60-metis.cnf"))
    # What the deploy does for the admin: its database from admin.sql and its user (from the
    # address it connects from: here the loopback route's 127.0.0.1, on a real host its own).
    password = SECRETS["METIS_ADMIN_DB_PASSWORD"]
    db.sql(f"CREATE DATABASE datum_admin; CREATE USER 'datum_admin'@'127.0.0.1' IDENTIFIED BY '{password}'; "
           "GRANT ALL ON datum_admin.* TO 'datum_admin'@'127.0.0.1';")
    db.sql("", database="datum_admin", stdin=(bundle / "admin.sql").read_text())
    hosts.start(ADMIN, "metis-admin.service")
    start_nginx(hosts, ADMIN, procs, tmp_path)
    hosts.start(ADMIN, "metis-data.service")
    hosts.start(ICE, "metis-compute.service")

    r = run([metis_deploy, "health", "-i", inv, "--format", "json", "--wait", "90", "--timeout", "3000"],
            env=env, timeout=150)
    report = json.loads(r.stdout or "{}")
    failed = [c for c in report.get("checks", []) if not c["ok"]]
    logs = {p.name: p.read_text()[-1500:] for p in tmp_path.glob("*.out")}
    assert r.returncode == 0 and report["healthy"] is True, (failed, r.stderr, logs)
    names = {(c["service"], c["check"]) for c in report["checks"]}
    for want in [("consul", "leader"), ("consul", "peers"), ("consul", f"kv {KV_DC}"), ("consul", "http api"),
                 ("icegrid", "registry"), ("glacier2", "router"),
                 ("carrier", "rpc"), ("carrier", "grpc gateway"), ("carrier", "pprof"),
                 ("carrier", "consul carrierService"), ("mysql", "greeting"), ("admin", "web"), ("admin", "grpc"),
                 ("admin", "consul adminService"), ("admin", "consul adminGrpcService"), ("nginx", "http proxy"),
                 ("data", "grpc"), ("data", "consul dataService"), ("compute", "grpc"), ("compute", "consul jobService")]:
        assert want in names, (want, sorted(names))
    status, body, _ = http_req("GET", f"http://{ADMIN}:80/")
    assert status == 200 and b"Datum admin: metis-deploy stand-in" in body, "nginx serves the unpacked admin.tar"

    # The checks can fail: with the carrier stopped, its checks do.
    carrier.signal(signal.SIGTERM)
    assert carrier.wait() == 0
    r = run([metis_deploy, "health", "-i", inv, "--format", "json", "--service", "carrier", "--timeout", "2000"],
            env=env, timeout=60)
    report = json.loads(r.stdout)
    assert r.returncode == 1 and not report["healthy"]
    by_check = {c["check"]: c for c in report["checks"]}
    assert "refused" in by_check["rpc"]["detail"] and not by_check["consul carrierService"]["ok"]
