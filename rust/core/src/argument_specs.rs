//! The roles' `meta/argument_specs.yml`, generated: each role's entry points (described here)
//! and, for a service role's `main`, every inventory variable of [`variables::ALL`] its group
//! reads (type, choices, secrets as `no_log`), so that Ansible checks them when the role runs
//! and `ansible-doc -t role` documents them. `metis-deploy argument-specs --write` writes the
//! files; a test fails when one on disk differs from what this module makes.

use crate::model::variables::{self, DefaultValue, Variable};
use crate::model::Group;
use std::fmt::Write;

/// An option of an entry point that is not an inventory variable (set by the calling play).
pub struct RoleOption {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: &'static str,
    pub required: bool,
    pub choices: &'static [&'static str],
    pub default: Option<&'static str>,
}

pub struct EntryPoint {
    pub name: &'static str,
    pub short_description: &'static str,
    pub description: &'static [&'static str],
    pub options: &'static [RoleOption],
    /// The inventory variables of these groups (and the organisation's) are options too.
    pub inventory_groups: &'static [Group],
}

pub struct RoleSpec {
    pub role: &'static str,
    pub entry_points: &'static [EntryPoint],
}

const PLAN_NOTE: &str =
    "The host plan (the C(metis_plan) fact set by M(metis.node.host_plan), which every \
metis.node playbook loads first) gives every path, unit, port, package and order.";

const GROUPS: &[&str] = &["consul", "ice_via", "carrier", "admin", "data", "compute"];
const FIGHTERS: &[&str] = &["data", "compute"];

const fn group_option(description: &'static str) -> RoleOption {
    RoleOption {
        name: "metis_group",
        description,
        kind: "str",
        required: true,
        choices: GROUPS,
        default: None,
    }
}

const FIGHTER_GROUP: RoleOption = RoleOption {
    name: "fighter_group",
    description: "Which fighter the host runs.",
    kind: "str",
    required: true,
    choices: FIGHTERS,
    default: None,
};

