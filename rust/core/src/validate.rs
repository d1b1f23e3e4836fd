//! Validation of a whole inventory: everything [`build`](crate::model::build::build) finds about
//! the organisation, plus checks over every variable as written (secrets, users, values Ansible
//! silently converted).

use crate::diag::{Code, Diagnostic};
use crate::inventory::{Host, Inventory, Var};
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

/// Checks over every host name and every variable as written in the inventory, wherever it is
/// set.
pub fn inventory_checks(inv: &Inventory) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for host in inv.hosts.values() {
        check_host_name(host, &mut out);
    }
    let group_vars = inv.groups.values().flat_map(|g| g.vars.iter());
    let host_vars = inv.hosts.values().flat_map(|h| h.vars.iter());
    for (name, var) in group_vars.chain(host_vars) {
        check_user(name, var, &mut out);
        check_mistyped(name, var, &mut out);
        check_secret(name, var, &mut out);
    }
    out
}

/// A host name is a directory name when rendering (`render --out DIR/<host>/...`) and a file
/// name on the controller: `.`, `..`, a `/` or a control character cannot be one.
fn check_host_name(host: &Host, out: &mut Vec<Diagnostic>) {
    let name = &host.name;
    let problem = if name == "." || name == ".." {
        "is a relative directory name"
    } else if name.contains('/') {
        "contains '/'"
    } else if name.chars().any(char::is_control) {
        "contains a control character"
    } else {
        return;
    };
    out.push(
        Diagnostic::error(
            Code::InvalidAddress,
            format!("host name {} {problem}", crate::secrets::quote_text(name)),
        )
        .at(host.span.as_ref())
        .hint("name the host by its IPv4 address, or give it a plain name and set `ansible_host=<IPv4>`"),
    );
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
    if is_secret_name(name) {
        return check_secret_type(name, var, raw, out);
    }
    let Value::Int(i) = &var.value else { return };
    let hex = raw.len() > 2 && (raw.starts_with("0x") || raw.starts_with("0X"));
    if hex && !name.ends_with("_port") {
        let shown = crate::diag::shorten(raw, 60);
        out.push(
            Diagnostic::error(
                Code::MistypedValue,
                format!(
                    "`{name}` = {shown} was read as the integer {}: Ansible parses unquoted 0x.. values as numbers",
                    crate::diag::shorten(&crate::value::int_text(i), 60)
                ),
            )
            .at(var.span.as_ref())
            .hint(format!("quote it: {name} = \"{shown}\"")),
        );
    }
}

/// A secret that is not text is written into config files as Python prints it ("True",
/// "None", "1.5"), or (an int written another way) is not the password as written. Neither the
/// value as written nor what it became is ever shown.
fn check_secret_type(name: &str, var: &Var, raw: &str, out: &mut Vec<Diagnostic>) {
    let hint = || {
        format!(
            "make it text: `{name} = \"<value>\"` in a vars section, `{name}='\"<value>\"'` on a host line (the host line's own quotes are removed before the value is read); better, keep it in Ansible Vault"
        )
    };
    let d = match &var.value {
        Value::Int(i) => {
            let lossy = crate::value::int_text(i) != raw && !raw.is_empty();
            if lossy {
                Diagnostic::error(
                    Code::MistypedValue,
                    format!("`{name}` was read as an integer, which is not the password as written"),
                )
            } else {
                Diagnostic::warning(
                    Code::MistypedValue,
                    format!("`{name}` is a number: Ansible reads it as an integer, not text"),
                )
            }
        }
        Value::Bool(_) | Value::Float(_) | Value::None => Diagnostic::warning(
            Code::MistypedValue,
            format!(
                "`{name}` is not text: Ansible reads it as a {}, and config files get what Python prints for it",
                var.value.type_name()
            ),
        ),
        _ => return,
    };
    out.push(d.at(var.span.as_ref()).hint(hint()));
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
        Value::Int(i) => crate::value::int_text(i),
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
