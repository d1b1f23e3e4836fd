//! The lab's network: a namespace of its own holding a bridge and every lab address, nothing of
//! it in the machine's own namespace but an `unreachable` guard route for the range.

use crate::error::{LabError, Result};
use crate::run::{output, run};
use serde_json::Value;
use std::net::Ipv4Addr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The lab's network namespace.
pub const NETNS: &str = "metislab";
/// The bridge inside it that every host's veth joins.
pub const BRIDGE: &str = "br0";
/// The lab's address range (TEST-NET-2: never routed on the internet).
pub const RANGE: &str = "198.51.100.0/24";
pub const NETWORK: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 0);
pub const PREFIX: u8 = 24;
/// The bridge's address: the hosts' gateway (gives Ansible an `ansible_default_ipv4`).
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

/// Where `ip netns` keeps the namespace.
pub fn netns_path() -> PathBuf {
    Path::new("/run/netns").join(NETNS)
}

/// Records which lab directory created the namespace (lives in /run: gone at reboot, like the
/// namespace), so another lab's `up` can say whose it is.
pub fn owner_path() -> PathBuf {
    PathBuf::from("/run/metis-lab/owner")
}

/// Inode of the namespace, when it exists.
pub fn netns_inode() -> Option<u64> {
    std::fs::metadata(netns_path()).ok().map(|m| m.ino())
}

/// The lab directory that created the existing namespace, if it said so.
pub fn owner() -> Option<PathBuf> {
    std::fs::read_to_string(owner_path())
        .ok()
        .map(|s| PathBuf::from(s.trim_end_matches('\n')))
}

/// Creates the namespace with its bridge; returns the namespace's inode.
pub fn create(dir: &Path) -> Result<u64> {
    run(Command::new("ip").args(["netns", "add", NETNS]))?;
    if let Some(parent) = owner_path().parent() {
        std::fs::create_dir_all(parent).map_err(LabError::io("creating", parent))?;
    }
    std::fs::write(owner_path(), format!("{}\n", dir.display()))
        .map_err(LabError::io("writing", owner_path()))?;
    let gw = format!("{GATEWAY}/{PREFIX}");
    for args in [
        vec!["link", "set", "lo", "up"],
        vec!["link", "add", BRIDGE, "type", "bridge"],
        vec!["addr", "add", &gw, "dev", BRIDGE],
        vec!["link", "set", BRIDGE, "up"],
    ] {
        run(Command::new("ip").args(["-n", NETNS]).args(args))?;
    }
    netns_inode().ok_or_else(|| LabError::Command {
        command: format!("ip netns add {NETNS}"),
        status: "no namespace afterwards".into(),
        output: format!("{} is missing", netns_path().display()),
    })
}

/// Deletes the namespace and the owner record.
pub fn delete() -> Result<()> {
    if netns_path().exists() {
        run(Command::new("ip").args(["netns", "del", NETNS]))?;
    }
    match std::fs::remove_file(owner_path()) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(LabError::io("removing", owner_path())(e))
        }
        _ => Ok(()),
    }
}

/// Processes (other than the lab's hosts, which are gone by then) still inside the namespace:
/// shells from `lab exec`, ssh masters. Returned as "pid (comm)".
pub fn processes_inside() -> Vec<String> {
    let Some(ino) = netns_inode() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if std::fs::metadata(format!("/proc/{pid}/ns/net")).is_ok_and(|m| m.ino() == ino) {
            found.push(format!(
                "{pid} ({})",
                crate::sys::comm(pid).unwrap_or_default()
            ));
        }
    }
    found
}

/// A route or address of the machine's own namespace that lies in the lab's range.
fn in_range(dst: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, len) = match dst.split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok()?),
        None => (dst, 32),
    };
    let addr: Ipv4Addr = addr.parse().ok()?;
    let mask = |len: u8| u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    ((PREFIX..=32).contains(&len) && u32::from(addr) & mask(PREFIX) == u32::from(NETWORK))
        .then_some((addr, len))
}

/// What in the machine's own namespace uses the lab's range, from `ip -j -4 addr show` and
/// `ip -j -4 route show table all`: any address in it, any route inside it except the
/// `unreachable` guard. Covering routes (a default route) are fine: the guard is more specific.
pub fn conflicts(addrs: &Value, routes: &Value) -> Vec<String> {
    let mut uses = Vec::new();
    for link in addrs.as_array().into_iter().flatten() {
        let ifname = link["ifname"].as_str().unwrap_or("?");
        for a in link["addr_info"].as_array().into_iter().flatten() {
            if let Some(local) = a["local"].as_str() {
                if in_range(local).is_some() {
                    let len = a["prefixlen"].as_u64().unwrap_or(32);
                    uses.push(format!("address {local}/{len} on {ifname}"));
                }
            }
        }
    }
    for r in routes.as_array().into_iter().flatten() {
        let Some(dst) = r["dst"].as_str() else {
            continue;
        };
        if in_range(dst).is_none() || is_guard(r) {
            continue;
        }
        // Local and broadcast routes of an address are already reported with the address.
        let kind = r["type"].as_str().unwrap_or("unicast");
        if matches!(kind, "local" | "broadcast") {
            continue;
        }
        let dev = r["dev"]
            .as_str()
            .map(|d| format!(" dev {d}"))
            .unwrap_or_default();
        let table = r["table"]
            .as_str()
            .map(|t| format!(" table {t}"))
            .unwrap_or_default();
        uses.push(format!("route {kind} {dst}{dev}{table}"));
    }
    uses
}

