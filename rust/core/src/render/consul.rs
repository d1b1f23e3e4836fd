//! The consul agent's JSON configuration.

use super::{Layout, RenderedFile};
use crate::model::{defaults, ConsulNode, Organization, Service};
use serde_json::json;

/// `cluster_name` as consul accepts a datacenter: lower case, only `[a-z0-9_-]`.
pub fn datacenter(cluster_name: &str) -> String {
    let dc: String = cluster_name
        .trim()
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if dc.is_empty() {
        defaults::CLUSTER_NAME.to_owned()
    } else {
        dc
    }
}

pub fn config(
    org: &Organization,
    lay: &Layout<'_>,
    node: &ConsulNode,
    path: String,
) -> RenderedFile {
    let ip = node.host.ip.to_string();
    let p = node.ports;
    // Every other agent's serf_lan address: start order does not matter.
    let join: Vec<String> = org
        .consul
        .iter()
        .filter(|n| n.index != node.index)
        .map(|n| format!("{}:{}", n.host.ip, n.ports.serf_lan))
        .collect();
    let mut doc = json!({
        "datacenter": datacenter(&org.cluster_name),
        "node_name": format!("consul_{ip}"),
        "server": true,
        "bootstrap_expect": org.consul.len(),
        "bind_addr": ip,
        "client_addr": ip,
        "data_dir": lay.data_dir(Service::Consul.group()),
        "log_file": lay.log_file(Service::Consul),
        "log_level": "INFO",
        "ui_config": { "enabled": true },
        "ports": {
            "server": p.server,
            "serf_lan": p.serf_lan,
            "serf_wan": p.serf_wan,
            "http": p.http,
            "dns": p.dns,
        },
    });
    if !join.is_empty() {
        doc["retry_join"] = json!(join);
    }
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    RenderedFile::new(&node.host, Service::Consul, path, text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn datacenter_is_sanitised() {
        assert_eq!(super::datacenter("My Org.1"), "my-org-1");
        assert_eq!(super::datacenter("  "), "metis");
    }
}
