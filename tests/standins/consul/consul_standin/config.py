"""Consul STAND-IN: agent configuration (JSON files and command-line flags), validated the way
HashiCorp Consul 1.10 validates them: an unknown key is an error."""

from __future__ import annotations

import ipaddress
import json
import os
import re

# Top-level keys of consul 1.10's agent configuration. A dict value lists the nested keys the
# stand-in checks; None means "known, content not checked".
_PORTS = {"dns", "http", "https", "serf_lan", "serf_wan", "server", "grpc", "proxy_min_port",
          "proxy_max_port", "sidecar_min_port", "sidecar_max_port", "expose_min_port",
          "expose_max_port"}
_ADDRESSES = {"dns", "http", "https", "grpc"}
_UI_CONFIG = {"enabled", "dir", "content_path", "metrics_provider", "metrics_provider_files",
              "metrics_provider_options_json", "metrics_proxy", "dashboard_url_templates"}
KNOWN: dict[str, set | None] = {
    k: None
    for k in """
    acl acl_agent_master_token acl_agent_token acl_datacenter acl_default_policy acl_down_policy
    acl_enable_key_list_policy acl_master_token acl_replication_token acl_token acl_ttl
    advertise_addr advertise_addr_ipv4 advertise_addr_ipv6 advertise_addr_wan
    advertise_addr_wan_ipv4 advertise_addr_wan_ipv6 advertise_reconnect_timeout alt_domain audit
    auto_config auto_encrypt autopilot bind_addr bootstrap bootstrap_expect ca_file ca_path cache
    cert_file check check_output_max_size check_update_interval checks client_addr config_entries
    connect data_dir datacenter default_query_time disable_anonymous_signature
    disable_coordinates disable_host_node_id disable_http_unprintable_char_filter
    disable_keyring_file disable_remote_exec disable_update_check discard_check_output
    discovery_max_stale dns_config domain enable_acl_replication enable_agent_tls_for_checks
    enable_central_service_config enable_debug enable_local_script_checks enable_script_checks
    enable_syslog encrypt encrypt_verify_incoming encrypt_verify_outgoing gossip_lan gossip_wan
    http_config key_file leave_on_terminate license_path limits log_file log_json log_level
    log_rotate_bytes log_rotate_duration log_rotate_max_files max_query_time node_id node_meta
    node_name non_voting_server performance pid_file primary_datacenter primary_gateways
    primary_gateways_interval protocol raft_boltdb raft_protocol raft_snapshot_interval
    raft_snapshot_threshold raft_trailing_logs read_replica reconnect_timeout
    reconnect_timeout_wan recursors rejoin_after_leave retry_interval retry_interval_wan
    retry_join retry_join_wan retry_max retry_max_wan rpc segment segments serf_lan serf_lan_allowed_cidrs
    serf_wan serf_wan_allowed_cidrs server server_name service services session_ttl_min
    skip_leave_on_interrupt start_join start_join_wan syslog_facility telemetry tls_cipher_suites
    tls_min_version tls_prefer_server_cipher_suites translate_wan_addrs ui ui_config
    ui_content_path ui_dir unix_sockets use_streaming_backend verify_incoming verify_incoming_https
    verify_incoming_rpc verify_outgoing verify_server_hostname watches
    """.split()
}
KNOWN.update({"ports": _PORTS, "addresses": _ADDRESSES, "ui_config": _UI_CONFIG})

# Keys the stand-in accepts but does not implement (a warning at start).
IGNORED = {"encrypt", "acl", "auto_encrypt", "auto_config", "ca_file", "cert_file", "key_file",
           "verify_incoming", "verify_outgoing", "verify_server_hostname", "connect", "telemetry",
           "watches", "segments", "audit", "retry_join_wan", "start_join_wan"}

LIST_KEYS = {"retry_join", "start_join", "retry_join_wan", "start_join_wan", "services", "checks",
             "recursors"}

_LOG_LEVELS = {"trace": "TRACE", "debug": "DEBUG", "info": "INFO", "warn": "WARN",
               "warning": "WARN", "err": "ERR", "error": "ERR"}
