//! JSON inventories: what `ansible-inventory --list` prints, or Ansible's resolved `groups` and
//! `hostvars` handed over by a plugin.

use super::ini::empty_inventory;
use super::{Group, Host, Inventory, Occurrence, Source, Var};
use crate::diag::{Code, Diagnostic, Span};
use crate::value::Value;
use indexmap::IndexMap;
use num_bigint::BigInt;
use serde_json::Value as Json;
use std::sync::Arc;

pub use super::list::value_to_json;

/// A JSON value as Python's `json.loads` gives it: integers stay integers (any size), other
/// numbers are floats.
pub fn value_from_json(j: &Json) -> Value {
    match j {
        Json::Null => Value::None,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(BigInt::from(i))
            } else if let Some(u) = n.as_u64() {
                Value::Int(BigInt::from(u))
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(v) => Value::List(v.iter().map(value_from_json).collect()),
        Json::Object(m) => Value::Dict(
            m.iter()
                .map(|(k, v)| (Value::Str(k.clone()), value_from_json(v)))
                .collect(),
        ),
    }
}

fn bad(name: &Arc<str>, msg: String, line: Option<(usize, usize)>) -> Diagnostic {
    let d = Diagnostic::error(Code::UnreadableInput, msg)
        .hint("give the JSON printed by `ansible-inventory -i FILE --list`");
    match line {
        Some((l, c)) => d.at(Some(&Span::new(name, l as u32, c as u32))),
        None => d,
    }
}

/// Reads the JSON of `ansible-inventory --list`. `_meta.hostvars` become host-level variables
/// (already merged by Ansible); groups keep their hosts and children.
pub fn parse_list_json(name: &Arc<str>, text: &str) -> Result<Inventory, Diagnostic> {
    let root: Json = serde_json::from_str(&exact_big_ints(text)).map_err(|e| {
        bad(
            name,
            format!("invalid JSON: {e}"),
            Some((e.line(), e.column())),
        )
    })?;
    let Json::Object(root) = root else {
        return Err(bad(
            name,
            "the inventory JSON is not an object".into(),
            None,
        ));
    };
    let mut inv = empty_inventory();
    // Declare every group first, so children can refer to groups listed later.
    for (g, body) in &root {
        if g == "_meta" {
            continue;
        }
        if !body.is_object() {
            return Err(bad(name, format!("group '{g}' is not an object"), None));
        }
        inv.groups.entry(g.clone()).or_insert_with(|| Group {
            name: g.clone(),
            ..Group::default()
        });
    }
    for (g, body) in &root {
        if g == "_meta" {
            continue;
        }
        for key in ["hosts", "children"] {
            let Some(list) = body.get(key) else { continue };
            let Some(items) = list.as_array() else {
                return Err(bad(name, format!("'{g}.{key}' is not a list"), None));
            };
            for item in items {
                let Some(item) = item.as_str() else {
                    return Err(bad(name, format!("'{g}.{key}' holds a non-string"), None));
                };
                if key == "hosts" {
                    add_host(&mut inv, item, g);
                } else {
                    if !inv.groups.contains_key(item) {
                        inv.groups.insert(
                            item.to_string(),
                            Group {
                                name: item.to_string(),
                                ..Group::default()
                            },
                        );
                    }
                    link(&mut inv, g, item);
                }
            }
        }
        if let Some(Json::Object(vars)) = body.get("vars") {
            if let Some(grp) = inv.groups.get_mut(g) {
                for (k, v) in vars {
                    grp.vars.insert(k.clone(), Var::new(unwrap_big(v)));
                }
            }
        }
    }
    if let Some(hv) = root.get("_meta").and_then(|m| m.get("hostvars")) {
        let Some(hv) = hv.as_object() else {
            return Err(bad(name, "'_meta.hostvars' is not an object".into(), None));
        };
        for (h, vars) in hv {
            let Some(vars) = vars.as_object() else {
                return Err(bad(
                    name,
                    format!("hostvars of '{h}' are not an object"),
                    None,
                ));
            };
            let host = inv.hosts.entry(h.clone()).or_insert_with(|| Host {
                name: h.clone(),
                ..Host::default()
            });
            for (k, v) in vars {
                host.vars.insert(k.clone(), Var::new(unwrap_big(v)));
            }
        }
    }
    inv.sources.push(Source {
        name: Arc::clone(name),
        text: text.to_string(),
    });
    Ok(inv)
}

