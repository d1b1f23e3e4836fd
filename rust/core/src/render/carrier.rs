//! `carrier.yml`: keys are exactly the carrier's flag names ([`super::keys::CARRIER`]).

use super::emit::Yaml;
use super::{first_consul, Layout, RenderedFile};
use crate::model::{CarrierNode, Group, Organization, Service};

pub fn config(
    org: &Organization,
    lay: &Layout<'_>,
    node: &CarrierNode,
    path: String,
) -> RenderedFile {
    let ip = node.host.ip.to_string();
    let p = node.ports;
    let chain = &org.settings.chain;
    let (consul_ip, consul_port) = first_consul(org);
    let s = |k: &str, v: &str| (k.to_owned(), Yaml::str(v));
    let n = |k: &str, v: u16| (k.to_owned(), Yaml::int(v));
    let doc = Yaml::Map(vec![
        s("datadir", &lay.data_dir(Group::Carrier)),
        (
            "verbosity".into(),
            Yaml::int(org.settings.carrier_verbosity),
        ),
        s("log-file", &lay.log_file(Service::Carrier)),
        ("pprof".into(), Yaml::Bool(true)),
        s("pprof-addr", &ip),
        n("pprof-port", p.pprof),
        s("rpc-host", &ip),
        n("rpc-port", p.rpc),
        s("grpc-gateway-host", &ip),
        n("grpc-gateway-port", p.grpc_gateway),
        s("p2p-local-ip", &ip),
        s("p2p-host-ip", &node.external_ip.to_string()),
        n("p2p-udp-port", p.p2p_udp),
        n("p2p-tcp-port", p.p2p_tcp),
        s("p2p-priv-key", &lay.carrier_p2p_key()),
        (
            "bootstrap-node".into(),
            Yaml::List(chain.bootstrap_nodes.iter().map(Yaml::str).collect()),
        ),
        s("discovery-server-ip", &consul_ip),
        n("discovery-server-port", consul_port),
        s("blockchain.url", &chain.rpc_url),
        s("blockchain.hrp", &chain.hrp),
        s("did.document-contract-proxy", &chain.document_contract),
        s("did.pct-contract-proxy", &chain.pct_contract),
        s("did.credential-contract-proxy", &chain.credential_contract),
        s("did.proposal-contract-proxy", &chain.proposal_contract),
        s("pay-agent-contract-proxy", &chain.pay_agent_contract),
    ]);
    RenderedFile::new(&node.host, Service::Carrier, path, doc.to_document())
}