_DC = re.compile(r"^[a-z0-9_-]+$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class ConfigError(Exception):
    pass


def parse_duration(value, what: str) -> float:
    """A Go duration ("10s", "1m30s", "500ms") or a number of seconds, in seconds."""
    if isinstance(value, bool):
        raise ConfigError(f"{what}: expected a duration such as \"10s\", got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{what}: expected a duration such as \"10s\", got {value!r}")
    s = value.strip()
    if s == "0":
        return 0.0
    pos, total = 0, 0.0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ConfigError(f"{what}: time: invalid duration \"{value}\"")
    return total


def _load_file(path: str) -> dict:
    if path.endswith(".hcl"):
        raise ConfigError(f"Error parsing {path}: the consul stand-in reads JSON configuration only")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(f"Error loading {path}: {e.strerror}") from None
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise ConfigError(f"failed to parse {path}: {e}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"failed to parse {path}: the top level is not a JSON object")
    errors = []
    for k, v in doc.items():
        if k not in KNOWN:
            errors.append(f"invalid config key {k}")
        elif isinstance(KNOWN[k], set):
            if not isinstance(v, dict):
                errors.append(f"'{k}' expected a map, got '{type(v).__name__}'")
                continue
            errors.extend(f"invalid config key {k}.{sub}" for sub in v if sub not in KNOWN[k])
    if errors:
        lines = "".join(f"\n\t* {e}" for e in errors)
        n = len(errors)
        raise ConfigError(f"failed to parse {path}: {n} error{'s' if n > 1 else ''} occurred:{lines}\n")
    return doc


def config_files(files: list[str], dirs: list[str]) -> list[str]:
    out = list(files)
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError as e:
            raise ConfigError(f"Error loading {d}: {e.strerror}") from None
        for n in names:
            p = os.path.join(d, n)
            if (n.endswith(".json") or n.endswith(".hcl")) and os.path.isfile(p):
                out.append(p)
    return out


def merge(into: dict, doc: dict) -> dict:
    for k, v in doc.items():
        if k in LIST_KEYS:
            into[k] = list(into.get(k) or []) + (v if isinstance(v, list) else [v])
        elif isinstance(v, dict) and isinstance(into.get(k), dict):
            into[k] = merge(dict(into[k]), v)
        else:
            into[k] = v
    return into


def load(files: list[str], dirs: list[str], overrides: dict | None = None) -> dict:
    """Reads and merges the files (flags last), without the semantic checks of `build`."""
    paths = config_files(files, dirs)
    merged: dict = {}
    for p in paths:
        merge(merged, _load_file(p))
    if overrides:
        merge(merged, overrides)
    return merged


def _int(raw: dict, key: str, default: int, errors: list, lo: int = -1, hi: int = 65535) -> int:
    v = raw.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int):
        errors.append(f"'{key}' expected type 'int', got unconvertible type '{type(v).__name__}', value: '{v}'")
        return default
    if not lo <= v <= hi:
        errors.append(f"'{key}' out of range: {v}")
    return v


def _bool(raw: dict, key: str, default: bool, errors: list) -> bool:
    v = raw.get(key, default)
    if not isinstance(v, bool):
        errors.append(f"'{key}' expected type 'bool', got unconvertible type '{type(v).__name__}', value: '{v}'")
        return default
    return v


def _str(raw: dict, key: str, default: str, errors: list) -> str:
    v = raw.get(key, default)
    if not isinstance(v, str):
        errors.append(f"'{key}' expected type 'string', got unconvertible type '{type(v).__name__}', value: '{v}'")
        return default
    return v


def _ip(value: str, what: str, errors: list) -> None:
    if "{{" in value:
        errors.append(f"{what}: go-sockaddr templates are not supported by the consul stand-in: {value}")
        return
    try:
        ipaddress.ip_address(value)
    except ValueError:
        errors.append(f"{what}: '{value}' is not a valid IP address")


def build(raw: dict, need_data_dir: bool = True) -> dict:
    """The runtime configuration from the merged raw one; raises ConfigError listing every problem."""
    errors: list[str] = []
    c: dict = {}
    c["datacenter"] = _str(raw, "datacenter", "dc1", errors).lower()
    if not _DC.match(c["datacenter"]):
        errors.append(f"datacenter: invalid datacenter name '{c['datacenter']}' (only [a-z0-9_-] are allowed)")
    c["node_name"] = _str(raw, "node_name", os.uname().nodename, errors)
    if not c["node_name"]:
        errors.append("node_name cannot be empty")
    c["server"] = _bool(raw, "server", False, errors)
    c["bootstrap"] = _bool(raw, "bootstrap", False, errors)
    c["bootstrap_expect"] = _int(raw, "bootstrap_expect", 0, errors, 0, 1000)
    if c["bootstrap_expect"] and not c["server"]:
        errors.append("'bootstrap_expect > 0' requires 'server = true'")
    if c["bootstrap_expect"] and c["bootstrap"]:
        errors.append("'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive")
    if c["bootstrap"] and not c["server"]:
        errors.append("'bootstrap = true' requires 'server = true'")
    c["bind_addr"] = _str(raw, "bind_addr", "0.0.0.0", errors)
    _ip(c["bind_addr"], "bind_addr", errors)
    adv = _str(raw, "advertise_addr", "", errors)
    if adv:
        _ip(adv, "advertise_addr", errors)
    c["advertise_addr"] = adv or (c["bind_addr"] if c["bind_addr"] not in ("0.0.0.0", "::") else "127.0.0.1")
    client = _str(raw, "client_addr", "127.0.0.1", errors)
    c["client_addrs"] = client.split()
    for a in c["client_addrs"]:
        _ip(a, "client_addr", errors)
    addresses = raw.get("addresses") or {}
    c["http_addrs"] = (addresses.get("http") or "").split() or c["client_addrs"]
    c["dns_addrs"] = (addresses.get("dns") or "").split() or c["client_addrs"]
    c["grpc_addrs"] = (addresses.get("grpc") or "").split() or c["client_addrs"]
    ports = raw.get("ports") or {}
    defaults = {"dns": 8600, "http": 8500, "https": -1, "grpc": -1, "serf_lan": 8301,
                "serf_wan": 8302, "server": 8300}
    c["ports"] = {k: _int(ports, k, d, errors) for k, d in defaults.items()}
    for k in ("serf_lan", "server"):
        if c["ports"][k] <= 0:
            errors.append(f"ports.{k} must be a port number, got {c['ports'][k]}")
    data_dir = _str(raw, "data_dir", "", errors)
    if need_data_dir and not data_dir:
        errors.append("data_dir cannot be empty")
    c["data_dir"] = data_dir
    c["log_file"] = _str(raw, "log_file", "", errors)
    level = _str(raw, "log_level", "info", errors)
    if level.lower() not in _LOG_LEVELS:
        errors.append(f"Invalid log level: {level}. Valid log levels are: [TRACE DEBUG INFO WARN ERR]")
    c["log_level"] = _LOG_LEVELS.get(level.lower(), "INFO")
    ui_config = raw.get("ui_config") or {}
    c["ui"] = _bool(ui_config, "enabled", _bool(raw, "ui", False, errors), errors)
    for key in ("retry_join", "start_join"):
        v = raw.get(key) or []
        if not all(isinstance(x, str) for x in v):
            errors.append(f"'{key}' expected a list of addresses, got {v!r}")
            v = []
        c[key] = v
    try:
        c["retry_interval"] = parse_duration(raw.get("retry_interval", "30s"), "retry_interval")
    except ConfigError as e:
        errors.append(str(e))
        c["retry_interval"] = 30.0
    c["retry_max"] = _int(raw, "retry_max", 0, errors, 0, 1 << 30)
    c["leave_on_terminate"] = _bool(raw, "leave_on_terminate", True, errors)
    c["node_meta"] = raw.get("node_meta") or {}
    services = list(raw.get("services") or [])
    if "service" in raw:
        services.append(raw["service"])
    if not all(isinstance(s, dict) for s in services):
        errors.append("'services' expected a list of service definitions")
        services = []
    c["services"] = services
    c["ignored"] = sorted(k for k in raw if k in IGNORED)
    if errors:
        lines = "".join(f"\n\t* {e}" for e in errors)
        raise ConfigError(f"{len(errors)} error{'s' if len(errors) > 1 else ''} occurred:{lines}\n")
    return c