fn is_guard(route: &Value) -> bool {
    route["type"].as_str() == Some("unreachable")
        && route["dst"].as_str() == Some(RANGE)
        && route["table"].as_str().is_none_or(|t| t == "main")
}

fn ip_json(args: &[&str]) -> Result<Value> {
    let text = output(Command::new("ip").args(["-j", "-4"]).args(args))?;
    serde_json::from_str(&text).map_err(|e| LabError::Command {
        command: format!("ip -j -4 {}", args.join(" ")),
        status: "unreadable JSON".into(),
        output: e.to_string(),
    })
}

/// Checks that the machine's own namespace leaves the range to the lab, then makes sure the
/// guard route is there.
pub fn check_and_guard_machine_namespace() -> Result<()> {
    let addrs = ip_json(&["addr", "show"])?;
    let routes = ip_json(&["route", "show", "table", "all"])?;
    let uses = conflicts(&addrs, &routes);
    if !uses.is_empty() {
        return Err(LabError::RangeInUse { range: RANGE, uses });
    }
    if !routes.as_array().into_iter().flatten().any(is_guard) {
        run(Command::new("ip").args(["route", "add", "unreachable", RANGE]))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn machine_routes() -> Value {
        json!([
            {"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},
            {"dst":"192.0.2.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"192.0.2.2","flags":[]},
            {"type":"local","dst":"192.0.2.2","dev":"eth0","table":"local","protocol":"kernel","scope":"host","prefsrc":"192.0.2.2","flags":[]}
        ])
    }

    fn machine_addrs() -> Value {
        json!([
            {"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},
            {"ifindex":4,"ifname":"eth0","addr_info":[{"family":"inet","local":"192.0.2.2","prefixlen":24}]}
        ])
    }

    #[test]
    fn a_machine_without_lab_addresses_is_fine_with_or_without_the_guard() {
        assert!(conflicts(&machine_addrs(), &machine_routes()).is_empty());
        let mut routes = machine_routes();
        routes
            .as_array_mut()
            .expect("array")
            .push(json!({"type":"unreachable","dst":"198.51.100.0/24","flags":[]}));
        assert!(conflicts(&machine_addrs(), &routes).is_empty());
        // A covering route is not a use: the guard is more specific.
        routes
            .as_array_mut()
            .expect("array")
            .push(json!({"dst":"198.51.0.0/16","dev":"eth0","flags":[]}));
        assert!(conflicts(&machine_addrs(), &routes).is_empty());
    }

    #[test]
    fn lab_addresses_and_routes_in_the_machine_namespace_are_reported() {
        let addrs = json!([
            {"ifname":"br0","addr_info":[{"family":"inet","local":"198.51.100.1","prefixlen":24}]}
        ]);
        let routes = json!([
            {"dst":"198.51.100.0/24","dev":"br0","protocol":"kernel","scope":"link","flags":[]},
            {"type":"local","dst":"198.51.100.1","dev":"br0","table":"local","flags":[]},
            {"dst":"198.51.100.64/26","gateway":"192.0.2.9","dev":"eth0","table":"100","flags":[]},
            {"type":"unreachable","dst":"198.51.100.0/25","flags":[]}
        ]);
        let uses = conflicts(&addrs, &routes);
        assert_eq!(
            uses,
            [
                "address 198.51.100.1/24 on br0",
                "route unicast 198.51.100.0/24 dev br0",
                "route unicast 198.51.100.64/26 dev eth0 table 100",
                "route unreachable 198.51.100.0/25",
            ]
        );
        let msg = LabError::RangeInUse { range: RANGE, uses }.to_string();
        assert!(msg.contains("remove them") && msg.contains("br0"), "{msg}");
    }

    #[test]
    fn range_membership() {
        assert!(in_range("198.51.100.11").is_some());
        assert!(in_range("198.51.100.0/24").is_some());
        assert!(in_range("198.51.100.128/25").is_some());
        assert!(in_range("198.51.0.0/16").is_none());
        assert!(in_range("198.51.101.1").is_none());
        assert!(in_range("default").is_none());
        assert!(in_range("198.51.100.1/99").is_none());
    }
}