/// Every role of the collection, in the order of the playbooks.
pub const ROLES: &[RoleSpec] = &[
    RoleSpec {
        role: "common",
        entry_points: &[
            EntryPoint {
                name: "main",
                short_description: "Internal to metis.node",
                description: &[
                    "What the service roles share. Its task files (deploy, start, stop, cleanup, user) are called by \
                     the metis.node playbooks and roles; it is not meant to be used on its own.",
                    PLAN_NOTE,
                ],
                options: &[group_option("The inventory group whose services the tasks handle.")],
                inventory_groups: &[],
            },
            EntryPoint {
                name: "start",
                short_description: "Start the group's services in plan order, each gated by its health checks",
                description: &[],
                options: &[
                    group_option("The inventory group whose services are started."),
                    RoleOption {
                        name: "common_gate",
                        description: "Wait until each service is healthy before the next one starts.",
                        kind: "bool",
                        required: false,
                        choices: &[],
                        default: Some("true"),
                    },
                ],
                inventory_groups: &[],
            },
            EntryPoint {
                name: "stop",
                short_description: "Stop the group's services in reverse plan order; their ports are closed afterwards",
                description: &[],
                options: &[group_option("The inventory group whose services are stopped.")],
                inventory_groups: &[],
            },
            EntryPoint {
                name: "cleanup",
                short_description: "Remove what deploy made for the group's services",
                description: &[],
                options: &[group_option("The inventory group whose files are removed.")],
                inventory_groups: &[],
            },
        ],
    },
    RoleSpec {
        role: "consul",
        entry_points: &[
            EntryPoint {
                name: "main",
                short_description: "Install and configure the consul agents of this host",
                description: &[
                    "Pushes consul from the verified bundle, writes its configuration and unit, checks the \
                     configuration with C(consul validate) and restarts a running agent whose files changed.",
                    PLAN_NOTE,
                ],
                options: &[],
                inventory_groups: &[Group::Consul],
            },
            EntryPoint {
                name: "start",
                short_description: "Start the agents, wait for a leader, seed the KV keys",
                description: &[
                    "Starts every agent, waits until the cluster has elected a leader, writes the KV keys the \
                     services read at start (only those that differ) and waits until consul is healthy.",
                ],
                options: &[],
                inventory_groups: &[],
            },
        ],
    },
    RoleSpec {
        role: "ice_via",
        entry_points: &[EntryPoint {
            name: "main",
            short_description: "Install and configure IceGrid and Glacier2",
            description: &[
                "Installs Debian's zeroc-icegrid and zeroc-glacier2, pushes Glacier2's certificates and key \
                 (C(ice_protocol=ssl)), writes their configurations and units, restarts running ones whose files \
                 changed.",
                PLAN_NOTE,
            ],
            options: &[],
            inventory_groups: &[Group::IceVia],
        }],
    },
    RoleSpec {
        role: "carrier",
        entry_points: &[
            EntryPoint {
                name: "main",
                short_description: "Install and configure the carrier",
                description: &[
                    "Pushes the carrier and keytool, makes the p2p key once (kept across deploys; a new one only \
                     with the inventory variable C(regenerate_p2p_key=True)), writes carrier.yml and the unit.",
                    PLAN_NOTE,
                ],
                options: &[],
                inventory_groups: &[Group::Carrier],
            },
            EntryPoint {
                name: "start",
                short_description: "Start the carrier after removing stale consul registrations",
                description: &[
                    "When the carrier is not running, removes carrier-tagged services left registered in consul \
                     (the carrier refuses to start next to one), then starts it and waits until it is healthy.",
                ],
                options: &[],
                inventory_groups: &[],
            },
        ],
    },
    RoleSpec {
        role: "admin",
        entry_points: &[EntryPoint {
            name: "main",
            short_description: "Install and configure MariaDB, the admin and nginx",
            description: &[
                "Installs MariaDB, Java and nginx, writes their configurations, pushes the web UI's certificate and \
                 key (C(enable_tls)), disables the distribution's default nginx site, checks nginx's configuration \
                 with C(nginx -t), creates the admin's database (importing admin.sql only when it does not exist) \
                 and its user with privileges on that database only, from the admin host only. Root connects \
                 through MariaDB's unix socket.",
                PLAN_NOTE,
            ],
            options: &[],
            inventory_groups: &[Group::Admin],
        }],
    },
    RoleSpec {
        role: "fighter",
        entry_points: &[
            EntryPoint {
                name: "main",
                short_description: "Install and configure a data or compute fighter",
                description: &[
                    "Pushes the fighter wheels (the rosetta build matching the CPU), installs them offline into \
                     the service's own virtual environment, writes its configuration and unit.",
                    PLAN_NOTE,
                ],
                options: &[FIGHTER_GROUP],
                inventory_groups: &[Group::Data, Group::Compute],
            },
            EntryPoint {
                name: "start",
                short_description: "Start the fighter and wait until it is healthy",
                description: &[],
                options: &[FIGHTER_GROUP],
                inventory_groups: &[],
            },
        ],
    },
];

/// Where a role's file lives below the collection's root.
pub fn path(role: &str) -> String {
    format!("roles/{role}/meta/argument_specs.yml")
}

/// A YAML double-quoted scalar, folded at spaces so that no line is longer than about 100
/// characters (a line break inside it reads as a space).
fn quoted(text: &str, indent: usize) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from("\"");
    let mut line_len = indent + 1;
    for (i, word) in escaped.split(' ').enumerate() {
        if i > 0 {
            if line_len + 1 + word.len() > 100 {
                out.push('\n');
                out.push_str(&" ".repeat(indent + 2));
                line_len = indent + 2;
            } else {
                out.push(' ');
                line_len += 1;
            }
        }
        out.push_str(word);
        line_len += word.len();
    }
    out.push('"');
    out
}

fn description(out: &mut String, indent: usize, lines: &[String]) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}description:");
    for l in lines {
        let _ = writeln!(out, "{pad}  - {}", quoted(l, indent + 4));
    }
}

fn flow_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|c| format!("\"{c}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The variables an entry point lists: the organisation's and those of its groups.
pub fn variables_of(groups: &[Group]) -> Vec<&'static Variable> {
    if groups.is_empty() {
        return Vec::new();
    }
    variables::ALL
        .iter()
        .copied()
        .filter(|v| v.groups.is_empty() || v.groups.iter().any(|g| groups.contains(g)))
        .collect()
}

