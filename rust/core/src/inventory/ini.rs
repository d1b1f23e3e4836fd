//! Ansible's INI inventory format, read exactly as `ansible/plugins/inventory/ini.py`
//! (ansible-core 2.17–2.19) reads it, remembering where every group, host and variable was written.

use super::{hostpat, literal, shlex, Group, Host, Inventory, Occurrence, Source, Var};
use crate::diag::{Code, Diagnostic, Span};
use crate::value::Value;
use indexmap::IndexMap;
use std::sync::Arc;

/// Python's `str.isspace` for one character.
pub(crate) fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.splitlines()`.
pub fn py_splitlines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let brk = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if brk {
            out.push(&text[start..i]);
            let mut next = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(_, '\n')) = it.peek() {
                    it.next();
                    next += 1;
                }
            }
            start = next;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// `\s*(?:#.*)?$`
fn trailing_ok(rest: &str) -> bool {
    let r = rest.trim_start_matches(py_space);
    r.is_empty() || r.starts_with('#')
}

/// The section regex: `^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:\#.*)?$` -> (name, tag).
fn match_section(line: &str) -> Option<(&str, Option<&str>)> {
    let rest = line.strip_prefix('[')?;
    let name_end = rest
        .find(|c: char| c == ':' || c == ']' || py_space(c))
        .unwrap_or(rest.len());
    if name_end == 0 {
        return None;
    }
    let name = &rest[..name_end];
    let mut rest = &rest[name_end..];
    let mut tag = None;
    if let Some(r) = rest.strip_prefix(':') {
        let tag_end = r.find(|c: char| !is_word(c)).unwrap_or(r.len());
        if tag_end > 0 {
            tag = Some(&r[..tag_end]);
            rest = &r[tag_end..];
        }
    }
    let rest = rest.strip_prefix(']')?;
    trailing_ok(rest).then_some((name, tag))
}

/// The group-name regex of `[g:children]` lines.
fn match_group_name(line: &str) -> Option<&str> {
    let end = line
        .find(|c: char| c == ':' || c == ']' || py_space(c))
        .unwrap_or(line.len());
    if end == 0 {
        return None;
    }
    trailing_ok(&line[end..]).then_some(&line[..end])
}

struct Pending {
    line: u32,
    col: u32,
    vars: bool,
    name: String,
    parents: Vec<String>,
}

struct Reader<'a> {
    file: &'a Arc<str>,
    inv: Inventory,
    line: u32,
    /// Column (1-based) of the first non-blank character of the current line.
    col0: u32,
}

type R<T> = Result<T, Diagnostic>;

