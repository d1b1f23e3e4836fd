//! Consul: one agent per consul host, all servers. The first host's agent is the one every
//! other service registers with; it is also where the KV entries are written.

use super::{Artifact, ArtifactKind, Backup, Ctx, Describe, Dir, KvEntry, NamedCheck, Port, Word};
use crate::health::CheckKind;
use crate::model::variables as var;
use crate::model::{defaults, ConsulNode, Group};
use crate::render::{self, RenderedFile};

/// Consul's HTTP API path its port check asks (answers without a leader too).
pub(crate) const LEADER_PATH: &str = "/v1/status/leader";

pub(super) struct Consul<'a> {
    pub ctx: Ctx<'a>,
    pub node: &'a ConsulNode,
}

impl Consul<'_> {
    fn is_first(&self) -> bool {
        self.node.index == 0
    }
    fn config_path(&self) -> String {
        self.ctx.config_path("consul.json")
    }
}

impl Describe for Consul<'_> {
    fn ports(&self) -> Vec<Port> {
        let p = self.node.ports;
        const RAFT: &str = "raft and gossip: covered by the leader and peers checks";
        vec![
            Port::tcp("server", p.server, Some(var::CONSUL_SERVER_PORT.name)).unchecked(RAFT),
            Port::tcp("serf_lan", p.serf_lan, Some(var::CONSUL_SERF_LAN_PORT.name)).unchecked(RAFT),
            Port::udp("serf_lan", p.serf_lan, Some(var::CONSUL_SERF_LAN_PORT.name)),
            Port::tcp("serf_wan", p.serf_wan, Some(var::CONSUL_SERF_WAN_PORT.name)).unchecked(RAFT),
            Port::udp("serf_wan", p.serf_wan, Some(var::CONSUL_SERF_WAN_PORT.name)),
            Port::tcp("http", p.http, Some(var::CONSUL_HTTP_PORT.name)).probe(
                "http api",
                CheckKind::Http {
                    addr: self.ctx.sock(p.http),
                    path: LEADER_PATH.to_owned(),
                },
            ),
            Port::tcp("dns", p.dns, Some(var::CONSUL_DNS_PORT.name))
                .unchecked("DNS: answers queries only, covered by the http api check"),
            Port::udp("dns", p.dns, Some(var::CONSUL_DNS_PORT.name)),
        ]
    }

    /// `consul validate` on the configuration directory the agent reads.
    fn validate(&self) -> Option<Vec<String>> {
        Some(vec![
            self.ctx.lay.consul_bin(),
            "validate".into(),
            self.ctx.lay.config_dir(Group::Consul),
        ])
    }

    fn directories(&self) -> Vec<Dir> {
        self.ctx.dirs_with_data()
    }

    fn config_files(&self) -> Vec<RenderedFile> {
        vec![render::consul::config(
            self.ctx.org,
            &self.ctx.lay,
            self.node,
            self.config_path(),
        )]
    }

    fn command(&self) -> Vec<Word> {
        vec![
            Word::Literal(self.ctx.lay.consul_bin()),
            Word::Literal("agent".into()),
            Word::Literal(format!(
                "-config-dir={}",
                self.ctx.lay.config_dir(Group::Consul)
            )),
        ]
    }

    fn log_file(&self) -> Option<String> {
        self.ctx.own_log()
    }

    fn artifacts(&self) -> Vec<Artifact> {
        vec![Artifact {
            name: "consul".into(),
            source: "consul.zip".into(),
            dest: self.ctx.lay.group_dir(Group::Consul),
            mode: 0o755,
            kind: ArtifactKind::Unzip,
            cpu_flag: None,
        }]
    }

    /// On the first agent: the cluster has one leader all agents agree on, and every server is
    /// a raft peer. (Its KV entries are checked from [`Describe::kv_writes`].)
    fn checks(&self) -> Vec<NamedCheck> {
        if !self.is_first() {
            return Vec::new();
        }
        let org = self.ctx.org;
        let http = |n: &ConsulNode| super::sock(&n.host, n.ports.http);
        vec![
            NamedCheck {
                name: "leader".into(),
                kind: CheckKind::ConsulLeader {
                    agents: org.consul.iter().map(http).collect(),
                },
            },
            NamedCheck {
                name: "peers".into(),
                kind: CheckKind::ConsulPeers {
                    agent: http(self.node),
                    expected: org.consul.len(),
                },
            },
        ]
    }

    /// The first agent seeds the keys the other services read: where Glacier2 and IceGrid are
    /// (when the organisation has ice_via) and the data centre (when `storage_ip` is set).
    fn kv_writes(&self) -> Vec<KvEntry> {
        if !self.is_first() {
            return Vec::new();
        }
        let org = self.ctx.org;
        let mut out = Vec::new();
        if let Some(ice) = &org.ice_via {
            out.push(KvEntry {
                key: defaults::KV_GLACIER2,
                value: format!("{}_{}", ice.external_ip, ice.glacier2_port),
            });
            out.push(KvEntry {
                key: defaults::KV_ICEGRID,
                value: format!("{}_{}", ice.external_ip, ice.grid_port),
            });
        }
        if let Some(st) = org.settings.storage {
            out.push(KvEntry {
                key: defaults::KV_DATA_CENTER,
                value: format!("{}_{}", st.ip, st.port),
            });
        }
        out
    }

    /// The first agent: the organisation's KV keys, read through its HTTP API.
    fn backup(&self) -> Option<Backup> {
        self.is_first().then(|| Backup {
            path: self.ctx.lay.consul_kv_backup(),
            database: None,
            kv_prefix: Some(defaults::KV_PREFIX),
        })
    }
}
