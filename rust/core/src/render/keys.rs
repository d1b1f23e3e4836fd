//! The keys each consumer accepts (SERVICES.md). The renderer writes no other key; the tests
//! check every rendered key against these tables. A trailing `.*` accepts a whole prefix.

/// The carrier's flags = the keys of `carrier.yml` (an unknown key stops it).
pub const CARRIER: &[&str] = &[
    "datadir",
    "verbosity",
    "pprof",
    "pprof-port",
    "pprof-addr",
    "debug",
    "rpc-host",
    "rpc-port",
    "tls-cert",
    "tls-key",
    "disable-grpc-gateway",
    "grpc-gateway-host",
    "grpc-gateway-port",
    "enable-debug-rpc-endpoints",
    "no-discovery",
    "bootstrap-node",
    "p2p-udp-port",
    "p2p-tcp-port",
    "p2p-local-ip",
    "p2p-host-ip",
    "p2p-priv-key",
    "p2p-max-peers",
    "blockchain.url",
    "blockchain.hrp",
    "did.document-contract-proxy",
    "did.pct-contract-proxy",
    "did.credential-contract-proxy",
    "did.proposal-contract-proxy",
    "pay-agent-contract-proxy",
    "task.metadata-consume-option",
    "discovery-server-ip",
    "discovery-server-port",
    "enable-grpc-gateway-private-check",
    "not-check-private-ip",
    "public-rpc-service",
    "log-file",
    "log-format",
    "kms.*",
];

/// Keys the fighters (data and compute) read; nested keys dotted.
pub const FIGHTER: &[&str] = &[
    "register_ip",
    "port",
    "thread_pool_size",
    "task_port_range",
    "pass_ice",
    "certs.*",
    "channel_log_level",
    "total_bandwidth",
    "code_root_dir",
    "results_root_dir",
    "data_root",
    "chunk_size",
    "consul.service_ip",
    "consul.service_port",
    "consul.name",
    "consul.tag",
    "consul.interval",
    "consul.deregister",
];

/// Fighter keys only the data service reads.
pub const FIGHTER_DATA_ONLY: &[&str] = &["data_root", "chunk_size"];

/// Consul agent configuration keys the renderer uses (a subset of consul's own); nested dotted.
pub const CONSUL: &[&str] = &[
    "datacenter",
    "node_name",
    "server",
    "bootstrap_expect",
    "bind_addr",
    "client_addr",
    "data_dir",
    "log_file",
    "log_level",
    "ui_config.enabled",
    "retry_join",
    "ports.server",
    "ports.serf_lan",
    "ports.serf_wan",
    "ports.http",
    "ports.dns",
];

/// Whether `key` (dotted) is in `table`, honouring `prefix.*` entries.
pub fn accepts(table: &[&str], key: &str) -> bool {
    table.iter().any(|k| match k.strip_suffix(".*") {
        Some(prefix) => key
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.')),
        None => *k == key,
    })
}