fn variable_option(out: &mut String, v: &Variable) {
    let mut lines = vec![v.doc.to_owned()];
    lines.push(match v.default {
        DefaultValue::None => "Inventory variable; unset by default.".to_owned(),
        DefaultValue::Required => {
            "Inventory variable; required when its group is deployed (M(metis.node.validate_inventory) says so \
             before any host is touched)."
                .to_owned()
        }
        DefaultValue::Computed(how) => format!("Inventory variable; by default {how}."),
        d => format!(
            "Inventory variable; default C({}).",
            d.text().unwrap_or_default()
        ),
    });
    let _ = writeln!(out, "      {}:", v.name);
    description(out, 8, &lines);
    let _ = writeln!(out, "        type: {}", v.kind.ansible_type());
    if let Some(e) = v.kind.elements() {
        let _ = writeln!(out, "        elements: {e}");
    }
    if !v.kind.choices().is_empty() {
        let _ = writeln!(out, "        choices: {}", flow_list(v.kind.choices()));
    }
    let _ = writeln!(out, "        required: false");
    if v.secret {
        let _ = writeln!(out, "        no_log: true");
    }
}

/// The text of `roles/<role>/meta/argument_specs.yml`.
pub fn render(spec: &RoleSpec) -> String {
    let mut out = String::from(
        "---\n# Generated by `metis-deploy argument-specs --write ansible_collection` from the variable table\n\
         # (rust/core/src/model/variables.rs) and rust/core/src/argument_specs.rs: edit those, not this file.\n\
         argument_specs:\n",
    );
    for ep in spec.entry_points {
        let _ = writeln!(out, "  {}:", ep.name);
        let _ = writeln!(
            out,
            "    short_description: {}",
            quoted(ep.short_description, 4)
        );
        let vars = variables_of(ep.inventory_groups);
        let mut lines: Vec<String> = ep.description.iter().map(|d| (*d).to_owned()).collect();
        if !vars.is_empty() {
            lines.push(
                "Its options are the inventory variables it reads (through the host plan); Ansible checks their \
                 types when the role starts. Nothing needs to be passed to the role itself."
                    .to_owned(),
            );
        }
        if !lines.is_empty() {
            description(&mut out, 4, &lines);
        }
        if ep.options.is_empty() && vars.is_empty() {
            out.push_str("    options: {}\n");
            continue;
        }
        out.push_str("    options:\n");
        for o in ep.options {
            let _ = writeln!(out, "      {}:", o.name);
            description(&mut out, 8, &[o.description.to_owned()]);
            let _ = writeln!(out, "        type: {}", o.kind);
            let _ = writeln!(out, "        required: {}", o.required);
            if !o.choices.is_empty() {
                let _ = writeln!(out, "        choices: {}", flow_list(o.choices));
            }
            if let Some(d) = o.default {
                let _ = writeln!(out, "        default: {d}");
            }
        }
        for v in vars {
            variable_option(&mut out, v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_is_an_option_of_some_service_role_and_secrets_are_no_log() {
        for v in variables::ALL {
            let roles: Vec<&str> = ROLES
                .iter()
                .filter(|r| {
                    r.entry_points
                        .iter()
                        .any(|e| variables_of(e.inventory_groups).contains(v))
                })
                .map(|r| r.role)
                .collect();
            assert!(!roles.is_empty(), "{} is no role's option", v.name);
        }
        let admin = ROLES.iter().find(|r| r.role == "admin").map(render);
        let admin = admin.unwrap_or_default();
        let at = admin.find("      admin_password:").unwrap_or(0);
        let next = admin[at + 1..]
            .find("\n      a")
            .map_or(admin.len(), |n| at + 1 + n);
        assert!(
            admin[at..next].contains("no_log: true"),
            "{}",
            &admin[at..next]
        );
        assert!(!admin.contains("      data_port:"));
    }

    #[test]
    fn long_text_folds_into_short_lines() {
        let q = quoted(&"word ".repeat(60), 8);
        assert!(q.lines().all(|l| l.len() <= 110), "{q}");
        assert!(q.starts_with('"') && q.ends_with('"'));
        assert_eq!(
            quoted("say \"hi\" \\ now", 0),
            "\"say \\\"hi\\\" \\\\ now\""
        );
    }
}
