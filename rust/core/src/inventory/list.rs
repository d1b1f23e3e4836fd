//! `ansible-inventory --list`: the same JSON, built from an [`Inventory`].

use super::Inventory;
use crate::value::{int_text, python_float_repr, Value};
use serde_json::{Map, Number, Value as Json};
use std::io::Write;

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

/// A Python value as ansible-inventory's JSON encoder prints it, as a `serde_json` value:
/// non-finite floats (which Python prints as the non-JSON `Infinity`/`NaN`) become null and ints
/// beyond 64 bits become floats. [`Inventory::write_list_json`] prints both exactly.
pub fn value_to_json(v: &Value) -> Json {
    match v {
        Value::None => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => {
            if let Ok(n) = i64::try_from(i) {
                Json::Number(n.into())
            } else if let Ok(n) = u64::try_from(i) {
                Json::Number(n.into())
            } else {
                Number::from_f64(num_traits::ToPrimitive::to_f64(i).unwrap_or(f64::NAN))
                    .map_or(Json::Null, Json::Number)
            }
        }
        Value::Float(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s.clone()),
        Value::List(v) | Value::Tuple(v) | Value::Set(v) => {
            Json::Array(v.iter().map(value_to_json).collect())
        }
        Value::Dict(kv) => {
            let mut m = Map::new();
            for (k, v) in kv {
                m.insert(json_key(k), value_to_json(v));
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
        Value::Int(i) => int_text(i),
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
        let mut out = Map::new();
        for (name, entry) in self.list_groups() {
            let mut e = Map::new();
            if !entry.hosts.is_empty() {
                let hosts = entry.hosts.iter().map(|h| Json::String(h.to_string()));
                e.insert("hosts".into(), Json::Array(hosts.collect()));
            }
            if !entry.children.is_empty() {
                let kids = entry.children.iter().map(|k| Json::String(k.to_string()));
                e.insert("children".into(), Json::Array(kids.collect()));
            }
            out.insert(name.to_string(), Json::Object(e));
        }
        let mut hostvars = Map::new();
        for name in self.hosts.keys() {
            let vars: Map<String, Json> = self
                .list_hostvars(name)
                .into_iter()
                .map(|(k, v)| (k.to_string(), value_to_json(v)))
                .collect();
            if !vars.is_empty() {
                hostvars.insert(name.clone(), Json::Object(vars));
            }
        }
        let mut meta = Map::new();
        meta.insert("hostvars".into(), Json::Object(hostvars));
        meta.insert("profile".into(), Json::String("inventory_legacy".into()));
        out.insert("_meta".into(), Json::Object(meta));
        out.sort_keys();
        Json::Object(out)
    }

    /// The hostvars `--list` shows for a host, sorted by name.
    fn list_hostvars(&self, host: &str) -> Vec<(&str, &Value)> {
        let mut vars: Vec<(&str, &Value)> = self
            .host_vars(host)
            .into_iter()
            .filter(|(k, _)| !INTERNAL_STATIC_VARS.contains(k))
            .map(|(k, v)| (k, &v.value))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(b.0));
        vars
    }

    /// The children `--list` shows for a group: its own, and for `all` every parentless group.
    fn list_children(&self, name: &str) -> Vec<&str> {
        let mut kids: Vec<&str> = self
            .groups
            .get(name)
            .map(|g| g.children.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if name == "all" {
            let mine: std::collections::HashSet<&str> = kids.iter().copied().collect();
            for g in self.groups.values() {
                if g.name != "all" && g.parents.is_empty() && !mine.contains(g.name.as_str()) {
                    kids.push(&g.name);
                }
            }
        }
        kids
    }

    /// Every group `--list` shows (those reached from `all`, each once), with its hosts and
    /// children, sorted by name. A walk with a queue: no recursion, however deep the groups.
    fn list_groups(&self) -> Vec<(&str, ListGroup<'_>)> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::from(["all"]);
        let mut queue = std::collections::VecDeque::from(["all"]);
        while let Some(name) = queue.pop_front() {
            let Some(g) = self.groups.get(name) else {
                continue;
            };
            let hosts: Vec<&str> = if name == "all" {
                Vec::new()
            } else {
                g.hosts
                    .iter()
                    .filter(|h| self.hosts.contains_key(*h))
                    .map(String::as_str)
                    .collect()
            };
            let children = self.list_children(name);
            for k in &children {
                if seen.insert(k) {
                    queue.push_back(k);
                }
            }
            if !hosts.is_empty() || !children.is_empty() {
                out.push((name, ListGroup { hosts, children }));
            }
        }
        out.sort_by(|a, b| a.0.cmp(b.0));
        out
    }

    /// The `--list` JSON as text, exactly as ansible-inventory prints it: indented by 4, keys
    /// sorted (nested ones too), ints exact, `Infinity`/`NaN` as Python prints them, floats as
    /// Python writes them, non-ASCII kept as is.
    pub fn to_list_json_string(&self) -> String {
        let mut out = Vec::new();
        // Writing into memory cannot fail.
        let _ = self.write_list_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// [`Inventory::to_list_json_string`], written as it is made (memory stays flat however
    /// many hosts and variables there are).
    pub fn write_list_json(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut p = Printer {
            w: std::io::BufWriter::new(w),
            indent: 0,
        };
        let groups = self.list_groups();
        p.open('{')?;
        let mut first = true;
        let mut meta_done = false;
        let meta = |p: &mut Printer<'_>, first: &mut bool| -> std::io::Result<()> {
            p.key("_meta", first)?;
            p.open('{')?;
            let mut f = true;
            p.key("hostvars", &mut f)?;
            p.open('{')?;
            let mut hosts: Vec<&str> = self.hosts.keys().map(String::as_str).collect();
            hosts.sort_unstable();
            let mut fh = true;
            for h in hosts {
                let vars = self.list_hostvars(h);
                if vars.is_empty() {
                    continue;
                }
                p.key(h, &mut fh)?;
                p.open('{')?;
                let mut fv = true;
                for (k, v) in vars {
                    p.key(k, &mut fv)?;
                    p.value(v)?;
                }
                p.close('}', fv)?;
            }
            p.close('}', fh)?;
            p.key("profile", &mut f)?;
            p.string("inventory_legacy")?;
            p.close('}', false)
        };
        for (name, g) in &groups {
            if !meta_done && *name > "_meta" {
                meta(&mut p, &mut first)?;
                meta_done = true;
            }
            p.key(name, &mut first)?;
            p.open('{')?;
            let mut f = true;
            if !g.children.is_empty() {
                p.key("children", &mut f)?;
                p.strings(&g.children)?;
            }
            if !g.hosts.is_empty() {
                p.key("hosts", &mut f)?;
                p.strings(&g.hosts)?;
            }
            p.close('}', f)?;
        }
        if !meta_done {
            meta(&mut p, &mut first)?;
        }
        p.close('}', false)?;
        p.w.write_all(b"\n")?;
        p.w.flush()
    }
}

/// A group as `--list` shows it.
struct ListGroup<'a> {
    hosts: Vec<&'a str>,
    children: Vec<&'a str>,
}

/// Python's `json.dumps(indent=4, sort_keys=True, ensure_ascii=False)`, written as it goes.
struct Printer<'w> {
    w: std::io::BufWriter<&'w mut dyn std::io::Write>,
    indent: usize,
}

