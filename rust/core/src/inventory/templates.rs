//! Jinja templates in inventory values, for use outside Ansible.
//!
//! Inside Ansible, a play hands metis-deploy the evaluated values. The standalone binary reads
//! the file itself: it evaluates the one template form that needs no Ansible,
//! `{{ lookup('env', 'NAME') }}` (also `ansible.builtin.env`, quotes of either kind), from its
//! own environment, and refuses any other template where it needs the value, rather than writing
//! template text into a config file.

use super::Inventory;
use crate::diag::{Code, Diagnostic};
use crate::model::vars::is_template;
use crate::secrets::is_secret_name;
use crate::value::Value;

/// What the caller needs the values for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Rendering config files: every value, secrets included.
    Everything,
    /// Topology only (health checks): secrets may stay unevaluated.
    AllButSecrets,
}

/// `NAME` when `text` is exactly `{{ lookup('env', 'NAME') }}` or the `ansible.builtin.env` form.
pub fn env_lookup_name(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let args = inner
        .strip_prefix("lookup")?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let (plugin, name) = args.split_once(',')?;
    if !matches!(unquote(plugin)?, "env" | "ansible.builtin.env") {
        return None;
    }
    let name = unquote(name)?;
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some(name)
}

/// Replaces every `lookup('env', ...)` value with the environment's value and reports what
/// cannot be evaluated outside Ansible. Connection variables (`ansible_*`) are Ansible's own
/// business and are left alone.
pub fn evaluate_outside_ansible(
    inv: &mut Inventory,
    env: &dyn Fn(&str) -> Option<String>,
    need: Need,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let group_vars = inv.groups.values_mut().flat_map(|g| g.vars.iter_mut());
    let host_vars = inv.hosts.values_mut().flat_map(|h| h.vars.iter_mut());
    for (name, var) in group_vars.chain(host_vars) {
        if name.starts_with("ansible_") || !is_template(&var.value) {
            continue;
        }
        let text = var.value.to_python_str();
        let secret = is_secret_name(name);
        let needed = need == Need::Everything || !secret;
        match env_lookup_name(&text) {
            Some(env_name) => match env(env_name) {
                Some(value) => var.value = Value::Str(value),
                None if needed => diags.push(
                    Diagnostic::error(
                        Code::Template,
                        format!("`{name}` reads environment variable {env_name}, which is not set"),
                    )
                    .at(var.span.as_ref())
                    .hint(format!("export {env_name}=... before running metis-deploy")),
                ),
                None => {}
            },
            None if needed => diags.push(
                Diagnostic::error(
                    Code::Template,
                    format!("`{name}` is a Jinja template, which only Ansible can evaluate"),
                )
                .at(var.span.as_ref())
                .hint("run this through the playbooks (the metis.node collection gets the evaluated values), or use `{{ lookup('ansible.builtin.env', 'NAME') }}`, which metis-deploy reads from its environment"),
            ),
            None => {}
        }
    }
    diags
}

/// The text inside matching single or double quotes.
fn unquote(s: &str) -> Option<&str> {
    let s = s.trim();
    let q = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    s.strip_prefix(q)?.strip_suffix(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lookup_forms() {
        assert_eq!(env_lookup_name("{{ lookup('env', 'A_1') }}"), Some("A_1"));
        assert_eq!(
            env_lookup_name("{{lookup(\"ansible.builtin.env\",\"PW\")}}"),
            Some("PW")
        );
        assert_eq!(env_lookup_name("  {{ lookup( 'env' , 'X' ) }} "), Some("X"));
        for not_env in [
            "{{ lookup('file', 'x') }}",
            "{{ vault_pw }}",
            "{{ lookup('env', 'X') | default('y') }}",
            "{{ lookup('env', '1X') }}",
            "{{ lookup('env', 'X Y') }}",
            "pre {{ lookup('env', 'X') }}",
            "{{ lookup('env') }}",
        ] {
            assert_eq!(env_lookup_name(not_env), None, "{not_env}");
        }
    }
}
