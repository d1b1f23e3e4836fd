//! Validation of a whole inventory: everything [`build`](crate::model::build::build) finds about
//! the organisation, plus checks over every variable as written (secrets, users, values Ansible
//! silently converted).

use crate::diag::{Code, Diagnostic};
use crate::inventory::{Inventory, Var};
use crate::model::vars::is_template;
use crate::secrets::is_secret_name;
use crate::value::Value;

/// Every problem of the inventory, errors and warnings, in reading order.
pub fn validate(inv: &Inventory) -> Vec<Diagnostic> {
    crate::model::build::build(inv).1
}

/// Values anyone would try first, upstream's example defaults and unfilled placeholders.
const WEAK_SECRETS: &[&str] = &[
    "",
    "123456",
    "12345678",
    "123456789",
    "password",
    "passw0rd",
    "admin",
    "root",
    "changeme",
    "secret",
    "datum_root",
    "admin_123456",
    PLACEHOLDER,
];

/// Upstream's "to be filled in" placeholder.
const PLACEHOLDER: &str = "待填写";

fn is_weak(s: &str) -> bool {
    WEAK_SECRETS
        .iter()
        .any(|w| w.eq_ignore_ascii_case(s.trim()))
}

/// Checks over every variable as written in the inventory, wherever it is set.
pub fn inventory_checks(inv: &Inventory) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let group_vars = inv.groups.values().flat_map(|g| g.vars.iter());
    let host_vars = inv.hosts.values().flat_map(|h| h.vars.iter());
    for (name, var) in group_vars.chain(host_vars) {
        check_user(name, var, &mut out);
        check_mistyped(name, var, &mut out);
        check_secret(name, var, &mut out);
    }
    out
}

fn check_user(name: &str, var: &Var, out: &mut Vec<Diagnostic>) {
    if matches!(name, "ansible_ssh_user" | "ansible_user" | "remote_user")
        && var.value.as_str() == Some("root")
    {
        out.push(
            Diagnostic::error(Code::RootUser, format!("`{name}` is root"))
                .at(var.span.as_ref())
                .hint("connect as a normal user that may use sudo; services run as the unprivileged service user"),
        );
    }
}

fn check_mistyped(name: &str, var: &Var, out: &mut Vec<Diagnostic>) {
    let raw = var.raw.as_deref().unwrap_or("").trim();
    let Value::Int(i) = &var.value else { return };
    let hex = raw.len() > 2 && (raw.starts_with("0x") || raw.starts_with("0X"));
    if hex && !name.ends_with("_port") && !is_secret_name(name) {
        out.push(
            Diagnostic::error(
                Code::MistypedValue,
                format!("`{name}` = {raw} was read as the integer {i}: Ansible parses unquoted 0x.. values as numbers"),
            )
            .at(var.span.as_ref())
            .hint(format!("quote it: {name} = \"{raw}\"")),
        );
    } else if is_secret_name(name) {
        // Neither the value as written nor what it became is ever shown.
        let lossy = i.to_string() != raw && !raw.is_empty();
        let d = if lossy {
            Diagnostic::error(
                Code::MistypedValue,
                format!("`{name}` was read as an integer, which is not the password as written"),
            )
        } else {
            Diagnostic::warning(
                Code::MistypedValue,
                format!("`{name}` is a number: Ansible reads it as an integer, not text"),
            )
        };
        let hint = format!(
            "make it text: `{name} = \"<value>\"` in a vars section, `{name}='\"<value>\"'` on a host line (the host line's own quotes are removed before the value is read); better, keep it in Ansible Vault"
        );
        out.push(d.at(var.span.as_ref()).hint(hint));
    }
}

fn check_secret(name: &str, var: &Var, out: &mut Vec<Diagnostic>) {
    // A template or a vaulted value (or one already evaluated or decrypted from them, as
    // Ansible's resolved hostvars are) is not written in plaintext in the inventory.
    let written_protected = var.raw.as_deref().is_some_and(|r| {
        r.contains("{{") || r.contains("{%") || r.trim_start().starts_with("$ANSIBLE_VAULT")
    });
    if is_template(&var.value) || written_protected {
        return;
    }
    if !is_secret_name(name) {
        if var.value.as_str().is_some_and(|s| s.trim() == PLACEHOLDER) {
            out.push(
                Diagnostic::warning(
                    Code::MissingVariable,
                    format!("`{name}` is an unfilled placeholder ({PLACEHOLDER})"),
                )
                .at(var.span.as_ref())
                .hint("fill in the real value, or remove the line to use the default"),
            );
        }
        return;
    }
    let text = match &var.value {
        Value::Str(s) if s.starts_with("$ANSIBLE_VAULT") => return,
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        _ => return,
    };
    let d = if is_weak(&text) {
        let what = if text.trim() == PLACEHOLDER {
            "an unfilled placeholder (待填写)"
        } else {
            "a well-known weak value"
        };
        Diagnostic::warning(Code::WeakSecret, format!("`{name}` is {what}"))
            .hint("choose a strong value and keep it out of the inventory: Ansible Vault or `{{ lookup('ansible.builtin.env', 'NAME') }}`")
    } else {
        Diagnostic::warning(Code::PlaintextSecret, format!("`{name}` is written in plaintext in the inventory"))
            .hint("keep it in Ansible Vault (`ansible-vault encrypt_string`) or take it from the environment with `{{ lookup('ansible.builtin.env', 'NAME') }}`")
    };
    out.push(d.at(var.span.as_ref()));
}