impl Printer<'_> {
    fn newline(&mut self) -> std::io::Result<()> {
        self.w.write_all(b"\n")?;
        for _ in 0..self.indent {
            self.w.write_all(b"    ")?;
        }
        Ok(())
    }
    fn open(&mut self, c: char) -> std::io::Result<()> {
        self.indent += 1;
        write!(self.w, "{c}")
    }
    /// Closes a container; `empty` when nothing was written in it.
    fn close(&mut self, c: char, empty: bool) -> std::io::Result<()> {
        self.indent -= 1;
        if !empty {
            self.newline()?;
        }
        write!(self.w, "{c}")
    }
    fn item(&mut self, first: &mut bool) -> std::io::Result<()> {
        if !std::mem::take(first) {
            self.w.write_all(b",")?;
        }
        self.newline()
    }
    fn key(&mut self, k: &str, first: &mut bool) -> std::io::Result<()> {
        self.item(first)?;
        self.string(k)?;
        self.w.write_all(b": ")
    }
    fn string(&mut self, s: &str) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.w, s).map_err(std::io::Error::other)
    }
    fn strings(&mut self, items: &[&str]) -> std::io::Result<()> {
        self.open('[')?;
        let mut first = true;
        for s in items {
            self.item(&mut first)?;
            self.string(s)?;
        }
        self.close(']', first)
    }
    fn value(&mut self, v: &Value) -> std::io::Result<()> {
        match v {
            Value::None => self.w.write_all(b"null"),
            Value::Bool(b) => self.w.write_all(if *b { b"true" } else { b"false" }),
            Value::Int(i) => {
                let text = int_text(i);
                if text.starts_with('<') {
                    // Python refuses to print it at all.
                    self.string(&text)
                } else {
                    self.w.write_all(text.as_bytes())
                }
            }
            Value::Float(f) if f.is_nan() => self.w.write_all(b"NaN"),
            Value::Float(f) if f.is_infinite() => {
                self.w
                    .write_all(if *f > 0.0 { b"Infinity" } else { b"-Infinity" })
            }
            Value::Float(f) => self.w.write_all(python_float_repr(*f).as_bytes()),
            Value::Str(s) => self.string(s),
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                self.open('[')?;
                let mut first = true;
                for item in items {
                    self.item(&mut first)?;
                    self.value(item)?;
                }
                self.close(']', first)
            }
            Value::Dict(pairs) => {
                // sort_keys: numbers by value, text by code point.
                let number = |k: &Value| match k {
                    Value::Int(i) => num_traits::ToPrimitive::to_f64(i),
                    Value::Bool(b) => Some(f64::from(u8::from(*b))),
                    Value::Float(f) => Some(*f),
                    _ => None,
                };
                let mut sorted: Vec<(&Value, String, &Value)> =
                    pairs.iter().map(|(k, v)| (k, json_key(k), v)).collect();
                sorted.sort_by(|a, b| match (number(a.0), number(b.0)) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    _ => a.1.cmp(&b.1),
                });
                self.open('{')?;
                let mut first = true;
                for (_, k, v) in sorted {
                    self.key(&k, &mut first)?;
                    self.value(v)?;
                }
                self.close('}', first)
            }
        }
    }
}
