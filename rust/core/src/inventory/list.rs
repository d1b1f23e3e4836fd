//! `ansible-inventory --list`: the same JSON, built from an [`Inventory`].

use super::Inventory;
use crate::value::{python_float_repr, Value};
use serde_json::{Map, Number, Value as Json};

/// Variables `ansible-inventory` removes from hostvars (`C.INTERNAL_STATIC_VARS`, ansible-core 2.19).
pub const INTERNAL_STATIC_VARS: &[&str] = &[
    "ansible_async_path",
    "ansible_collection_name",
    "ansible_config_file",
    "ansible_dependent_role_names",
    "ansible_diff_mode",
    "ansible_facts",
    "ansible_forks",
    "ansible_inventory_sources",
    "ansible_limit",
    "ansible_play_batch",
    "ansible_play_hosts",
    "ansible_play_hosts_all",
    "ansible_play_role_names",
    "ansible_playbook_python",
    "ansible_role_name",
    "ansible_role_names",
    "ansible_run_tags",
    "ansible_skip_tags",
    "ansible_verbosity",
    "ansible_version",
    "group_names",
    "groups",
    "hostvars",
    "inventory_dir",
    "inventory_file",
    "inventory_hostname",
    "inventory_hostname_short",
    "play_hosts",
    "playbook_dir",
    "role_name",
    "role_names",
    "role_path",
    "role_uuid",
];

/// A Python value as ansible-inventory's JSON encoder prints it. Non-finite floats (which Python
/// prints as the non-JSON `Infinity`/`NaN`) become null and ints beyond 64 bits become floats:
/// [`Inventory::to_list_json_string`] prints both exactly.
pub fn value_to_json(v: &Value) -> Json {
    to_json(v, false)
}

/// Marks a number `serde_json::Value` cannot hold, as a string replaced when printing.
const EXACT: &str = "\u{1}exact:";

fn to_json(v: &Value, exact: bool) -> Json {
    match v {
        Value::None => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => {
            if let Ok(n) = i64::try_from(i) {
                Json::Number(n.into())
            } else if let Ok(n) = u64::try_from(i) {
                Json::Number(n.into())
            } else if exact {
                Json::String(format!("{EXACT}{i}"))
            } else {
                Number::from_f64(i.to_string().parse().unwrap_or(f64::NAN))
                    .map_or(Json::Null, Json::Number)
            }
        }
        Value::Float(f) => match Number::from_f64(*f) {
            Some(n) => Json::Number(n),
            None if exact => Json::String(format!("{EXACT}{}", json_key(v))),
            None => Json::Null,
        },
        Value::Str(s) => Json::String(s.clone()),
        Value::List(v) | Value::Tuple(v) | Value::Set(v) => {
            Json::Array(v.iter().map(|x| to_json(x, exact)).collect())
        }
        Value::Dict(kv) => {
            let mut m = Map::new();
            for (k, v) in kv {
                m.insert(json_key(k), to_json(v, exact));
            }
            Json::Object(m)
        }
    }
}

/// How the encoder turns a non-string dict key into text (`true`, `null`, `1.5`, `Infinity`).
pub fn json_key(k: &Value) -> String {
    match k {
        Value::Str(s) => s.clone(),
        Value::None => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => "NaN".into(),
        Value::Float(f) if f.is_infinite() => {
            if *f > 0.0 { "Infinity" } else { "-Infinity" }.into()
        }
        Value::Float(f) => python_float_repr(*f),
        // Ansible cannot print a tuple key at all; Python's str() of it is the closest text.
        Value::Tuple(v) => {
            let parts: Vec<String> = v.iter().map(py_repr).collect();
            if parts.len() == 1 {
                format!("({},)", parts[0])
            } else {
                format!("({})", parts.join(", "))
            }
        }
        other => py_repr(other),
    }
}

fn py_repr(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("'{s}'"),
        other => other.to_python_str(),
    }
}

