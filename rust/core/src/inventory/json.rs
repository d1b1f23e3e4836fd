//! JSON inventories: what `ansible-inventory --list` prints, or Ansible's resolved `groups` and
//! `hostvars` handed over by a plugin.
//!
//! The text is read as Python's `json.loads` reads it (exact integers, `Infinity`, `-Infinity`
//! and `NaN`, a repeated key keeping its first place and its last value), by a reader of its
//! own: iterative (nesting bounded by [`MAX_NESTING`]), linear, located errors, and no
//! in-band markers (user text is only ever text).

use super::ini::empty_inventory;
use super::limits::{self, Budget, MAX_INT_DIGITS, MAX_NESTING};
use super::{Group, Host, Inventory, Occurrence, Source, Var};
use crate::diag::{Code, Diagnostic, Span};
use crate::value::Value;
use indexmap::IndexMap;
use num_bigint::BigInt;
use num_traits::Num;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub use super::list::value_to_json;

fn bad(name: &Arc<str>, msg: String, at: Option<(usize, usize)>) -> Diagnostic {
    let d = Diagnostic::error(Code::UnreadableInput, msg)
        .hint("give the JSON printed by `ansible-inventory -i FILE --list`");
    match at {
        Some((l, c)) => d.at(Some(&Span::new(
            name,
            u32::try_from(l).unwrap_or(u32::MAX),
            u32::try_from(c).unwrap_or(u32::MAX),
        ))),
        None => d,
    }
}

/// A JSON text as Python's `json.loads` reads it, as a [`Value`] (objects become dicts with
/// string keys). `Err` says what is wrong and where (line, column).
pub fn parse_value(text: &str) -> Result<Value, (String, (usize, usize))> {
    let mut budget = Budget::default();
    Reader::new(text, &mut budget).document()
}

struct Reader<'a, 'b> {
    src: &'a str,
    pos: usize,
    budget: &'b mut Budget,
}

/// A container being read.
enum Open {
    List(Vec<Value>),
    /// Pairs so far, where each key is, and the key whose value is being read.
    Dict(Vec<(Value, Value)>, HashMap<String, usize>, Option<String>),
}

type JResult<T> = Result<T, (String, (usize, usize))>;

impl<'a, 'b> Reader<'a, 'b> {
    fn new(src: &'a str, budget: &'b mut Budget) -> Self {
        Reader {
            src,
            pos: 0,
            budget,
        }
    }