impl Reader<'_> {
    fn span(&self, col: u32) -> Span {
        Span::new(self.file, self.line, col)
    }
    fn err(&self, col: u32, msg: impl Into<String>, hint: &str) -> Diagnostic {
        Diagnostic::error(Code::Syntax, msg)
            .at(Some(&self.span(col)))
            .hint(hint)
    }

    fn add_group(&mut self, name: &str, span: Option<Span>) {
        let g = self
            .inv
            .groups
            .entry(name.to_string())
            .or_insert_with(|| Group {
                name: name.to_string(),
                ..Group::default()
            });
        if g.span.is_none() {
            g.span = span;
        }
    }

    fn ancestors(&self, name: &str) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        let mut stack = vec![name.to_string()];
        while let Some(n) = stack.pop() {
            if let Some(g) = self.inv.groups.get(&n) {
                for p in &g.parents {
                    if !seen.contains(p) {
                        seen.push(p.clone());
                        stack.push(p.clone());
                    }
                }
            }
        }
        seen
    }

    /// `InventoryData.add_child` for a group child (cycle checks as `Group.add_child_group`).
    fn add_child(&mut self, parent: &str, child: &str) -> R<()> {
        if parent == child {
            return Err(self.err(
                self.col0,
                format!("Group '{child}' cannot be a child of itself."),
                "remove the group from its own [:children] section",
            ));
        }
        if self.inv.groups[parent].children.iter().any(|c| c == child) {
            return Ok(());
        }
        if self.ancestors(parent).iter().any(|a| a == child) {
            return Err(self.err(
                self.col0,
                format!(
                    "Adding group '{child}' as child to '{parent}' creates a recursive dependency loop."
                ),
                "groups may not contain their own ancestors",
            ));
        }
        if let Some(p) = self.inv.groups.get_mut(parent) {
            p.children.push(child.to_string());
        }
        if let Some(c) = self.inv.groups.get_mut(child) {
            if !c.parents.iter().any(|p| p == parent) {
                c.parents.push(parent.to_string());
            }
        }
        Ok(())
    }

    fn add_host_to_group(&mut self, host: &str, group: &str, span: Option<Span>) {
        let h = self
            .inv
            .hosts
            .entry(host.to_string())
            .or_insert_with(|| Host {
                name: host.to_string(),
                span: span.clone(),
                ..Host::default()
            });
        h.occurrences.push(Occurrence {
            group: group.to_string(),
            span,
        });
        if !h.groups.iter().any(|g| g == group) {
            h.groups.push(group.to_string());
            if let Some(g) = self.inv.groups.get_mut(group) {
                g.hosts.push(host.to_string());
            }
        }
    }

    fn set_group_var(&mut self, group: &str, key: String, var: Var) -> R<()> {
        if key == "ansible_group_priority" {
            let p = py_int_of(&var.value).ok_or_else(|| {
                self.err(
                    var.span.as_ref().map_or(self.col0, |s| s.column),
                    format!(
                        "ansible_group_priority must be an integer, got {}",
                        var.raw.as_deref().unwrap_or("?")
                    ),
                    "write ansible_group_priority=N with an integer N",
                )
            })?;
            if let Some(g) = self.inv.groups.get_mut(group) {
                g.priority = Some(p);
            }
            return Ok(());
        }
        if let Some(g) = self.inv.groups.get_mut(group) {
            g.vars.insert(key, var);
        }
        Ok(())
    }

    fn value(&self, raw: &str, col: u32) -> R<Var> {
        let value = literal::parse_ini_value(raw).map_err(|e| match e {
            literal::LiteralError::Unhashable(t) => self.err(
                col,
                format!("unhashable type: '{t}' in value {raw}"),
                "a set element or dict key cannot be a list, dict or set; quote the value to keep it as text",
            ),
            literal::LiteralError::NotLiteral => self.err(col, "invalid value", ""),
        })?;
        Ok(Var {
            value,
            span: Some(self.span(col)),
            raw: Some(raw.to_string()),
        })
    }

    fn host_line(&mut self, line: &str, group: &str) -> R<()> {
        let tokens = shlex::split(line).map_err(|e| {
            self.err(
                self.col0,
                format!("Error parsing host definition '{line}': {e}"),
                "close the quote or remove the trailing backslash",
            )
        })?;
        let Some(first) = tokens.first() else {
            return Ok(());
        };
        let (names, port) = hostpat::expand_hostpattern(&first.text).map_err(|e| {
            let hint = if first.text.starts_with('\u{feff}') {
                "the file starts with a UTF-8 byte order mark, which Ansible does not skip: save it without BOM"
            } else {
                "host ranges are written name[01:10], name[a:f] or name[1:10:2]"
            };
            self.err(
                self.col0,
                format!("Invalid host pattern '{}': {e}", first.text),
                hint,
            )
        })?;
        if first.text.trim_matches(py_space).ends_with(':') && port.is_none() {
            return Err(self.err(
                self.col0,
                format!(
                    "Invalid host pattern '{}' supplied, ending in ':' is not allowed, this character is reserved to provide a port.",
                    first.text
                ),
                "write host:PORT with a numeric port, or drop the ':'",
            ));
        }
        if names.iter().any(|n| n.trim_matches(py_space) == "---") {
            return Err(self.err(
                self.col0,
                format!(
                    "Invalid host pattern '{}' supplied, '---' is normally a sign this is a YAML file.",
                    first.text
                ),
                "YAML inventories are not INI files",
            ));
        }
        let mut vars: IndexMap<String, Var> = IndexMap::new();
        for t in &tokens[1..] {
            let col = self.col0 + t.start as u32;
            let Some((k, v)) = t.text.split_once('=') else {
                return Err(self.err(
                    col,
                    format!(
                        "Expected key=value host variable assignment, got: {}",
                        t.text
                    ),
                    "host variables are written key=value after the host name",
                ));
            };
            let var = self.value(v, col)?;
            vars.insert(k.to_string(), var);
        }
        let span = Some(self.span(self.col0));
        for name in names {
            if name.is_empty() {
                return Err(self.err(
                    self.col0,
                    "Invalid empty host name provided: ",
                    "give the host a name",
                ));
            }
            let is_new = !self.inv.hosts.contains_key(&name);
            self.add_host_to_group(&name, group, span.clone());
            let h = self.inv.hosts.get_mut(&name).expect("just added");
            if is_new {
                if let Some(p) = port.filter(|p| *p != 0) {
                    h.vars.insert(
                        "ansible_port".into(),
                        Var {
                            value: Value::Int(p.into()),
                            span: span.clone(),
                            raw: Some(p.to_string()),
                        },
                    );
                }
            }
            for (k, v) in &vars {
                h.vars.insert(k.clone(), v.clone());
            }
        }
        Ok(())
    }

    fn vars_line(&mut self, line: &str, group: &str) -> R<()> {
        let Some((k, v)) = line.split_once('=') else {
            return Err(self.err(
                self.col0,
                format!("Expected key=value, got: {line}"),
                "a [group:vars] section holds only key=value lines",
            ));
        };
        let key = k.trim_matches(py_space);
        let raw = v.trim_matches(py_space);
        let key_col = self.col0;
        let mut var = self.value(raw, key_col)?;
        var.span = Some(self.span(key_col));
        self.set_group_var(group, key.to_string(), var)
    }

    fn add_pending_children(
        &mut self,
        group: &str,
        pending: &mut IndexMap<String, Pending>,
    ) -> R<()> {
        let parents = pending
            .get(group)
            .map(|p| p.parents.clone())
            .unwrap_or_default();
        for parent in parents {
            self.add_child(&parent, group)?;
            if pending.get(&parent).is_some_and(|p| !p.vars) {
                self.add_pending_children(&parent, pending)?;
            }
        }
        pending.shift_remove(group);
        Ok(())
    }

    fn parse(&mut self, text: &str) -> R<()> {
        let mut pending: IndexMap<String, Pending> = IndexMap::new();
        let mut group = "ungrouped".to_string();
        let mut state = "hosts".to_string();
        for (idx, raw_line) in py_splitlines(text).into_iter().enumerate() {
            self.line = idx as u32 + 1;
            let lead = raw_line.chars().take_while(|&c| py_space(c)).count();
            self.col0 = lead as u32 + 1;
            let line = raw_line.trim_matches(py_space);
            if line.is_empty() || line.starts_with(['#', ';']) {
                continue;
            }
            if let Some((name, tag)) = match_section(line) {
                // Ansible's default TRANSFORM_INVALID_GROUP_CHARS=never keeps names as written.
                group = name.to_string();
                state = tag.unwrap_or("hosts").to_string();
                if !matches!(state.as_str(), "hosts" | "children" | "vars") {
                    return Err(self.err(
                        self.col0,
                        format!("Section [{name}:{state}] has unknown type: {state}"),
                        "a section is [group], [group:vars] or [group:children]",
                    ));
                }
                let span = Some(self.span(self.col0));
                if !self.inv.groups.contains_key(&group) {
                    if state == "vars" && !pending.contains_key(&group) {
                        pending.insert(
                            group.clone(),
                            Pending {
                                line: self.line,
                                col: self.col0,
                                vars: true,
                                name: group.clone(),
                                parents: vec![],
                            },
                        );
                    }
                    self.add_group(&group, span);
                } else if let Some(g) = self.inv.groups.get_mut(&group) {
                    if g.span.is_none() {
                        g.span = span;
                    }
                }
                if state != "vars" {
                    match pending.get(&group).map(|p| p.vars) {
                        Some(false) => self.add_pending_children(&group.clone(), &mut pending)?,
                        Some(true) => {
                            pending.shift_remove(&group);
                        }
                        None => {}
                    }
                }
                continue;
            } else if line.starts_with('[') && line.ends_with(']') {
                return Err(self.err(
                    self.col0,
                    format!("Invalid section entry: '{line}'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters"),
                    "section headers look like [group], [group:vars] or [group:children]",
                ));
            }
            let g = group.clone();
            match state.as_str() {
                "hosts" => self.host_line(line, &g)?,
                "vars" => self.vars_line(line, &g)?,
                _ => {
                    let Some(child) = match_group_name(line) else {
                        return Err(self.err(
                            self.col0,
                            format!("Expected group name, got: {line}"),
                            "a [group:children] section lists one group name per line",
                        ));
                    };
                    if self.inv.groups.contains_key(child) {
                        self.add_child(&g, child)?;
                    } else if let Some(p) = pending.get_mut(child) {
                        p.parents.push(g);
                    } else {
                        pending.insert(
                            child.to_string(),
                            Pending {
                                line: self.line,
                                col: self.col0,
                                vars: false,
                                name: child.to_string(),
                                parents: vec![g],
                            },
                        );
                    }
                }
            }
        }
        if let Some((_, p)) = pending.first() {
            self.line = p.line;
            return Err(if p.vars {
                self.err(
                    p.col,
                    format!(
                        "Section [{}:vars] not valid for undefined group '{}'.",
                        p.name, p.name
                    ),
                    &format!(
                        "declare the group with a [{}] section (it may be empty)",
                        p.name
                    ),
                )
            } else {
                self.err(
                    p.col,
                    format!(
                        "Section [{}:children] includes undefined group '{}'.",
                        p.parents.last().map(String::as_str).unwrap_or(""),
                        p.name
                    ),
                    &format!(
                        "declare the group with a [{}] section (it may be empty)",
                        p.name
                    ),
                )
            });
        }
        Ok(())
    }

    /// `InventoryData.reconcile_inventory`: roots hang under `all`; `ungrouped` holds exactly the
    /// hosts of no other group.
    fn reconcile(&mut self) {
        let names: Vec<String> = self.inv.groups.keys().cloned().collect();
        for n in names {
            if n != "all" && self.ancestors(&n).is_empty() {
                // Cannot fail: `all` has no ancestors.
                let _ = self.add_child("all", &n);
            }
        }
        let hosts: Vec<String> = self.inv.hosts.keys().cloned().collect();
        for h in hosts {
            let direct = self.inv.hosts[&h].groups.clone();
            let mut mine: Vec<String> = direct.clone();
            for g in &direct {
                mine.extend(self.ancestors(g));
            }
            let other = mine.iter().any(|g| g != "all" && g != "ungrouped");
            if direct.iter().any(|g| g == "ungrouped") {
                if other {
                    if let Some(u) = self.inv.groups.get_mut("ungrouped") {
                        u.hosts.retain(|x| x != &h);
                    }
                    if let Some(host) = self.inv.hosts.get_mut(&h) {
                        host.groups.retain(|g| g != "ungrouped");
                    }
                }
            } else if !other {
                if let Some(u) = self.inv.groups.get_mut("ungrouped") {
                    u.hosts.push(h.clone());
                }
                if let Some(host) = self.inv.hosts.get_mut(&h) {
                    host.groups.push("ungrouped".into());
                }
            }
        }
    }
}