impl Inventory {
    /// Exactly what `ansible-inventory -i FILE --list` prints for this inventory (as a value).
    pub fn to_list_json(&self) -> Json {
        self.list_json(false)
    }

    fn list_json(&self, exact: bool) -> Json {
        let mut out = Map::new();
        let mut seen = std::collections::HashSet::new();
        self.format_group("all", &mut out, &mut seen, 0);
        let mut hostvars = Map::new();
        for name in self.hosts.keys() {
            let mut vars = Map::new();
            for (k, v) in self.host_vars(name) {
                if !INTERNAL_STATIC_VARS.contains(&k) {
                    vars.insert(k.to_string(), to_json(&v.value, exact));
                }
            }
            if !vars.is_empty() {
                vars.sort_keys();
                hostvars.insert(name.clone(), Json::Object(vars));
            }
        }
        hostvars.sort_keys();
        let mut meta = Map::new();
        meta.insert("hostvars".into(), Json::Object(hostvars));
        meta.insert("profile".into(), Json::String("inventory_legacy".into()));
        out.insert("_meta".into(), Json::Object(meta));
        out.sort_keys();
        Json::Object(out)
    }

    /// The children `--list` shows for a group: its own, and for `all` every parentless group.
    fn list_children(&self, name: &str) -> Vec<&str> {
        let mut kids: Vec<&str> = self
            .groups
            .get(name)
            .map(|g| g.children.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if name == "all" {
            for g in self.groups.values() {
                if g.name != "all" && g.parents.is_empty() && !kids.contains(&g.name.as_str()) {
                    kids.push(&g.name);
                }
            }
        }
        kids
    }

    fn format_group<'a>(
        &'a self,
        name: &'a str,
        out: &mut Map<String, Json>,
        seen: &mut std::collections::HashSet<&'a str>,
        depth: usize,
    ) {
        let Some(g) = self.groups.get(name) else {
            return;
        };
        let mut entry = Map::new();
        if name != "all" {
            let hosts: Vec<Json> = g
                .hosts
                .iter()
                .filter(|h| self.hosts.contains_key(*h))
                .map(|h| Json::String(h.clone()))
                .collect();
            if !hosts.is_empty() {
                entry.insert("hosts".into(), Json::Array(hosts));
            }
        }
        let kids = self.list_children(name);
        if !kids.is_empty() {
            entry.insert(
                "children".into(),
                Json::Array(kids.iter().map(|k| Json::String(k.to_string())).collect()),
            );
        }
        // Recursion is bounded: groups form a DAG and each is expanded once.
        for k in kids {
            if depth < 10_000 && seen.insert(k) {
                self.format_group(k, out, seen, depth + 1);
            }
        }
        if !entry.is_empty() {
            entry.sort_keys();
            out.insert(name.to_string(), Json::Object(entry));
        }
    }

    /// The `--list` JSON as text, indented by 4 like ansible-inventory: keys sorted, big ints
    /// exact, `Infinity`/`NaN` as Python prints them, non-ASCII kept as is.
    pub fn to_list_json_string(&self) -> String {
        let json = self.list_json(true);
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        let _ = serde::Serialize::serialize(&json, &mut ser);
        let text = String::from_utf8(buf).unwrap_or_default();
        // serde_json writes the marker as `"\u0001exact:DIGITS"`: unquote it.
        let marker = "\"\\u0001exact:";
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(pos) = rest.find(marker) {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + marker.len()..];
            let end = after.find('"').unwrap_or(after.len());
            let num = &after[..end];
            let is_num = matches!(num, "Infinity" | "-Infinity" | "NaN")
                || num
                    .strip_prefix('-')
                    .unwrap_or(num)
                    .bytes()
                    .all(|b| b.is_ascii_digit());
            if is_num && !num.is_empty() {
                out.push_str(num);
                rest = after.get(end + 1..).unwrap_or("");
            } else {
                out.push_str(&rest[pos..pos + marker.len()]);
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }
}
