//! Text emitters and the quoting rules of each format the renderer writes. Values from the
//! inventory are always quoted the way the consumer un-quotes them, so no value can change a
//! file's structure.

use std::fmt::Write;

/// A YAML document, emitted in block style. Strings are always double-quoted with JSON escapes
/// (a JSON string is a valid YAML double-quoted scalar), so `0x..`, `yes`, `08` stay strings.
#[derive(Clone, Debug, PartialEq)]
pub enum Yaml {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    pub fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }
    pub fn int(n: impl Into<i64>) -> Yaml {
        Yaml::Int(n.into())
    }
    /// The document text of a top-level map (other top-level values are written as is).
    pub fn to_document(&self) -> String {
        let mut out = String::new();
        match self {
            Yaml::Map(entries) => emit_map(&mut out, 0, entries),
            Yaml::List(items) => emit_list(&mut out, 0, items),
            scalar => {
                emit_scalar(&mut out, scalar);
                out.push('\n');
            }
        }
        out
    }
}

fn yaml_key(out: &mut String, key: &str) {
    let plain = !key.is_empty()
        && !key.starts_with(['-', '.'])
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if plain {
        out.push_str(key);
    } else {
        out.push_str(&json_string(key));
    }
}

fn emit_scalar(out: &mut String, y: &Yaml) {
    match y {
        Yaml::Str(s) => out.push_str(&json_string(s)),
        Yaml::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Yaml::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Yaml::List(l) if l.is_empty() => out.push_str("[]"),
        Yaml::Map(m) if m.is_empty() => out.push_str("{}"),
        // Non-empty collections are never scalars; callers dispatch on them first.
        Yaml::List(_) | Yaml::Map(_) => out.push_str("null"),
    }
}

fn is_block(y: &Yaml) -> bool {
    match y {
        Yaml::List(l) => !l.is_empty(),
        Yaml::Map(m) => !m.is_empty(),
        _ => false,
    }
}

fn emit_map(out: &mut String, indent: usize, entries: &[(String, Yaml)]) {
    for (k, v) in entries {
        out.extend(std::iter::repeat_n(' ', indent));
        yaml_key(out, k);
        out.push(':');
        match v {
            Yaml::Map(m) if !m.is_empty() => {
                out.push('\n');
                emit_map(out, indent + 2, m);
            }
            Yaml::List(l) if !l.is_empty() => {
                out.push('\n');
                emit_list(out, indent + 2, l);
            }
            scalar => {
                out.push(' ');
                emit_scalar(out, scalar);
                out.push('\n');
            }
        }
    }
}

fn emit_list(out: &mut String, indent: usize, items: &[Yaml]) {
    for item in items {
        out.extend(std::iter::repeat_n(' ', indent));
        out.push('-');
        if is_block(item) {
            // Nested collections are not needed by any config; keep them valid anyway.
            out.push('\n');
            match item {
                Yaml::Map(m) => emit_map(out, indent + 2, m),
                Yaml::List(l) => emit_list(out, indent + 2, l),
                _ => {}
            }
        } else {
            out.push(' ');
            emit_scalar(out, item);
            out.push('\n');
        }
    }
}

/// A JSON (and YAML double-quoted) string literal.
pub fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// One nginx argument: bare when it is a plain token, else double-quoted with `"` and `\`
/// escaped. (`$` cannot be escaped in nginx; the validator rejects it in paths and names.)
pub fn nginx_arg(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '_' | '-' | '.' | '/' | ':' | '!' | '+' | '@' | '*' | '~' | '='
                )
        });
    if plain {
        s.to_owned()
    } else {
        let mut q = String::with_capacity(s.len() + 2);
        q.push('"');
        for c in s.chars() {
            if matches!(c, '"' | '\\') {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        q
    }
}

/// A value of an Ice property file: `#` and `\` escaped (Ice's property parser un-escapes them),
/// surrounding whitespace kept by escaping it.
pub fn ice_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let n = s.chars().count();
    for (i, c) in s.chars().enumerate() {
        match c {
            '#' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == 0 || i + 1 == n => out.push_str("\\ "),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// One word of a systemd command line (`ExecStart=`): `%` and `$` escaped, quoted when it
/// contains whitespace or quotes. `$VAR` expansion is requested explicitly by [`systemd_var`].
pub fn systemd_word(s: &str) -> String {
    let escaped: String = s
        .chars()
        .flat_map(|c| match c {
            '%' => vec!['%', '%'],
            '$' => vec!['$', '$'],
            '\\' => vec!['\\', '\\'],
            '"' => vec!['\\', '"'],
            '\n' | '\r' => vec![' '],
            c => vec![c],
        })
        .collect();
    if escaped.is_empty()
        || escaped
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == ';')
    {
        format!("\"{escaped}\"")
    } else {
        escaped
    }
}

/// `$NAME`: expands an `Environment=` variable into words (unquoted, split at whitespace).
pub fn systemd_var(name: &str) -> String {
    format!("${name}")
}

/// `"NAME=value"` for `Environment=`: `%` doubled (specifiers), `"` and `\` escaped.
pub fn systemd_env(name: &str, value: &str) -> String {
    let mut out = format!("\"{name}=");
    for c in value.chars() {
        match c {
            '%' => out.push_str("%%"),
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value of a systemd unit setting that is taken literally (paths, user names, text): `%`
/// doubled, newlines folded.
pub fn systemd_value(s: &str) -> String {
    s.replace('%', "%%").replace(['\n', '\r'], " ")
}

/// An option value in a MySQL/MariaDB option file, single-quoted when not a plain token.
pub fn mysql_value(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':'))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_quotes_every_string() {
        let y = Yaml::Map(vec![
            ("a".into(), Yaml::str("0x12")),
            ("b c".into(), Yaml::str("yes")),
            ("n".into(), Yaml::int(3)),
            (
                "l".into(),
                Yaml::List(vec![Yaml::int(1), Yaml::str("x\"y")]),
            ),
            ("e".into(), Yaml::List(vec![])),
            ("m".into(), Yaml::Map(vec![("k".into(), Yaml::Bool(true))])),
        ]);
        assert_eq!(
            y.to_document(),
            "a: \"0x12\"\n\"b c\": \"yes\"\nn: 3\nl:\n  - 1\n  - \"x\\\"y\"\ne: []\nm:\n  k: true\n"
        );
    }

    #[test]
    fn quoting_rules() {
        assert_eq!(nginx_arg("HIGH:!aNULL:!MD5"), "HIGH:!aNULL:!MD5");
        assert_eq!(nginx_arg("a b;"), "\"a b;\"");
        assert_eq!(ice_value("a#b\\c"), "a\\#b\\\\c");
        assert_eq!(systemd_word("50%"), "50%%");
        assert_eq!(systemd_word("a b"), "\"a b\"");
        assert_eq!(systemd_env("X", "-D%a \"q\""), "\"X=-D%%a \\\"q\\\"\"");
        assert_eq!(mysql_value("+00:00"), "'+00:00'");
    }
}