fn add_host(inv: &mut Inventory, host: &str, group: &str) {
    let h = inv.hosts.entry(host.to_string()).or_insert_with(|| Host {
        name: host.to_string(),
        ..Host::default()
    });
    h.occurrences.push(Occurrence {
        group: group.to_string(),
        span: None,
    });
    if !h.groups.iter().any(|g| g == group) {
        h.groups.push(group.to_string());
        if let Some(g) = inv.groups.get_mut(group) {
            g.hosts.push(host.to_string());
        }
    }
}

fn link(inv: &mut Inventory, parent: &str, child: &str) {
    if parent == child {
        return;
    }
    if let Some(p) = inv.groups.get_mut(parent) {
        if !p.children.iter().any(|c| c == child) {
            p.children.push(child.to_string());
        }
    }
    if let Some(c) = inv.groups.get_mut(child) {
        if !c.parents.iter().any(|p| p == parent) {
            c.parents.push(parent.to_string());
        }
    }
}

/// An inventory from Ansible's resolved `groups` (each group's full host list, as given) and
/// `hostvars` (each host's merged variables).
pub fn from_resolved(
    groups: &IndexMap<String, Vec<String>>,
    hostvars: &IndexMap<String, IndexMap<String, Value>>,
) -> Inventory {
    let mut inv = empty_inventory();
    for (g, hosts) in groups {
        let grp = inv.groups.entry(g.clone()).or_insert_with(|| Group {
            name: g.clone(),
            ..Group::default()
        });
        grp.hosts = hosts.clone();
        for h in hosts {
            let host = inv.hosts.entry(h.clone()).or_insert_with(|| Host {
                name: h.clone(),
                ..Host::default()
            });
            if !host.groups.iter().any(|x| x == g) {
                host.groups.push(g.clone());
            }
            host.occurrences.push(Occurrence {
                group: g.clone(),
                span: None,
            });
        }
    }
    for (h, vars) in hostvars {
        let host = inv.hosts.entry(h.clone()).or_insert_with(|| Host {
            name: h.clone(),
            ..Host::default()
        });
        for (k, v) in vars {
            host.vars.insert(k.clone(), Var::new(v.clone()));
        }
    }
    inv
}

// serde_json (without arbitrary precision) reads integers beyond 64 bits as floats. To keep
// Python's exact big ints, such literals are wrapped in a marker string before parsing and
// unwrapped afterwards.
const BIG: &str = "\u{1}bigint:";

fn exact_big_ints(text: &str) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut i = 0;
    let mut last = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
            i += 1;
            continue;
        }
        if c == b'-' || c.is_ascii_digit() {
            let start = i;
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let is_int = !matches!(b.get(j), Some(b'.' | b'e' | b'E'));
            let digits = j - start - usize::from(c == b'-');
            if is_int
                && digits > 18
                && BigInt::parse_bytes(&b[start..j], 10)
                    .is_some_and(|v| i64::try_from(&v).is_err() && u64::try_from(&v).is_err())
            {
                let s = out.get_or_insert_with(String::new);
                s.push_str(&text[last..start]);
                // The marker, escaped as JSON text (a raw control character is not valid JSON).
                s.push_str("\"\\u0001bigint:");
                s.push_str(&text[start..j]);
                s.push('"');
                last = j;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    match out {
        Some(mut s) => {
            s.push_str(&text[last..]);
            std::borrow::Cow::Owned(s)
        }
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// [`value_from_json`], restoring big ints marked by [`exact_big_ints`].
fn unwrap_big(j: &Json) -> Value {
    match j {
        Json::String(s) => match s.strip_prefix(BIG) {
            Some(d) => BigInt::parse_bytes(d.as_bytes(), 10)
                .map(Value::Int)
                .unwrap_or_else(|| Value::Str(s.clone())),
            None => Value::Str(s.clone()),
        },
        Json::Array(v) => Value::List(v.iter().map(unwrap_big).collect()),
        Json::Object(m) => Value::Dict(
            m.iter()
                .map(|(k, v)| (Value::Str(k.clone()), unwrap_big(v)))
                .collect(),
        ),
        other => value_from_json(other),
    }
}
