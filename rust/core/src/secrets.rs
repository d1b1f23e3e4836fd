//! Which variables hold secrets, and keeping their values out of anything printed.

/// Variables that hold passwords, tokens or keys.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("password")
        || n.ends_with("_pass")
        || n.contains("token")
        || n.contains("secret")
        || n.ends_with("private_key")
}

/// What a masked value is shown as.
pub const MASK: &str = "********";

/// An inventory source line fit for printing: the value of every `secret_name=value` on it
/// (host line `k=v` pairs, or a vars-section `key = value` line) replaced by [`MASK`].
pub fn mask_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(eq) = rest.find('=') {
        let (before, after) = rest.split_at(eq);
        let key = before
            .trim_end()
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("");
        out.push_str(before);
        out.push('=');
        let after = &after[1..];
        if !is_secret_name(key) {
            rest = after;
            continue;
        }
        // Keep the spacing, hide the value: to the end of the line for a vars-section line
        // (`key = value`), else to the end of the (possibly quoted) token.
        let spaces = after.len() - after.trim_start().len();
        out.push_str(&after[..spaces]);
        let value = &after[spaces..];
        let vars_section_line = before.trim() == key;
        let end = if vars_section_line {
            value.len()
        } else {
            token_end(value)
        };
        out.push_str(MASK);
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// Where a shlex-style token ends: at unquoted whitespace.
fn token_end(s: &str) -> usize {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => return i,
            _ => {}
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secret_values_only() {
        assert_eq!(
            mask_line("admin_password = S3cret value"),
            "admin_password = ********"
        );
        assert_eq!(
            mask_line(r#"10.0.0.1 ansible_ssh_pass="12 34" ansible_user=bob ansible_sudo_pass=x"#),
            r#"10.0.0.1 ansible_ssh_pass=******** ansible_user=bob ansible_sudo_pass=********"#
        );
        assert_eq!(mask_line("admin_web_port = 9090"), "admin_web_port = 9090");
        assert_eq!(
            mask_line("pinata_token=abc # note"),
            "pinata_token=********"
        );
        assert_eq!(mask_line("[all:vars]"), "[all:vars]");
        assert_eq!(mask_line("x = a=b"), "x = a=b");
        assert_eq!(
            mask_line("mysql_root_password ="),
            "mysql_root_password =********"
        );
        assert!(!mask_line("h k=v admin_password='p w'").contains("p w"));
    }
}
