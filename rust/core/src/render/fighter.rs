//! `data.yml` / `compute.yml` of the fighters.

use super::emit::Yaml;
use super::{first_consul, Layout, RenderedFile};
use crate::model::{defaults, FighterKind, FighterNode, Group, Organization, Service};

/// Consul's deregister-critical-service-after, as a Go duration, never under its minimum.
pub fn deregister_after() -> String {
    let secs = defaults::CONSUL_MIN_DEREGISTER_SECS;
    if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

pub fn config(
    org: &Organization,
    lay: &Layout<'_>,
    node: &FighterNode,
    path: String,
) -> RenderedFile {
    let (service, group) = match node.kind {
        FighterKind::Data => (Service::Data, Group::Data),
        FighterKind::Compute => (Service::Compute, Group::Compute),
    };
    let tasks = crate::services::fighter::task_ports(node.kind);
    let (name, tag) = crate::services::fighter::consul_identity(node.kind);
    let (consul_ip, consul_port) = first_consul(org);
    let pass_ice = org.ice_via.is_some() && org.is_enabled(Group::IceVia);
    let mut entries = vec![
        (
            "register_ip".to_owned(),
            Yaml::str(node.host.ip.to_string()),
        ),
        ("port".to_owned(), Yaml::int(node.port)),
        (
            "thread_pool_size".to_owned(),
            Yaml::int(defaults::FIGHTER_THREAD_POOL_SIZE),
        ),
        (
            "task_port_range".to_owned(),
            Yaml::List(vec![Yaml::int(tasks.0), Yaml::int(tasks.1)]),
        ),
        ("pass_ice".to_owned(), Yaml::Bool(pass_ice)),
        (
            "code_root_dir".to_owned(),
            Yaml::str(lay.fighter_code_dir(group)),
        ),
        (
            "results_root_dir".to_owned(),
            Yaml::str(lay.fighter_results_dir(group)),
        ),
    ];
    if node.kind == FighterKind::Data {
        entries.push(("data_root".to_owned(), Yaml::str(lay.fighter_data_root())));
    }
    let consul = [
        ("service_ip", Yaml::str(consul_ip)),
        ("service_port", Yaml::int(consul_port)),
        ("name", Yaml::str(name)),
        ("tag", Yaml::str(tag)),
        ("interval", Yaml::str(defaults::CONSUL_CHECK_INTERVAL)),
        ("deregister", Yaml::str(deregister_after())),
    ];
    entries.push((
        "consul".to_owned(),
        Yaml::Map(consul.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
    ));
    RenderedFile::new(&node.host, service, path, Yaml::Map(entries).to_document())
}