/// Python's `int(value)` as `Group.set_priority(int(value))` does it.
fn py_int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => i64::try_from(i).ok(),
        Value::Bool(b) => Some(*b as i64),
        Value::Float(f) if f.is_finite() => Some(f.trunc() as i64),
        Value::Str(s) => hostpat::py_int(s),
        _ => None,
    }
}

/// An inventory with only `all` and `ungrouped`, as Ansible starts.
pub(crate) fn empty_inventory() -> Inventory {
    let mut inv = Inventory::default();
    inv.groups.insert(
        "all".into(),
        Group {
            name: "all".into(),
            children: vec!["ungrouped".into()],
            ..Group::default()
        },
    );
    inv.groups.insert(
        "ungrouped".into(),
        Group {
            name: "ungrouped".into(),
            parents: vec!["all".into()],
            ..Group::default()
        },
    );
    inv
}

/// Reads an INI inventory. On failure, the first error Ansible would raise (Ansible stops there).
pub fn parse(name: &Arc<str>, text: &str) -> Result<Inventory, Vec<Diagnostic>> {
    let mut r = Reader {
        file: name,
        inv: empty_inventory(),
        line: 0,
        col0: 1,
    };
    r.parse(text).map_err(|d| vec![d])?;
    r.reconcile();
    let mut inv = r.inv;
    inv.sources.push(Source {
        name: Arc::clone(name),
        text: text.to_string(),
    });
    Ok(inv)
}