    /// Line and column (1-based, in characters) of byte `at`.
    fn place(&self, at: usize) -> (usize, usize) {
        let before = &self.src[..at.min(self.src.len())];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[start..].chars().count() + 1)
    }

    fn fail<T>(&self, msg: impl Into<String>) -> JResult<T> {
        Err((msg.into(), self.place(self.pos)))
    }

    fn charge(&mut self, v: &Value) -> JResult<()> {
        // A value's node counts twice: lists grow by doubling.
        let cost = match v {
            Value::Str(s) => s.len(),
            Value::Int(i) => (i.bits() / 8) as usize + 8,
            _ => 0,
        } + 2 * std::mem::size_of::<Value>();
        if self.budget.charge(cost).is_err() {
            return self.fail(format!(
                "the inventory is too large: its values take more than {} MiB (metis-deploy's limit)",
                limits::MAX_MEMORY >> 20
            ));
        }
        Ok(())
    }

    fn blanks(&mut self) {
        let rest = &self.src[self.pos..];
        let n = rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len();
        self.pos += n;
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.src[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    /// The whole text: one value, then only blanks.
    fn document(&mut self) -> JResult<Value> {
        let v = self.value()?;
        self.blanks();
        if self.pos < self.src.len() {
            return self.fail("extra data after the JSON value");
        }
        Ok(v)
    }

    /// One value, containers read with a stack of open ones (no recursion).
    fn value(&mut self) -> JResult<Value> {
        let mut stack: Vec<Open> = Vec::new();
        loop {
            // A value starts here (or a container closes empty).
            self.blanks();
            if matches!(self.peek(), Some(b'[' | b'{')) && stack.len() >= MAX_NESTING {
                return self.fail(format!(
                    "nested more than {MAX_NESTING} levels deep (metis-deploy's limit)"
                ));
            }
            let mut done = match self.peek() {
                Some(b'[') => {
                    self.pos += 1;
                    self.blanks();
                    if self.eat("]") {
                        Value::List(Vec::new())
                    } else {
                        stack.push(Open::List(Vec::new()));
                        continue;
                    }
                }
                Some(b'{') => {
                    self.pos += 1;
                    self.blanks();
                    if self.eat("}") {
                        Value::Dict(Vec::new())
                    } else {
                        let key = self.key()?;
                        stack.push(Open::Dict(Vec::new(), HashMap::new(), Some(key)));
                        continue;
                    }
                }
                _ => self.scalar()?,
            };
            // A value is complete: put it into its container, and close what ends here.
            loop {
                self.charge(&done)?;
                let Some(open) = stack.last_mut() else {
                    return Ok(done);
                };
                match open {
                    Open::List(items) => items.push(done),
                    Open::Dict(pairs, index, key) => {
                        let key = key.take().unwrap_or_default();
                        match index.get(&key) {
                            // Python's dict: the first place, the last value.
                            Some(&i) => pairs[i].1 = done,
                            None => {
                                index.insert(key.clone(), pairs.len());
                                pairs.push((Value::Str(key), done));
                            }
                        }
                    }
                }
                self.blanks();
                let (close, is_dict) = match open {
                    Open::List(_) => (b']', false),
                    Open::Dict(..) => (b'}', true),
                };
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if let Open::Dict(_, _, key) = open {
                            self.blanks();
                            *key = Some(self.key()?);
                        }
                        break;
                    }
                    Some(c) if c == close => {
                        self.pos += 1;
                        done = match stack.pop() {
                            Some(Open::List(items)) => Value::List(items),
                            Some(Open::Dict(pairs, ..)) => Value::Dict(pairs),
                            None => return self.fail("unbalanced brackets"),
                        };
                    }
                    _ if is_dict => return self.fail("expecting ',' or '}'"),
                    _ => return self.fail("expecting ',' or ']'"),
                }
            }
        }
    }

    /// `"key" :` of an object member.
    fn key(&mut self) -> JResult<String> {
        if self.peek() != Some(b'"') {
            return self.fail("expecting a property name enclosed in double quotes");
        }
        let k = self.string()?;
        self.blanks();
        if !self.eat(":") {
            return self.fail("expecting ':' delimiter");
        }
        Ok(k)
    }

    fn scalar(&mut self) -> JResult<Value> {
        match self.peek() {
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => {
                if self.eat("-Infinity") {
                    return Ok(Value::Float(f64::NEG_INFINITY));
                }
                self.number()
            }
            _ if self.eat("true") => Ok(Value::Bool(true)),
            _ if self.eat("false") => Ok(Value::Bool(false)),
            _ if self.eat("null") => Ok(Value::None),
            // Python's json reads (and ansible-inventory prints) these.
            _ if self.eat("Infinity") => Ok(Value::Float(f64::INFINITY)),
            _ if self.eat("NaN") => Ok(Value::Float(f64::NAN)),
            None => self.fail("expecting a value, found the end of the text"),
            _ => self.fail("expecting a value"),
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`: an exact int without fraction or
    /// exponent (at most [`MAX_INT_DIGITS`] digits, as Python), else a float.
    fn number(&mut self) -> JResult<Value> {
        let start = self.pos;
        let b = self.src.as_bytes();
        let digits = |mut i: usize| {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            i
        };
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let int_start = i;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(i),
            _ => return self.fail("expecting a value"),
        }
        let int_end = i;
        let mut float = false;
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i = digits(i + 1);
            float = true;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if b.get(j).is_some_and(u8::is_ascii_digit) {
                i = digits(j);
                float = true;
            }
        }
        self.pos = i;
        let text = &self.src[start..i];
        if float {
            return match text.parse::<f64>() {
                Ok(f) => Ok(Value::Float(f)),
                Err(_) => {
                    self.pos = start;
                    self.fail("invalid number")
                }
            };
        }
        if int_end - int_start > MAX_INT_DIGITS {
            self.pos = start;
            return self.fail(format!(
                "an integer of {} digits: Python reads at most {MAX_INT_DIGITS}",
                int_end - int_start
            ));
        }
        match BigInt::from_str_radix(text, 10) {
            Ok(n) => Ok(Value::Int(n)),
            Err(_) => {
                self.pos = start;
                self.fail("invalid number")
            }
        }
    }

    /// A string literal (at its opening quote). Control characters must be escaped; a lone
    /// surrogate (which Python keeps, and Rust text cannot hold) becomes U+FFFD.
    fn string(&mut self) -> JResult<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = &self.src[self.pos..];
            let plain = rest
                .find(|c: char| c == '"' || c == '\\' || c < ' ')
                .unwrap_or(rest.len());
            out.push_str(&rest[..plain]);
            self.pos += plain;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\x08',
                        Some(b'f') => '\x0c',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4()?;
                            let c = if (0xd800..0xdc00).contains(&hi)
                                && self.src[self.pos..].starts_with("\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xdc00..0xe000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
                                } else {
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(c.unwrap_or('\u{fffd}'));
                            continue;
                        }
                        _ => return self.fail("invalid \\escape"),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => return self.fail("invalid control character in a string"),
                None => return self.fail("unterminated string"),
            }
        }
    }

    fn hex4(&mut self) -> JResult<u32> {
        let digits = self.src.get(self.pos..self.pos + 4).unwrap_or("");
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return self.fail("invalid \\uXXXX escape");
        }
        self.pos += 4;
        Ok(u32::from_str_radix(digits, 16).unwrap_or(0xfffd))
    }
}

/// The members of a JSON object (as read into a dict), by key.
fn members(v: Value) -> Option<Vec<(String, Value)>> {
    match v {
        Value::Dict(pairs) => Some(
            pairs
                .into_iter()
                .map(|(k, v)| match k {
                    Value::Str(k) => (k, v),
                    other => (other.to_python_str(), v),
                })
                .collect(),
        ),
        _ => None,
    }
}

/// Builds an inventory: hosts, groups, links and their indices, against the limits.
struct Builder {
    inv: Inventory,
    member: HashSet<(usize, usize)>,
    linked: HashSet<(usize, usize)>,
    links: Vec<(usize, usize)>,
    entries: usize,
}

impl Builder {
    fn new() -> Self {
        Builder {
            inv: empty_inventory(),
            member: HashSet::new(),
            linked: HashSet::from([(0, 1)]),
            links: vec![(0, 1)],
            entries: 0,
        }
    }

    fn group(&mut self, name: &str) -> usize {
        let entry = self.inv.groups.entry(name.to_string());
        let i = entry.index();
        entry.or_insert_with(|| Group {
            name: name.to_string(),
            ..Group::default()
        });
        i
    }

    fn host(&mut self, name: &str) -> Result<usize, String> {
        if !self.inv.hosts.contains_key(name) && self.inv.hosts.len() >= limits::MAX_HOSTS {
            return Err(format!(
                "the inventory has more than {} hosts (metis-deploy's limit)",
                limits::MAX_HOSTS
            ));
        }
        let entry = self.inv.hosts.entry(name.to_string());
        let i = entry.index();
        entry.or_insert_with(|| Host {
            name: name.to_string(),
            ..Host::default()
        });
        Ok(i)
    }

    fn add_host(&mut self, host: &str, group: &str) -> Result<(), String> {
        self.entries += 1;
        if self.entries > limits::MAX_HOST_ENTRIES {
            return Err(format!(
                "the inventory lists more than {} host entries (metis-deploy's limit)",
                limits::MAX_HOST_ENTRIES
            ));
        }
        let g = self.group(group);
        let h = self.host(host)?;
        let first = self.member.insert((h, g));
        let entry = &mut self.inv.hosts[h];
        entry.occurrences.push(Occurrence {
            group: group.to_string(),
            span: None,
        });
        if first {
            entry.groups.push(group.to_string());
            self.inv.groups[g].hosts.push(host.to_string());
        }
        Ok(())
    }

    fn link(&mut self, parent: &str, child: &str) {
        let (p, c) = (self.group(parent), self.group(child));
        if p == c || !self.linked.insert((p, c)) {
            return;
        }
        self.links.push((p, c));
        self.inv.groups[p].children.push(child.to_string());
        self.inv.groups[c].parents.push(parent.to_string());
    }
}

/// Reads the JSON of `ansible-inventory --list`. `_meta.hostvars` become host-level variables
/// (already merged by Ansible); groups keep their hosts and children.
pub fn parse_list_json(name: &Arc<str>, text: &str) -> Result<Inventory, Diagnostic> {
    let mut budget = Budget::default();
    let root = Reader::new(text, &mut budget)
        .document()
        .map_err(|(msg, at)| bad(name, format!("invalid JSON: {msg}"), Some(at)))?;
    let Some(root) = members(root) else {
        return Err(bad(
            name,
            "the inventory JSON is not an object".into(),
            None,
        ));
    };
    let shown = crate::secrets::quote_text;
    let fail = |msg: String| bad(name, msg, None);
    let mut b = Builder::new();
    let mut meta = None;
    let mut bodies = Vec::new();
    // Declare every group first, so children can refer to groups listed later.
    for (g, body) in root {
        if g == "_meta" {
            meta = Some(body);
            continue;
        }
        let Some(body) = members(body) else {
            return Err(fail(format!("group {} is not an object", shown(&g))));
        };
        b.group(&g);
        bodies.push((g, body));
    }
    for (g, body) in bodies {
        for (key, value) in body {
            match key.as_str() {
                "hosts" | "children" => {
                    let Value::List(items) = value else {
                        return Err(fail(format!("{}.{key} is not a list", shown(&g))));
                    };
                    for item in items {
                        let Value::Str(item) = item else {
                            return Err(fail(format!("{}.{key} holds a non-string", shown(&g))));
                        };
                        if key == "hosts" {
                            b.add_host(&item, &g).map_err(fail)?;
                        } else {
                            b.link(&g, &item);
                        }
                    }
                }
                "vars" => {
                    if let Some(vars) = members(value) {
                        let gi = b.group(&g);
                        for (k, v) in vars {
                            b.inv.groups[gi].vars.insert(k, Var::new(v));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(cycle) = super::graph::find_cycle(b.inv.groups.len(), &b.links) {
        let names: Vec<String> = cycle
            .iter()
            .chain(cycle.first())
            .take(12)
            .map(|&i| shown(b.inv.groups.get_index(i).map_or("", |(n, _)| n)))
            .collect();
        let more = if cycle.len() > 11 { " -> ..." } else { "" };
        return Err(fail(format!(
            "the groups form a loop (parent -> child): {}{more}",
            names.join(" -> ")
        ))
        .hint("a group cannot contain itself, directly or through its children; fix the `children` lists"));
    }
    if let Some(meta) = meta.and_then(members) {
        for (k, hv) in meta {
            if k != "hostvars" {
                continue;
            }
            let Some(hv) = members(hv) else {
                return Err(fail("'_meta.hostvars' is not an object".into()));
            };
            for (h, vars) in hv {
                let Some(vars) = members(vars) else {
                    return Err(fail(format!("hostvars of {} are not an object", shown(&h))));
                };
                let hi = b.host(&h).map_err(fail)?;
                let host = &mut b.inv.hosts[hi];
                for (k, v) in vars {
                    host.vars.insert(k, Var::new(v));
                }
            }
        }
    }
    let mut inv = b.inv;
    if let Err(h) = inv.build_index(&mut budget) {
        let host = inv.hosts.get_index(h).map_or("", |(n, _)| n.as_str());
        return Err(fail(format!(
            "the inventory is too large: its hosts (from {}) belong to too many groups for {} MiB of memory",
            shown(host),
            limits::MAX_MEMORY >> 20
        )));
    }
    inv.sources.push(Source {
        name: Arc::clone(name),
        text: text.to_string(),
    });
    Ok(inv)
}

/// An inventory from Ansible's resolved `groups` (each group's full host list, as given) and
/// `hostvars` (each host's merged variables).
pub fn from_resolved(
    groups: &IndexMap<String, Vec<String>>,
    hostvars: &IndexMap<String, IndexMap<String, Value>>,
) -> Inventory {
    let mut inv = empty_inventory();
    let mut member: HashSet<(usize, usize)> = HashSet::new();
    for (g, hosts) in groups {
        let entry = inv.groups.entry(g.clone());
        let gi = entry.index();
        let grp = entry.or_insert_with(|| Group {
            name: g.clone(),
            ..Group::default()
        });
        grp.hosts = hosts.clone();
        for h in hosts {
            let entry = inv.hosts.entry(h.clone());
            let hi = entry.index();
            let host = entry.or_insert_with(|| Host {
                name: h.clone(),
                ..Host::default()
            });
            if member.insert((hi, gi)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Value, String> {
        parse_value(text).map_err(|(m, _)| m)
    }

    #[test]
    fn reads_what_python_reads() {
        assert_eq!(
            read(r#"[Infinity, -Infinity, 1e999, -0.0, 12, "a\u00e9\ud83d\ude80", null]"#),
            Ok(Value::List(vec![
                Value::Float(f64::INFINITY),
                Value::Float(f64::NEG_INFINITY),
                Value::Float(f64::INFINITY),
                Value::Float(-0.0),
                Value::Int(12.into()),
                Value::Str("aé🚀".into()),
                Value::None,
            ]))
        );
        assert!(matches!(read("NaN"), Ok(Value::Float(f)) if f.is_nan()));
        assert_eq!(
            read(r#"{"a": 1, "b": 2, "a": 3}"#),
            Ok(Value::Dict(vec![
                (Value::Str("a".into()), Value::Int(3.into())),
                (Value::Str("b".into()), Value::Int(2.into())),
            ]))
        );
        let big = format!("-{}", "9".repeat(4300));
        assert_eq!(read(&big).map(|v| v.to_python_str().len()), Ok(4301));
        for refused in [
            "",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "[1] 2",
            "\"a\u{1}\"",
            "\"\\x\"",
            "tru",
        ] {
            assert!(read(refused).is_err(), "{refused:?}");
        }
        assert!(read(&"1".repeat(4301)).is_err());
        // User text is only text: no marker changes its type.
        assert_eq!(
            read(r#""\u0001bigint:123""#),
            Ok(Value::Str("\u{1}bigint:123".into()))
        );
    }

    #[test]
    fn deep_and_big_input_is_bounded() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let (msg, (line, col)) = parse_value(&deep).expect_err("too deep");
        assert!(msg.contains("nested more than"), "{msg}");
        assert_eq!((line, col), (1, MAX_NESTING + 1));
        assert!(parse_value(&format!(
            "{}{}",
            "[".repeat(MAX_NESTING),
            "]".repeat(MAX_NESTING)
        ))
        .is_ok());
        // A long integer is read in linear time.
        let started = std::time::Instant::now();
        let many = format!("[{}]", vec!["9".repeat(4300); 300].join(","));
        assert!(parse_value(&many).is_ok());
        assert!(started.elapsed().as_secs() < 5);
    }
}
