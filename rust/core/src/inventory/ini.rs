//! Ansible's INI inventory format, read exactly as `ansible/plugins/inventory/ini.py`
//! (ansible-core 2.17–2.19) reads it, remembering where every group, host and variable was written.

use super::limits::{self, Budget};
use super::{graph, hostpat, literal, shlex, Group, Host, Inventory, Occurrence, Source, Var};
use crate::diag::{Code, Diagnostic, Span};
use crate::value::Value;
use indexmap::IndexMap;
use std::collections::HashSet;
use std::sync::Arc;

/// Python's `str.isspace` for one character.
pub(crate) fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.splitlines()`.
pub fn py_splitlines(text: &str) -> Vec<&str> {
    py_lines(text).collect()
}

/// Python's `str.splitlines()`, one line at a time.
pub fn py_lines(text: &str) -> impl Iterator<Item = &str> + '_ {
    let mut it = text.char_indices().peekable();
    let mut start = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
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
                let line = &text[start..i];
                let mut next = i + c.len_utf8();
                if c == '\r' {
                    if let Some(&(_, '\n')) = it.peek() {
                        it.next();
                        next += 1;
                    }
                }
                start = next;
                return Some(line);
            }
        }
        done = true;
        (start < text.len()).then(|| &text[start..])
    })
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

/// A child group named before its own section (or a `[g:vars]` before `[g]`), resolved when
/// the group is declared.
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
    /// The current line, trimmed: what messages may quote (see [`Reader::quote`]).
    text: &'a str,
    budget: Budget,
    /// Host entries so far (a host listed in two groups counts twice).
    entries: usize,
    /// Parent -> child links by group index, in the order they were made, and where.
    links: Vec<(usize, usize)>,
    link_at: Vec<(u32, u32)>,
    linked: HashSet<(usize, usize)>,
    /// (host, group) pairs of direct membership.
    member: HashSet<(usize, usize)>,
}

type R<T> = Result<T, Diagnostic>;

/// Bytes of bookkeeping per group, link, host and host entry, charged to the budget.
const OVERHEAD: usize = 128;

impl<'a> Reader<'a> {
    fn span(&self, col: u32) -> Span {
        Span::new(self.file, self.line, col)
    }
    fn err(&self, col: u32, msg: impl Into<String>, hint: &str) -> Diagnostic {
        Diagnostic::error(Code::Syntax, msg)
            .at(Some(&self.span(col)))
            .hint(hint)
    }

    /// Text of the current line fit for a message: shortened, and not at all when the line
    /// sets a secret (whatever is wrong with it, its value is never echoed).
    fn quote(&self, fragment: &str) -> String {
        if crate::secrets::mentions_secret(self.text) {
            crate::secrets::NOT_SHOWN.to_string()
        } else {
            crate::secrets::quote_text(fragment)
        }
    }

    fn too_large(&self, col: u32, what: String) -> Diagnostic {
        Diagnostic::error(Code::TooLarge, what)
            .at(Some(&self.span(col)))
            .hint("split the organisation into several inventories, or see the README's Robustness section for metis-deploy's limits")
    }

    fn over_budget(&self, col: u32) -> Diagnostic {
        self.too_large(
            col,
            format!(
                "the inventory is too large: its hosts, groups and values take more than {} MiB (host-line variables count once per host)",
                limits::MAX_MEMORY >> 20
            ),
        )
    }

    fn charge(&mut self, bytes: usize) -> R<()> {
        self.budget
            .charge(bytes)
            .map_err(|_| self.over_budget(self.col0))
    }

    fn add_group(&mut self, name: &str, span: Option<Span>) -> R<()> {
        if !self.inv.groups.contains_key(name) {
            self.charge(OVERHEAD + name.len())?;
        }
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
        Ok(())
    }

    /// `InventoryData.add_child` for a group child. A group may not be its own child; loops
    /// through other groups are found once, linearly, by [`Reader::first_loop`].
    fn add_child(&mut self, parent: &str, child: &str) -> R<()> {
        if parent == child {
            return Err(self.err(
                self.col0,
                format!("Group {} cannot be a child of itself.", self.quote(child)),
                "remove the group from its own [:children] section",
            ));
        }
        let (Some(p), Some(c)) = (
            self.inv.groups.get_index_of(parent),
            self.inv.groups.get_index_of(child),
        ) else {
            return Ok(());
        };
        if !self.linked.insert((p, c)) {
            return Ok(());
        }
        self.charge(OVERHEAD + parent.len() + child.len())?;
        self.links.push((p, c));
        self.link_at.push((self.line, self.col0));
        self.inv.groups[p].children.push(child.to_string());
        self.inv.groups[c].parents.push(parent.to_string());
        Ok(())
    }

    /// The error Ansible raises at the first link that closes a loop of groups, if any.
    fn first_loop(&self) -> Option<Diagnostic> {
        let i = graph::first_cycle_edge(self.inv.groups.len(), &self.links)?;
        let (p, c) = self.links[i];
        let (line, col) = self.link_at[i];
        let name = |g: usize| self.inv.groups.get_index(g).map_or("", |(n, _)| n.as_str());
        let shown = crate::secrets::quote_text;
        Some(
            Diagnostic::error(
                Code::Syntax,
                format!(
                    "Adding group {} as child to {} creates a recursive dependency loop.",
                    shown(name(c)),
                    shown(name(p))
                ),
            )
            .at(Some(&Span::new(self.file, line, col)))
            .hint("groups may not contain their own ancestors"),
        )
    }

    fn add_host_to_group(&mut self, host: &str, group: &str, span: Option<Span>) -> R<()> {
        self.entries += 1;
        if self.entries > limits::MAX_HOST_ENTRIES {
            return Err(self.too_large(
                self.col0,
                format!(
                    "the inventory lists more than {} host entries (a host listed in n groups is n entries)",
                    limits::MAX_HOST_ENTRIES
                ),
            ));
        }
        let known = self.inv.hosts.get_index_of(host);
        if known.is_none() && self.inv.hosts.len() >= limits::MAX_HOSTS {
            return Err(self.too_large(
                self.col0,
                format!("the inventory has more than {} hosts", limits::MAX_HOSTS),
            ));
        }
        self.charge(OVERHEAD + group.len() + if known.is_none() { host.len() } else { 0 })?;
        let h_idx = match known {
            Some(i) => i,
            None => {
                let h = Host {
                    name: host.to_string(),
                    span: span.clone(),
                    ..Host::default()
                };
                self.inv.hosts.insert_full(host.to_string(), h).0
            }
        };
        let h = &mut self.inv.hosts[h_idx];
        h.occurrences.push(Occurrence {
            group: group.to_string(),
            span,
        });
        let Some(g_idx) = self.inv.groups.get_index_of(group) else {
            return Ok(());
        };
        if self.member.insert((h_idx, g_idx)) {
            h.groups.push(group.to_string());
            self.inv.groups[g_idx].hosts.push(host.to_string());
        }
        Ok(())
    }

    fn set_group_var(&mut self, group: &str, key: String, var: Var) -> R<()> {
        if key == "ansible_group_priority" {
            let p = py_int_of(&var.value).ok_or_else(|| {
                self.err(
                    var.span.as_ref().map_or(self.col0, |s| s.column),
                    format!(
                        "ansible_group_priority must be an integer, got {}",
                        self.quote(var.raw.as_deref().unwrap_or("?"))
                    ),
                    "write ansible_group_priority=N with an integer N",
                )
            })?;
            if let Some(g) = self.inv.groups.get_mut(group) {
                g.priority = Some(p);
            }
            return Ok(());
        }
        self.charge(OVERHEAD + key.len())?;
        if let Some(g) = self.inv.groups.get_mut(group) {
            g.vars.insert(key, var);
        }
        Ok(())
    }

    fn value(&mut self, key: &str, raw: &str, col: u32) -> R<Var> {
        let value = literal::parse_ini_value_within(raw, &mut self.budget).map_err(|e| {
            let key = crate::diag::shorten(key, 80);
            match e {
                literal::LiteralError::Unhashable(t) => self.err(
                    col,
                    format!("unhashable type: '{t}' in the value of `{key}`"),
                    "a set element or dict key cannot be a list, dict or set; quote the value to keep it as text",
                ),
                literal::LiteralError::TooDeep => self.err(
                    col,
                    format!(
                        "the value of `{key}` is nested more than {} levels deep (brackets, signs and operators)",
                        limits::MAX_LITERAL_DEPTH
                    ),
                    "Python's parser (and so Ansible) gives up on values nested this deep; quote the value to keep it as text",
                ),
                literal::LiteralError::TooLarge => self.over_budget(col),
                literal::LiteralError::NotLiteral => self.err(col, "invalid value", ""),
            }
        })?;
        Ok(Var {
            value,
            span: Some(self.span(col)),
            raw: Some(raw.to_string()),
        })
    }

    fn host_line(&mut self, line: &str, group: &str) -> R<()> {
        // Python splits the whole line before looking at a token; the tokens are then read one
        // at a time (a long line is never held as a list of tokens).
        // (Only quotes and backslashes can make a line fail to split.)
        let plain = !line.contains(['\'', '"', '\\']);
        (if plain { Ok(()) } else { shlex::check(line) }).map_err(|e| {
            self.err(
                self.col0,
                format!("Error parsing host definition {}: {e}", self.quote(line)),
                "close the quote or remove the trailing backslash",
            )
        })?;
        let mut tokens = shlex::tokens(line).flatten();
        let Some(first) = tokens.next() else {
            return Ok(());
        };
        // A range never names more hosts than an inventory may hold, nor more entries than
        // are left (new hosts are counted against their cap as they are added).
        let expanded = hostpat::expand_hostpattern_within(
            &first.text,
            limits::MAX_HOST_ENTRIES
                .saturating_sub(self.entries)
                .clamp(1, limits::MAX_HOSTS),
            self.budget.left(),
        );
        let (names, port) = match expanded {
            Ok(r) => r,
            Err(hostpat::PatternError::TooMany) => {
                return Err(self.too_large(
                    self.col0,
                    format!(
                        "the host range {} expands past metis-deploy's limits ({} hosts, {} host entries, {} MiB in memory)",
                        self.quote(&first.text),
                        limits::MAX_HOSTS,
                        limits::MAX_HOST_ENTRIES,
                        limits::MAX_MEMORY >> 20
                    ),
                ))
            }
            Err(hostpat::PatternError::Invalid(e)) => {
                let hint = if first.text.starts_with('\u{feff}') {
                    "the file starts with a UTF-8 byte order mark, which Ansible does not skip: save it without BOM"
                } else {
                    "host ranges are written name[01:10], name[a:f] or name[1:10:2]"
                };
                return Err(self.err(
                    self.col0,
                    format!("Invalid host pattern {}: {e}", self.quote(&first.text)),
                    hint,
                ));
            }
        };
        if first.text.trim_matches(py_space).ends_with(':') && port.is_none() {
            return Err(self.err(
                self.col0,
                format!(
                    "Invalid host pattern {} supplied, ending in ':' is not allowed, this character is reserved to provide a port.",
                    self.quote(&first.text)
                ),
                "write host:PORT with a numeric port, or drop the ':'",
            ));
        }
        if names.iter().any(|n| n.trim_matches(py_space) == "---") {
            return Err(self.err(
                self.col0,
                format!(
                    "Invalid host pattern {} supplied, '---' is normally a sign this is a YAML file.",
                    self.quote(&first.text)
                ),
                "YAML inventories are not INI files",
            ));
        }
        let mut vars: IndexMap<String, Var> = IndexMap::new();
        let mut vars_cost = 0usize;
        for t in tokens {
            let col = self
                .col0
                .saturating_add(u32::try_from(t.start).unwrap_or(u32::MAX));
            let Some((k, v)) = t.text.split_once('=') else {
                return Err(self.err(
                    col,
                    format!(
                        "Expected key=value host variable assignment, got: {}",
                        self.quote(&t.text)
                    ),
                    "host variables are written key=value after the host name",
                ));
            };
            let var = self.value(k, v, col)?;
            vars_cost += OVERHEAD + k.len() + v.len() + limits::value_cost(&var.value);
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
            self.add_host_to_group(&name, group, span.clone())?;
            // Every host gets its own copy of the line's variables.
            self.charge(vars_cost)?;
            let Some(h) = self.inv.hosts.get_mut(&name) else {
                continue;
            };
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
                format!("Expected key=value, got: {}", self.quote(line)),
                "a [group:vars] section holds only key=value lines",
            ));
        };
        let key = k.trim_matches(py_space);
        let raw = v.trim_matches(py_space);
        let key_col = self.col0;
        let mut var = self.value(key, raw, key_col)?;
        var.span = Some(self.span(key_col));
        self.set_group_var(group, key.to_string(), var)
    }

    /// `_add_pending_children`: links a just-declared group under the parents that named it
    /// earlier, and so on up through parents that were themselves pending. A loop, not a
    /// recursion; a parent already being resolved is not entered twice (that is a loop of
    /// groups, reported by [`Reader::first_loop`]).
    fn add_pending_children(
        &mut self,
        group: &str,
        pending: &mut IndexMap<String, Pending>,
    ) -> R<()> {
        let parents_of = |pending: &IndexMap<String, Pending>, g: &str| {
            pending
                .get(g)
                .map(|p| p.parents.clone())
                .unwrap_or_default()
        };
        let mut stack: Vec<(String, Vec<String>, usize)> =
            vec![(group.to_string(), parents_of(pending, group), 0)];
        let mut open: HashSet<String> = HashSet::from([group.to_string()]);
        while let Some((g, parents, next)) = stack.last_mut() {
            let Some(parent) = parents.get(*next).cloned() else {
                pending.shift_remove(g.as_str());
                open.remove(g.as_str());
                stack.pop();
                continue;
            };
            *next += 1;
            let g = g.clone();
            self.add_child(&parent, &g)?;
            if pending.get(&parent).is_some_and(|p| !p.vars) && open.insert(parent.clone()) {
                let grand = parents_of(pending, &parent);
                stack.push((parent, grand, 0));
            }
        }
        Ok(())
    }

    fn parse(&mut self, text: &'a str) -> R<()> {
        let mut pending: IndexMap<String, Pending> = IndexMap::new();
        let mut group = "ungrouped".to_string();
        let mut state = "hosts".to_string();
        for (idx, raw_line) in py_lines(text).enumerate() {
            self.line = u32::try_from(idx + 1).unwrap_or(u32::MAX);
            let lead = raw_line.chars().take_while(|&c| py_space(c)).count();
            self.col0 = u32::try_from(lead + 1).unwrap_or(u32::MAX);
            let line = raw_line.trim_matches(py_space);
            self.text = line;
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
                        format!(
                            "Section {} has unknown type: {}",
                            self.quote(&format!("[{name}:{state}]")),
                            self.quote(&state)
                        ),
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
                    self.add_group(&group, span)?;
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
                    format!("Invalid section entry: {}. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters", self.quote(line)),
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
                            format!("Expected group name, got: {}", self.quote(line)),
                            "a [group:children] section lists one group name per line",
                        ));
                    };
                    if self.inv.groups.contains_key(child) {
                        self.add_child(&g, child)?;
                    } else if let Some(p) = pending.get_mut(child) {
                        self.charge(OVERHEAD + g.len())?;
                        p.parents.push(g);
                    } else {
                        self.charge(OVERHEAD + child.len() + g.len())?;
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
            let name = crate::secrets::quote_text(&p.name);
            let hint = if crate::secrets::mentions_secret(&p.name) {
                "declare the group with a section of its own (it may be empty)".to_string()
            } else {
                format!(
                    "declare the group with a [{}] section (it may be empty)",
                    crate::diag::shorten(&p.name, 80)
                )
            };
            return Err(if p.vars {
                self.err(
                    p.col,
                    format!("Section [...:vars] not valid for undefined group {name}."),
                    &hint,
                )
            } else {
                let parent = p.parents.last().map(String::as_str).unwrap_or("");
                self.err(
                    p.col,
                    format!(
                        "Section [{}:children] includes undefined group {name}.",
                        crate::diag::shorten(parent, 80)
                    ),
                    &hint,
                )
            });
        }
        Ok(())
    }

    /// `InventoryData.reconcile_inventory`: roots hang under `all`; `ungrouped` holds exactly the
    /// hosts of no other group. Linear: each group's ancestry is walked once.
    fn reconcile(&mut self) -> R<()> {
        let index_of = |inv: &Inventory, n: &str| inv.groups.get_index_of(n);
        let all = index_of(&self.inv, "all");
        let ungrouped = index_of(&self.inv, "ungrouped");
        // Groups above `all` (only if someone made `all` a child): never hung under it.
        let above_all = self.ancestors_of(all);
        let roots: Vec<String> = self
            .inv
            .groups
            .iter()
            .enumerate()
            .filter(|(i, (n, g))| *n != "all" && g.parents.is_empty() && !above_all.contains(i))
            .map(|(_, (n, _))| n.clone())
            .collect();
        for n in roots {
            self.add_child("all", &n)?;
        }
        // A host of `all`/`ungrouped` only is ungrouped, unless those two have other ancestors.
        let other_above = |g: Option<usize>| {
            self.ancestors_of(g)
                .iter()
                .any(|&a| Some(a) != all && Some(a) != ungrouped)
        };
        let (above_ungrouped, above_all) = (other_above(ungrouped), other_above(all));
        let mut leave_ungrouped: HashSet<String> = HashSet::new();
        let mut join_ungrouped: Vec<String> = Vec::new();
        for (name, host) in &self.inv.hosts {
            let other = host.groups.iter().any(|g| match g.as_str() {
                "all" => above_all,
                "ungrouped" => above_ungrouped,
                _ => true,
            });
            if host.groups.iter().any(|g| g == "ungrouped") {
                if other {
                    leave_ungrouped.insert(name.clone());
                }
            } else if !other {
                join_ungrouped.push(name.clone());
            }
        }
        if !leave_ungrouped.is_empty() {
            if let Some(u) = self.inv.groups.get_mut("ungrouped") {
                u.hosts.retain(|x| !leave_ungrouped.contains(x));
            }
            for h in &leave_ungrouped {
                if let Some(host) = self.inv.hosts.get_mut(h) {
                    host.groups.retain(|g| g != "ungrouped");
                }
            }
        }
        for h in join_ungrouped {
            if let Some(u) = self.inv.groups.get_mut("ungrouped") {
                u.hosts.push(h.clone());
            }
            if let Some(host) = self.inv.hosts.get_mut(&h) {
                host.groups.push("ungrouped".into());
            }
        }
        Ok(())
    }

    /// Every group above `g` (not `g` itself), by index.
    fn ancestors_of(&self, g: Option<usize>) -> HashSet<usize> {
        let mut seen = HashSet::new();
        let mut stack: Vec<usize> = g.into_iter().collect();
        while let Some(i) = stack.pop() {
            let Some((_, grp)) = self.inv.groups.get_index(i) else {
                continue;
            };
            for p in &grp.parents {
                if let Some(pi) = self.inv.groups.get_index_of(p) {
                    if seen.insert(pi) {
                        stack.push(pi);
                    }
                }
            }
        }
        seen
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
        text: "",
        budget: Budget::default(),
        entries: 0,
        // `all` -> `ungrouped`, as Ansible starts.
        links: vec![(0, 1)],
        link_at: vec![(0, 1)],
        linked: HashSet::from([(0, 1)]),
        member: HashSet::new(),
    };
    let parsed = r.parse(text);
    // A loop of groups is found where Ansible stops: at the link that closed it, which comes
    // before any later error.
    if let Some(d) = r.first_loop() {
        return Err(vec![d]);
    }
    parsed.map_err(|d| vec![d])?;
    r.reconcile().map_err(|d| vec![d])?;
    if let Err(h) = r.inv.build_index(&mut r.budget) {
        let host = r.inv.hosts.get_index(h).map(|(_, h)| h);
        let span = host.and_then(|h| h.span.clone());
        let d = Diagnostic::error(
            Code::TooLarge,
            format!(
                "the inventory is too large: its hosts belong to too many groups (directly and through their parents) for {} MiB of memory",
                limits::MAX_MEMORY >> 20
            ),
        )
        .at(span.as_ref())
        .hint("fewer, flatter groups; see the README's Robustness section for metis-deploy's limits");
        return Err(vec![d]);
    }
    let mut inv = r.inv;
    inv.sources.push(Source {
        name: Arc::clone(name),
        text: text.to_string(),
    });
    Ok(inv)
}
