"""The fighter service, data or compute: metis-deploy STAND-IN (not the real fighter).

Reads the YAML config, refuses a register_ip that is 0.0.0.0, not dotted IPv4, or a port <= 1024
(as the real fighter does), imports channel_sdk, latticex.psi and latticex.rosetta and logs
their versions, serves HTTP/2 (gRPC) on register_ip:port, registers dataService/jobService with
the consul agent of `consul.service_ip:service_port` with a gRPC check, and deregisters on SIGTERM.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import sys
import threading

from . import VERSION
from ._standin import consulapi, h2

KINDS = {
    "data": {"module": "fighter_project.data_svc.main", "name": "dataService", "tag": "data"},
    "compute": {"module": "fighter_project.compute_svc.main", "name": "jobService", "tag": "job"},
}
MIN_PORT = 1025


class Fatal(Exception):
    pass


def _log(kind: str) -> logging.Logger:
    log = logging.getLogger(f"fighter-standin.{kind}_svc")
    log.handlers.clear()
    log.propagate = False
    h = logging.StreamHandler(sys.stdout)
    h.setFormatter(logging.Formatter(f"%(asctime)s [%(levelname)s] fighter-standin {kind}_svc: %(message)s"))
    log.addHandler(h)
    log.setLevel(logging.INFO)
    return log


def load(path: str) -> dict:
    try:
        import yaml
    except ImportError:
        raise Fatal("PyYAML is not installed in this Python environment (the fighter's dependency)") from None
    try:
        with open(path, encoding="utf-8") as f:
            conf = yaml.safe_load(f)
    except OSError as e:
        raise Fatal(f"cannot read the config file {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise Fatal(f"cannot parse the config file {path}: {e}") from None
    if not isinstance(conf, dict):
        raise Fatal(f"the config file {path} is not a map of settings")
    return conf


def validate(conf: dict, kind: str) -> tuple[str, int, dict]:
    ip = conf.get("register_ip")
    try:
        if not isinstance(ip, str) or str(ipaddress.IPv4Address(ip)) != ip:
            raise ValueError
    except ValueError:
        raise Fatal(f"register_ip must be this host's IPv4 address in dotted form (not a host name), got {ip!r}") from None
    if ip == "0.0.0.0":
        raise Fatal("register_ip must be this host's address: 0.0.0.0 cannot be registered in consul")
    port = conf.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not MIN_PORT <= port <= 65535:
        raise Fatal(f"port must be an integer above 1024 (and at most 65535), got {port!r}")
    consul = conf.get("consul")
    if not isinstance(consul, dict) or not consul.get("service_ip") or not consul.get("service_port"):
        raise Fatal("consul.service_ip and consul.service_port are required: the consul agent to register with")
    return ip, port, consul


def libraries(log: logging.Logger) -> None:
    found = []
    for module, dist in (("channel_sdk", "datum_network_channel_sdk"), ("latticex.psi", "latticex_psi"),
                         ("latticex.rosetta", "latticex_rosetta")):
        try:
            mod = __import__(module, fromlist=["__version__"])
        except ImportError as e:
            raise Fatal(f"cannot import {module} (wheel {dist}): {e}") from None
        build = f" build={mod.BUILD}" if hasattr(mod, "BUILD") else ""
        found.append(f"{dist} {getattr(mod, '__version__', '?')}{build}")
    log.info("libraries: %s", ", ".join(found))


def main(kind: str, argv: list[str]) -> int:
    spec = KINDS[kind]
    if argv and argv[0] in ("--version", "-V", "version"):
        print(f"fighter {kind}_svc {VERSION} (metis-deploy stand-in, not the real fighter)")
        return 0
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print(f"usage: python -u -m {spec['module']} <config.yml>\n"
              f"fighter {kind} service: metis-deploy stand-in {VERSION}, not the real fighter", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    log = _log(kind)
    try:
        return run(kind, spec, argv[0], log)
    except Fatal as e:
        log.error("%s", e)
        log.error("fighter %s_svc stand-in exiting", kind)
        return 1


def run(kind: str, spec: dict, path: str, log: logging.Logger) -> int:
    log.info("fighter %s_svc stand-in %s starting (metis-deploy stand-in, not the real fighter), config %s",
             kind, VERSION, path)
    conf = load(path)
    ip, port, c = validate(conf, kind)
    libraries(log)
    for key in ("code_root_dir", "results_root_dir") + (("data_root",) if kind == "data" else ()):
        d = conf.get(key)
        if d:
            try:
                os.makedirs(d, exist_ok=True)
            except OSError as e:
                raise Fatal(f"cannot create {key} {d}: {e.strerror}") from None
    try:
        srv = h2.start_server(ip, port, f"fighter {kind}_svc stand-in")
    except OSError as e:
        raise Fatal(f"cannot listen on {ip}:{port}: {e.strerror}") from None
    log.info("gRPC server listening on %s:%d", ip, port)
    consul = consulapi.Consul(c["service_ip"], c["service_port"])
    name, tag = c.get("name") or spec["name"], c.get("tag") or spec["tag"]
    service_id = f"{name}_{ip}_{port}"
    registration = {
        "ID": service_id, "Name": name, "Tags": [tag], "Address": ip, "Port": port,
        "Meta": {"version": VERSION, "standin": "true"},
        "Check": {"GRPC": f"{ip}:{port}", "Interval": str(c.get("interval") or "10s"),
                  "DeregisterCriticalServiceAfter": str(c.get("deregister") or "1m")},
    }
    try:
        consul.register(registration)
    except consulapi.ConsulError as e:
        srv.shutdown()
        srv.server_close()
        raise Fatal(str(e)) from None
    log.info("registered %s (id %s, tag %s) with consul at %s", name, service_id, tag, consul.base)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda s, f: stop.set())
    signal.signal(signal.SIGINT, lambda s, f: stop.set())
    while not stop.wait(0.5):
        pass
    log.info("stopping: deregistering %s", service_id)
    try:
        consul.deregister(service_id)
    except consulapi.ConsulError as e:
        log.warning("could not deregister from consul: %s", e)
    srv.shutdown()
    srv.server_close()
    log.info("fighter %s_svc stand-in stopped", kind)
    return 0
