//! Test fixture: organisations built by hand (struct literals), until `model::build` lands.
#![allow(dead_code)]

use metis_core::model::defaults as d;
use metis_core::model::*;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

pub fn host(name: &str, ip: [u8; 4]) -> HostRef {
    HostRef {
        name: name.to_owned(),
        ip: Ipv4Addr::from(ip),
    }
}

pub fn settings() -> Settings {
    let mut resources = BTreeMap::new();
    resources.insert(
        Group::Carrier,
        Resources {
            cpu_quota_percent: 150,
            memory_limit_mib: 2048,
        },
    );
    resources.insert(
        Group::Data,
        Resources {
            cpu_quota_percent: 0,
            memory_limit_mib: 4096,
        },
    );
    Settings {
        deploy_dir: d::DEPLOY_DIR.to_owned(),
        service_user: d::SERVICE_USER.to_owned(),
        service_manager: ServiceManager::Auto,
        carrier_verbosity: d::CARRIER_VERBOSITY,
        admin: AdminSettings {
            mysql_root_password: Secret::new("root-Pa55word!"),
            db_user: d::ADMIN_DB_USER.to_owned(),
            db_password: Secret::new("db \"pa:ss\" #1 %x"),
            pinata_token: Secret::new("pinata-token-123"),
            pinata_gateway: "https://gateway.pinata.cloud".to_owned(),
            pinata_url: d::PINATA_URL.to_owned(),
            jvm_opts: d::ADMIN_JVM_OPTS.to_owned(),
            tls: None,
        },
        chain: ChainSettings {
            rpc_url: d::CHAIN_RPC_URL.to_owned(),
            chain_id: d::CHAIN_ID,
            hrp: d::CHAIN_HRP.to_owned(),
            document_contract: "0x1000000000000000000000000000000000000001".to_owned(),
            pct_contract: "0x1000000000000000000000000000000000000002".to_owned(),
            credential_contract: "0x1000000000000000000000000000000000000003".to_owned(),
            proposal_contract: "0x1000000000000000000000000000000000000004".to_owned(),
            pay_agent_contract: "0x1000000000000000000000000000000000000005".to_owned(),
            bootstrap_nodes: vec!["enr:-Je4QKXyz".to_owned(), "enr:-Je4QAbc".to_owned()],
        },
        storage: Some(StorageAddr {
            ip: Ipv4Addr::new(10, 0, 9, 1),
            port: 8200,
        }),
        fighter: FighterSettings {
            latticex_rosetta: "latticex.rosetta-1.0.0-cp37-cp37m-manylinux2014_x86_64.whl"
                .to_owned(),
            latticex_psi: "latticex.psi-1.0.0-cp37-cp37m-manylinux2014_x86_64.whl".to_owned(),
            fighter_dcv: "fighter_dcv-0.5.1-py3-none-any.whl".to_owned(),
            channel_sdk: "channel_sdk-0.5.1-py3-none-any.whl".to_owned(),
            python_proxy: String::new(),
            python: d::FIGHTER_PYTHON.to_owned(),
        },
        resources,
    }
}

fn consul_node(h: HostRef, index: usize) -> ConsulNode {
    let i = index as u16;
    ConsulNode {
        host: h,
        index,
        ports: ConsulPorts {
            server: 8300 + i * 10,
            serf_lan: 8301 + i * 10,
            serf_wan: 8302 + i * 10,
            http: 8500 + i * 10,
            dns: 8600 + i * 10,
        },
    }
}

fn all_enabled() -> BTreeMap<Group, bool> {
    Group::ALL.into_iter().map(|g| (g, true)).collect()
}

/// A 6-host organisation: 3 consul (two shared with other services), carrier, admin, ice_via,
/// two data hosts and one compute host (the second data host also runs compute).
pub fn org() -> Organization {
    let h = |n: u8| host(&format!("node{n}"), [10, 0, 0, n]);
    Organization {
        cluster_name: "Metis Org.1".to_owned(),
        enabled: all_enabled(),
        settings: settings(),
        consul: (0..3).map(|i| consul_node(h(i as u8 + 1), i)).collect(),
        ice_via: Some(IceViaNode {
            host: h(4),
            external_ip: Ipv4Addr::new(203, 0, 113, 4),
            glacier2_port: d::ICE_GLACIER2_PORT,
            grid_port: d::ICE_GRID_PORT,
            protocol: IceProtocol::Tcp,
        }),
        carrier: Some(CarrierNode {
            host: h(2),
            external_ip: Ipv4Addr::new(203, 0, 113, 2),
            ports: CarrierPorts {
                pprof: d::CARRIER_PPROF_PORT,
                rpc: d::CARRIER_RPC_PORT,
                grpc_gateway: d::CARRIER_GRPC_GATEWAY_PORT,
                p2p_udp: d::CARRIER_P2P_UDP_PORT,
                p2p_tcp: d::CARRIER_P2P_TCP_PORT,
            },
        }),
        admin: vec![AdminNode {
            host: h(3),
            web_port: d::ADMIN_WEB_PORT,
            grpc_port: d::ADMIN_GRPC_PORT,
        }],
        data: vec![
            FighterNode {
                host: h(5),
                kind: FighterKind::Data,
                index: 0,
                port: 8700,
            },
            FighterNode {
                host: h(6),
                kind: FighterKind::Data,
                index: 1,
                port: 8701,
            },
        ],
        compute: vec![FighterNode {
            host: h(6),
            kind: FighterKind::Compute,
            index: 0,
            port: 8801,
        }],
    }
}

pub fn tls() -> TlsSettings {
    TlsSettings {
        server_name: "admin.example.org".to_owned(),
        protocols: d::ADMIN_TLS_PROTOCOLS.to_owned(),
        ciphers: d::ADMIN_TLS_CIPHERS.to_owned(),
        cert_file: "/etc/ssl/metis/admin.crt".to_owned(),
        key_file: "/etc/ssl/metis/admin.key".to_owned(),
    }
}

/// The fixture with TLS on, ssl Ice and every group's resources limited.
pub fn org_tls() -> Organization {
    let mut o = org();
    o.settings.admin.tls = Some(tls());
    if let Some(ice) = o.ice_via.as_mut() {
        ice.protocol = IceProtocol::Ssl;
    }
    o
}

/// An organisation of `n` hosts (n >= 8): 3 consul, carrier, admin, ice_via, the rest split
/// between data and compute.
pub fn big(n: usize) -> Organization {
    let mut o = org();
    let h = |i: usize| {
        host(
            &format!("h{i}"),
            [10, (i >> 16) as u8, (i >> 8) as u8, i as u8],
        )
    };
    o.consul = (0..3).map(|i| consul_node(h(i), i)).collect();
    if let Some(c) = o.carrier.as_mut() {
        c.host = h(3);
    }
    o.admin[0].host = h(4);
    if let Some(ice) = o.ice_via.as_mut() {
        ice.host = h(5);
    }
    o.data.clear();
    o.compute.clear();
    for i in 6..n {
        let kind = if i % 2 == 0 {
            FighterKind::Data
        } else {
            FighterKind::Compute
        };
        let list = if kind == FighterKind::Data {
            &mut o.data
        } else {
            &mut o.compute
        };
        let index = list.len();
        list.push(FighterNode {
            host: h(i),
            kind,
            index,
            port: 8700,
        });
    }
    o
}
