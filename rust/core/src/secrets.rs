//! Which variables hold secrets, and keeping their values out of anything printed.

/// Variables that hold passwords, tokens or keys.
pub fn is_secret_name(name: &str) -> bool {
    let lower;
    let n = if name.bytes().any(|b| b.is_ascii_uppercase()) {
        lower = name.to_ascii_lowercase();
        lower.as_str()
    } else {
        name
    };
    n.contains("password")
        || n.contains("passwd")
        || n.ends_with("_pass")
        || n.contains("token")
        || n.contains("secret")
        || n.ends_with("private_key")
}

/// What a masked value is shown as.
pub const MASK: &str = "********";

/// What a message says instead of quoting text that may hold a secret.
pub const NOT_SHOWN: &str = "(not shown: the line sets a secret)";

/// Whether any word of `text` names a secret (`admin_password`, `x_token`...). A line that does
/// is never quoted in a message, whatever is wrong with it.
pub fn mentions_secret(text: &str) -> bool {
    words(text).any(|(_, w)| is_secret_name(w))
}

/// Text for a message: quoted, shortened, control characters replaced; not at all when it
/// mentions a secret.
pub fn quote_text(text: &str) -> String {
    if mentions_secret(text) {
        NOT_SHOWN.to_string()
    } else {
        format!("'{}'", crate::diag::shorten(text, 80))
    }
}

/// The words of `text` (runs of letters, digits and `_`) and where each ends (byte offset).
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> + '_ {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut rest = text;
    let mut offset = 0;
    std::iter::from_fn(move || {
        let start = rest.find(is_word)?;
        let len = rest[start..]
            .find(|c: char| !is_word(c))
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + len];
        let end = offset + start + len;
        rest = &rest[start + len..];
        offset = end;
        Some((end, word))
    })
}

/// An inventory source line fit for printing: every secret value on it replaced by [`MASK`],
/// whatever is wrong with the line.
///
/// - A vars-section line (`key = value`): the whole value when the key is a secret.
/// - A host line that reads cleanly (`host k=v k='v w'`): the value of each secret `k=v`.
/// - Any other line that names a secret (a missing quote, `admin_password= S3cret`, an
///   escaped space, a value that is not a literal): everything after the first secret name.
pub fn mask_line(line: &str) -> String {
    let Some(first_secret) = words(line)
        .find(|(_, w)| is_secret_name(w))
        .map(|(end, _)| end)
    else {
        return line.to_string();
    };
    if let Some(eq) = line.find('=') {
        let key = line[..eq].trim();
        let vars_line = !key.is_empty() && !key.contains(char::is_whitespace);
        if vars_line {
            if is_secret_name(key) {
                return mask_after(line, eq + 1);
            }
            // A value that itself holds `password=...` (a connection string).
            return mask_after(line, first_secret);
        }
        if let Some(masked) = mask_host_line(line) {
            return masked;
        }
    }
    mask_after(line, first_secret)
}

/// The line up to `at`, the separators (`=`, blanks) after it, then [`MASK`] for the rest.
fn mask_after(line: &str, at: usize) -> String {
    let rest = &line[at..];
    let sep = rest.len()
        - rest
            .trim_start_matches(|c: char| c == '=' || c.is_whitespace())
            .len();
    if sep == rest.len() {
        return line.to_string();
    }
    format!("{}{MASK}", &line[..at + sep])
}

/// A host line that splits cleanly into a host and `k=v` tokens: each secret value masked.
/// `None` when the line does not split so.
fn mask_host_line(line: &str) -> Option<String> {
    use crate::inventory::shlex;
    shlex::check(line).ok()?;
    let pairs = || shlex::tokens(line).flatten().skip(1);
    if pairs().next().is_none() || !pairs().all(|t| t.text.contains('=')) {
        return None;
    }
    // Char index -> byte offset, walking the line once alongside the tokens (in order).
    let mut chars = line.char_indices().enumerate();
    let mut byte = |i: usize| -> usize {
        chars
            .find(|&(n, _)| n == i)
            .map_or(line.len(), |(_, (b, _))| b)
    };
    let mut out = String::with_capacity(line.len());
    let mut copied = 0;
    for t in pairs() {
        let key = t.text.split_once('=').map_or("", |(k, _)| k);
        if !is_secret_name(key) {
            continue;
        }
        let start = byte(t.start);
        let end = if t.end > t.start { byte(t.end) } else { start };
        let eq = start + line[start..end].find('=')? + 1;
        out.push_str(&line[copied..eq]);
        out.push_str(MASK);
        copied = end;
    }
    out.push_str(&line[copied..]);
    Some(out)
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
        assert_eq!(mask_line("mysql_root_password ="), "mysql_root_password =");
        assert!(!mask_line("h k=v admin_password='p w'").contains("p w"));
    }

    #[test]
    fn masks_values_of_lines_that_do_not_parse() {
        for (line, secret) in [
            (r#"127.0.1.3 admin_password="S3cret"#, "S3cret"),
            ("127.0.1.3 admin_password= S3cret", "S3cret"),
            (r"127.0.1.3 admin_password=a\ b", "b"),
            (r#"127.0.1.3 admin_password={"S3cret", []}"#, "S3cret"),
            (r#"127.0.1.3 admin_password={"a", "S3 cret"}"#, "S3 cret"),
            (r#"admin_password = {"S3cret", []}"#, "S3cret"),
            ("127.0.1.3 ansible_become_passwd=S3cret", "S3cret"),
            ("127.0.1.3 x=1 admin_password S3cret", "S3cret"),
            (r#"dsn = "host=db password=S3cret""#, "S3cret"),
        ] {
            let masked = mask_line(line);
            assert!(!masked.contains(secret), "{line} -> {masked}");
            assert!(masked.contains(MASK), "{line} -> {masked}");
        }
        assert_eq!(
            mask_line(r#"127.0.1.3 admin_password="S3cret"#),
            "127.0.1.3 admin_password=********"
        );
    }

    #[test]
    fn quotes_only_text_without_secrets() {
        assert_eq!(quote_text("h[1:x]"), "'h[1:x]'");
        assert_eq!(quote_text("admin_password=x"), NOT_SHOWN);
        assert!(mentions_secret("a b ansible_ssh_pass"));
        assert!(!mentions_secret("passage pass"));
    }
}
