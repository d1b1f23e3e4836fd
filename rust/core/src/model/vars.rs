//! Typed reading of inventory variables: each reader returns the value or records a located
//! diagnostic saying what was expected, and falls back so that every problem gets reported.

use super::variables::Variable;
use crate::diag::{Code, Diagnostic, Span};
use crate::inventory::{Inventory, Var};
use crate::value::Value;
use std::net::Ipv4Addr;

/// Reads variables as the hosts of the organisation see them, collecting diagnostics.
pub struct Vars<'a> {
    pub inv: &'a Inventory,
    pub diags: Vec<Diagnostic>,
}

/// A value is a Jinja template when it contains `{{` or `{%`: Ansible fills it in at run time, so
/// it cannot be checked here (and is not a plaintext secret).
pub fn is_template(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.contains("{{") || s.contains("{%"))
}

impl<'a> Vars<'a> {
    pub fn new(inv: &'a Inventory) -> Self {
        Vars {
            inv,
            diags: Vec::new(),
        }
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Records `d` at the place `key` is set, as the hosts of `scope` see it (no place when unset).
    pub fn push_at(&mut self, scope: &[&str], key: &str, d: Diagnostic) {
        let span = self.lookup(scope, key).and_then(|v| v.span.as_ref());
        let d = d.at(span);
        self.diags.push(d);
    }

    /// A variable as the first of `hosts` that defines it sees it, else from `[all:vars]`.
    /// Settings belong to the hosts that consume them (hostvars), which is also how Ansible
    /// resolves them when a play templates a config on those hosts.
    pub fn lookup(&self, hosts: &[&str], key: &str) -> Option<&'a Var> {
        let inv: &'a Inventory = self.inv;
        // A variable set nowhere is not looked for on every host of a large organisation.
        if !inv.defines(key) {
            return None;
        }
        hosts
            .iter()
            .find_map(|h| inv.host_var(h, key))
            .or_else(|| inv.groups.get("all").and_then(|g| g.vars.get(key)))
    }

    fn invalid(&mut self, code: Code, key: &str, var: &Var, expected: &str, hint: String) {
        // A secret's value is never shown, only its type.
        let found = if crate::secrets::is_secret_name(key) {
            format!("a {}", var.value.type_name())
        } else {
            describe(&var.value)
        };
        self.push(
            Diagnostic::error(code, format!("`{key}` must be {expected}, found {found}"))
                .at(var.span.as_ref())
                .hint(hint),
        );
    }

