//! The carrier (scheduler) and its `keytool`, which makes the p2p key once.

use super::{
    Artifact, ArtifactKind, Backup, Ctx, Describe, Dir, Generated, Port, Registration, Word,
};
use crate::health::CheckKind;
use crate::model::variables as var;
use crate::model::{defaults, CarrierNode};
use crate::render::{self, RenderedFile};

pub(super) struct Carrier<'a> {
    pub ctx: Ctx<'a>,
    pub node: &'a CarrierNode,
}

impl Carrier<'_> {
    fn config_path(&self) -> String {
        self.ctx.config_path("carrier.yml")
    }
}

impl Describe for Carrier<'_> {
    fn ports(&self) -> Vec<Port> {
        let p = self.node.ports;
        let http = |port: u16, path: &str| CheckKind::Http {
            addr: self.ctx.sock(port),
            path: path.to_owned(),
        };
        vec![
            Port::tcp("pprof", p.pprof, Some(var::CARRIER_PPROF_PORT.name))
                .probe("pprof", http(p.pprof, defaults::PPROF_PATH)),
            // gRPC: checked with the HTTP/2 preface.
            Port::tcp("rpc", p.rpc, Some(var::CARRIER_RPC_PORT.name)).probe(
                "rpc",
                CheckKind::Http2 {
                    addr: self.ctx.sock(p.rpc),
                },
            ),
            Port::tcp(
                "grpc_gateway",
                p.grpc_gateway,
                Some(var::CARRIER_GRPC_GATEWAY_PORT.name),
            )
            .probe(
                "grpc gateway",
                http(p.grpc_gateway, defaults::CARRIER_NODE_INFO_PATH),
            ),
            Port::udp("p2p_udp", p.p2p_udp, Some(var::CARRIER_P2P_UDP_PORT.name)),
            Port::tcp("p2p_tcp", p.p2p_tcp, Some(var::CARRIER_P2P_TCP_PORT.name))
                .unchecked("p2p: speaks only to other carriers (encrypted handshake)"),
        ]
    }

    fn directories(&self) -> Vec<Dir> {
        self.ctx.dirs_with_data()
    }

    fn config_files(&self) -> Vec<RenderedFile> {
        vec![render::carrier::config(
            self.ctx.org,
            &self.ctx.lay,
            self.node,
            self.config_path(),
        )]
    }

    fn command(&self) -> Vec<Word> {
        vec![
            Word::Literal(self.ctx.lay.carrier_bin()),
            Word::Literal("--config-file".into()),
            Word::Literal(self.config_path()),
        ]
    }

    fn log_file(&self) -> Option<String> {
        self.ctx.own_log()
    }

    fn artifacts(&self) -> Vec<Artifact> {
        let lay = &self.ctx.lay;
        [
            ("carrier", lay.carrier_bin()),
            ("keytool", lay.keytool_bin()),
        ]
        .into_iter()
        .map(|(name, dest)| Artifact {
            name: name.into(),
            source: name.into(),
            dest,
            mode: 0o755,
            kind: ArtifactKind::File,
            cpu_flag: None,
        })
        .collect()
    }

    fn registrations(&self) -> Vec<Registration> {
        vec![Registration {
            name: defaults::CONSUL_CARRIER_SERVICE,
            tag: Some(defaults::CONSUL_CARRIER_TAG),
            port: None,
        }]
    }

    /// It exits at start-up without the data centre's address.
    fn kv_reads(&self) -> Vec<&'static str> {
        vec![defaults::KV_DATA_CENTER]
    }

    /// The p2p key: the organisation's identity on the network.
    fn backup(&self) -> Option<Backup> {
        Some(Backup {
            path: self.ctx.lay.carrier_p2p_key(),
            database: None,
            kv_prefix: None,
        })
    }

    fn secrets(&self) -> Vec<Generated> {
        let lay = &self.ctx.lay;
        vec![Generated {
            name: "p2p_key",
            path: lay.carrier_p2p_key(),
            mode: crate::render::SECRET_MODE,
            command: vec![lay.keytool_bin(), "genkeypair".into()],
        }]
    }
}