    /// A port in `min..=65535`; a digit string is accepted as Ansible templates it the same.
    pub fn port_value(&mut self, key: &str, var: &Var, min: u16) -> Option<u16> {
        let n = match &var.value {
            Value::Int(_) => var.value.as_i64(),
            Value::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().ok()
            }
            _ => None,
        };
        match n {
            Some(n) if (i64::from(min)..=65535).contains(&n) => Some(n as u16),
            _ => {
                let expected = if min > 1 {
                    format!("an integer port in {min}..65535")
                } else {
                    "an integer port in 1..65535".to_string()
                };
                let hint = if min > 1 {
                    format!("the service refuses ports below {min}; pick one in {min}..65535")
                } else {
                    format!("write it as a plain number, e.g. `{key} = 8500`")
                };
                self.invalid(Code::InvalidPort, key, var, &expected, hint);
                None
            }
        }
    }

    /// A scalar port: the default when absent (or a template, which only Ansible can
    /// evaluate), `None` when invalid (reported).
    pub fn port(&mut self, hosts: &[&str], key: &str, default: u16, min: u16) -> Option<u16> {
        match self.lookup(hosts, key) {
            Some(v) if !is_template(&v.value) => self.port_value(key, v, min),
            _ => Some(default),
        }
    }

    /// A per-host list: one port per host of the group (`hosts`, in group order), looked up as
    /// the hosts of `scope` see it.
    pub fn port_list(
        &mut self,
        scope: &[&str],
        group: &str,
        hosts: &[&str],
        key: &str,
        min: u16,
    ) -> Vec<Option<u16>> {
        let Some(var) = self.lookup(scope, key) else {
            self.push(
                Diagnostic::error(
                    Code::MissingVariable,
                    format!("`{key}` is not set: group `{group}` needs one port per host"),
                )
                .at(self.group_span(group))
                .hint(format!(
                    "add `{key} = [...]` to [all:vars] with {} entr{}, in the order of [{group}]",
                    hosts.len(),
                    if hosts.len() == 1 { "y" } else { "ies" }
                )),
            );
            return Vec::new();
        };
        let Some(items) = var.value.as_seq() else {
            self.invalid(
                Code::InvalidValue,
                key,
                var,
                "a list with one port per host",
                format!("write it as a list, e.g. `{key} = [8500, 8501, 8502]`"),
            );
            return Vec::new();
        };
        if items.len() != hosts.len() {
            self.push(
                Diagnostic::error(
                    Code::ListLength,
                    format!(
                        "`{key}` has {} entr{} but group `{group}` has {} host{} ({})",
                        items.len(),
                        if items.len() == 1 { "y" } else { "ies" },
                        hosts.len(),
                        if hosts.len() == 1 { "" } else { "s" },
                        list_names(hosts)
                    ),
                )
                .at(var.span.as_ref())
                .hint(format!(
                    "give exactly one entry per host of [{group}]; entry i belongs to the i-th host listed there"
                )),
            );
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let item_var = Var {
                value: item.clone(),
                span: var.span.clone(),
                raw: None,
            };
            out.push(self.port_value(key, &item_var, min));
        }
        out
    }

    /// An IPv4 address, required.
    pub fn ipv4(&mut self, hosts: &[&str], key: &str, why: &str) -> Option<Ipv4Addr> {
        let Some(var) = self.lookup(hosts, key) else {
            self.push(
                Diagnostic::error(Code::MissingVariable, format!("`{key}` is not set ({why})"))
                    .hint(format!("add `{key} = <IPv4 address>` to [all:vars]")),
            );
            return None;
        };
        self.ipv4_value(key, var)
    }

    pub fn ipv4_value(&mut self, key: &str, var: &Var) -> Option<Ipv4Addr> {
        if is_template(&var.value) {
            return None;
        }
        match var.value.as_str().map(|s| s.trim().parse::<Ipv4Addr>()) {
            Some(Ok(ip)) if is_host_address(ip) => Some(ip),
            Some(Ok(ip)) => {
                self.invalid(
                    Code::InvalidAddress,
                    key,
                    var,
                    "the address of one host",
                    format!("{ip} is a wildcard, broadcast or multicast address; give the host's own IPv4 address"),
                );
                None
            }
            _ => {
                self.invalid(
                    Code::InvalidAddress,
                    key,
                    var,
                    "an IPv4 address",
                    "services bind to and advertise this address: write a dotted IPv4 address such as 10.0.0.5".into(),
                );
                None
            }
        }
    }

    /// True/False. Strings are refused: Jinja treats the string "False" as true.
    pub fn bool(&mut self, hosts: &[&str], key: &str, default: bool, code: Code) -> bool {
        match self.lookup(hosts, key) {
            None => default,
            Some(var) => match var.value {
                Value::Bool(b) => b,
                _ if is_template(&var.value) => default,
                _ => {
                    self.invalid(
                        code,
                        key,
                        var,
                        "True or False",
                        format!("write `{key} = True` or `{key} = False` (unquoted, capitalised)"),
                    );
                    default
                }
            },
        }
    }

    /// A scalar as text, the way a template prints it; `None` when absent. Lists and dicts are
    /// refused (reported): they would be written into config files as Python reprs.
    pub fn string(&mut self, hosts: &[&str], key: &str) -> Option<String> {
        let var = self.lookup(hosts, key)?;
        match &var.value {
            Value::List(_) | Value::Tuple(_) | Value::Set(_) | Value::Dict(_) => {
                self.invalid(
                    Code::InvalidValue,
                    key,
                    var,
                    "text",
                    format!("write a single value, e.g. `{key} = value`"),
                );
                None
            }
            v => Some(v.to_python_str()),
        }
    }

    pub fn string_or(&mut self, hosts: &[&str], key: &str, default: &str) -> String {
        self.string(hosts, key)
            .unwrap_or_else(|| default.to_string())
    }

    /// A text variable, or its default from the table ("" when it has none).
    pub fn text(&mut self, hosts: &[&str], var: &Variable) -> String {
        self.string_or(hosts, var.name, var.default_text())
    }

    /// A port variable: its default from the table when absent (or a template), `None` when
    /// invalid (reported) or absent without a default.
    pub fn port_of(&mut self, hosts: &[&str], var: &Variable, min: u16) -> Option<u16> {
        match self.lookup(hosts, var.name) {
            Some(v) if !is_template(&v.value) => self.port_value(var.name, v, min),
            _ => var.default_port(),
        }
    }

    /// A required, non-empty string.
    pub fn required_string(&mut self, hosts: &[&str], key: &str, why: &str) -> String {
        match self.string(hosts, key) {
            Some(s) if !s.trim().is_empty() => s,
            found => {
                let state = if found.is_some() {
                    "is empty"
                } else {
                    "is not set"
                };
                self.push_at(
                    hosts,
                    key,
                    Diagnostic::error(Code::MissingVariable, format!("`{key}` {state} ({why})"))
                        .hint(format!("set `{key} = ...` in [all:vars] (a secret: better from Ansible Vault or the environment)")),
                );
                String::new()
            }
        }
    }

    /// A non-negative integer; `None` when absent, a template, or invalid (reported). Digit
    /// strings count, as values from the environment or JSON are text.
    pub fn non_negative(&mut self, hosts: &[&str], key: &str, what: &str) -> Option<u64> {
        let var = self.lookup(hosts, key)?;
        if is_template(&var.value) {
            return None;
        }
        let n = match &var.value {
            Value::Int(_) => var.value.as_i64().and_then(|n| u64::try_from(n).ok()),
            Value::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().ok()
            }
            _ => None,
        };
        if n.is_none() {
            self.invalid(
                Code::InvalidValue,
                key,
                var,
                &format!("a non-negative integer ({what})"),
                format!("for example `{key} = 0`"),
            );
        }
        n
    }

    pub fn group_span(&self, group: &str) -> Option<&'a Span> {
        let inv: &'a Inventory = self.inv;
        inv.groups.get(group).and_then(|g| g.span.as_ref())
    }
}

/// "str '8500'", "int 3", "list of 2" — what a value is, for messages.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("str '{}'", crate::diag::shorten(s, 40)),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            format!(
                "{} of {} item{}",
                v.type_name(),
                items.len(),
                if items.len() == 1 { "" } else { "s" }
            )
        }
        Value::Dict(_) => "a dict".into(),
        other => format!("{} {}", other.type_name(), other.to_python_str()),
    }
}

/// "a, b, c" — or the first five and how many more, for large groups.
pub fn list_names(names: &[&str]) -> String {
    const SHOWN: usize = 5;
    if names.len() <= SHOWN {
        return names.join(", ");
    }
    format!(
        "{}, ... and {} more",
        names[..SHOWN].join(", "),
        names.len() - SHOWN
    )
}

/// An address one host can bind to and advertise: not 0.0.0.0, broadcast or multicast.
pub fn is_host_address(ip: Ipv4Addr) -> bool {
    !(ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast())
}
