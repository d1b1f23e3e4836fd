//! Diagnostics: what is wrong, where, and how to fix it.

use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// A position in an inventory source: file name, 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl Span {
    pub fn new(file: &Arc<str>, line: u32, column: u32) -> Self {
        Span {
            file: Arc::clone(file),
            line,
            column,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($($variant:ident = $name:literal : $doc:literal,)*) => {
        /// Stable diagnostic codes. Tools and CI match on [`Code::as_str`]; never rename one.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code { $( #[doc = $doc] $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }
            /// One line saying what the code means (the README's table is made from these).
            pub fn describe(self) -> &'static str {
                match self { $(Code::$variant => $doc,)* }
            }
        }
    };
}

codes! {
    Syntax = "syntax": "The inventory file cannot be parsed (Ansible would refuse it too).",
    UnreadableInput = "unreadable-input": "The inventory could not be read (missing file, not UTF-8, bad JSON).",
    MissingGroup = "missing-group": "A group needed by an enabled service is absent or empty.",
    GroupCount = "group-count": "A group has the wrong number of hosts (consul odd; one carrier; one ice_via; admin at least one).",
    DuplicateHost = "duplicate-host": "A host is listed twice in one group; Ansible merges it and shifts per-host list indexing.",
    MissingVariable = "missing-variable": "A variable an enabled service needs is not set.",
    InvalidValue = "invalid-value": "A variable has a value of the wrong type or out of range.",
    InvalidSwitch = "invalid-switch": "An enable_deploy_* switch is not True or False.",
    ListLength = "list-length": "A per-host list (consul_*_port, data_port, compute_port) does not have one entry per host of its group.",
    InvalidPort = "invalid-port": "A port is not an integer in 1..65535 (fighter ports must be above 1024).",
    PortConflict = "port-conflict": "Two services on one host use the same port.",
    InvalidAddress = "invalid-address": "A host or external address is not an IPv4 address, or a host name cannot name a directory (`.`, `..`, `/`).",
    RootUser = "root-user": "The inventory connects as root; upstream requires a normal user with sudo.",
    MistypedValue = "mistyped-value": "Ansible's INI parser turned a value into another type (unquoted 0x.. address or numeric password).",
    PlaintextSecret = "plaintext-secret": "A password is written in plaintext in the inventory.",
    WeakSecret = "weak-secret": "A password or token is a well-known default, weak value or unfilled placeholder.",
    TlsSettings = "tls-settings": "TLS is enabled but its server name or certificate settings are missing.",
    MultipleAdmins = "multiple-admins": "More than one admin host: supported, but one is recommended.",
    Template = "template": "A value is a Jinja template that cannot be evaluated outside Ansible (only `lookup('env', ...)` can).",
    UnknownVariable = "unknown-variable": "A variable metis-deploy does not read looks like one of its own (a misspelt name or a known prefix): did you mean ...?",
    TooLarge = "too-large": "The inventory is past one of metis-deploy's limits (hosts, host entries, memory): see Robustness below.",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Longest message or hint of a diagnostic, in characters.
pub const MAX_MESSAGE: usize = 1_000;

fn bounded(text: String) -> String {
    if text.len() <= MAX_MESSAGE {
        text
    } else {
        shorten(&text, MAX_MESSAGE)
    }
}

/// One problem found in an inventory.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub span: Option<Span>,
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error. Messages and hints are kept to [`MAX_MESSAGE`] characters, whatever text
    /// they quote.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: bounded(message.into()),
            span: None,
            hint: None,
        }
    }
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }
    pub fn at(mut self, span: Option<&Span>) -> Self {
        self.span = span.cloned();
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(bounded(hint.into()));
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The JSON form shared by the CLI (`--format json`) and the Python binding.
#[derive(Serialize)]
struct DiagnosticJson<'a> {
    severity: Severity,
    code: Code,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
    column: Option<u32>,
    hint: Option<&'a str>,
}

impl Serialize for Diagnostic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        DiagnosticJson {
            severity: self.severity,
            code: self.code,
            message: &self.message,
            file: self.span.as_ref().map(|sp| &*sp.file),
            line: self.span.as_ref().map(|sp| sp.line),
            column: self.span.as_ref().map(|sp| sp.column),
            hint: self.hint.as_deref(),
        }
        .serialize(s)
    }
}

/// Orders diagnostics by file, line, column, then errors before warnings: the order users read them.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        let key = |d: &Diagnostic| d.span.as_ref().map(|s| (s.file.clone(), s.line, s.column));
        key(a).cmp(&key(b)).then(a.severity.cmp(&b.severity))
    });
}

/// Text fit for a terminal: control characters (escape sequences included) shown as `\u{..}`
/// escapes, tabs kept.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\t' {
            let _ = fmt::Write::write_fmt(&mut out, format_args!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// At most `max` characters of `text` (the last one `…` when cut), printable.
pub fn shorten(text: &str, max: usize) -> String {
    let cut = match text.char_indices().nth(max) {
        Some(_) => {
            let end = text
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(text.len(), |(i, _)| i);
            format!("{}…", &text[..end])
        }
        None => text.to_string(),
    };
    printable(&cut).into_owned()
}

/// Longest source excerpt shown, in characters: a window around the column.
const EXCERPT: usize = 120;

/// How a piece of a source line is shown: tabs as 4 spaces, control characters escaped.
fn shown_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' => out.push_str("    "),
            c if c.is_control() => {
                let _ = fmt::Write::write_fmt(&mut out, format_args!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// The parts of a (masked) source line shown under the diagnostics pointing at `columns`, and
/// the caret's offset in each: one pass over the line, however long it is and however many
/// diagnostics point into it.
fn excerpts(line: &str, columns: &std::collections::BTreeSet<u32>) -> Vec<(u32, String, usize)> {
    let count = line.chars().count();
    let windows: Vec<(u32, usize, usize, usize)> = columns
        .iter()
        .map(|&column| {
            let col = (column.saturating_sub(1) as usize).min(count);
            let (from, to) = if count <= EXCERPT {
                (0, count)
            } else {
                let from = col.saturating_sub(EXCERPT / 2).min(count - EXCERPT);
                (from, from + EXCERPT)
            };
            (column, col, from, to)
        })
        .collect();
    // Byte offsets of the characters the windows start, end and point at.
    let mut need: Vec<usize> = windows
        .iter()
        .flat_map(|&(_, col, from, to)| [col, from, to])
        .collect();
    need.sort_unstable();
    need.dedup();
    let mut at: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut next = need.iter().copied().peekable();
    for (i, (b, _)) in line.char_indices().enumerate() {
        while next.peek() == Some(&i) {
            at.insert(i, b);
            next.next();
        }
        if next.peek().is_none() {
            break;
        }
    }
    let byte = |i: usize| at.get(&i).copied().unwrap_or(line.len());
    windows
        .into_iter()
        .map(|(column, col, from, to)| {
            let mut shown = String::new();
            let mut caret = 0;
            if from > 0 {
                shown.push('…');
                caret += 1;
            }
            caret += shown_chars(&line[byte(from)..byte(col)]).chars().count();
            shown.push_str(&shown_chars(&line[byte(from)..byte(to)]));
            if to < count {
                shown.push('…');
            }
            (column, shown, caret)
        })
        .collect()
}

/// Renders diagnostics the way rustc does: `error[code]: message`, the location, the source line
/// with a caret, and the hint. `source` gives the text of a file by name, when it is known.
/// Source lines are shown with secret values masked and shortened around the column; each file
/// and each line is read once, however many diagnostics point into it.
pub fn render_text<'a>(diags: &[Diagnostic], source: impl Fn(&str) -> Option<&'a str>) -> String {
    use fmt::Write;
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    let mut wanted: HashMap<&str, BTreeMap<u32, BTreeSet<u32>>> = HashMap::new();
    for sp in diags.iter().filter_map(|d| d.span.as_ref()) {
        wanted
            .entry(&sp.file)
            .or_default()
            .entry(sp.line)
            .or_default()
            .insert(sp.column);
    }
    let mut shown: HashMap<(&str, u32, u32), (String, usize)> = HashMap::new();
    for (file, lines) in &wanted {
        let Some(text) = source(file) else { continue };
        let mut numbers = lines.iter().peekable();
        // Lines as the reader counts them.
        for (i, l) in crate::inventory::ini::py_lines(text).enumerate() {
            let Some(&(&n, columns)) = numbers.peek() else {
                break;
            };
            if (i + 1) as u64 == u64::from(n) {
                let masked = crate::secrets::mask_line(l);
                for (column, text, caret) in excerpts(&masked, columns) {
                    shown.insert((file, n, column), (text, caret));
                }
                numbers.next();
            }
        }
    }
    let mut out = String::new();
    for d in diags {
        let _ = writeln!(
            out,
            "{}[{}]: {}",
            d.severity.as_str(),
            d.code,
            printable(&d.message)
        );
        if let Some(sp) = &d.span {
            let gutter = sp.line.to_string().len();
            let pad = " ".repeat(gutter);
            let _ = writeln!(out, "{pad}--> {}", printable(&sp.to_string()));
            if let Some((text, caret_at)) = shown.get(&(&*sp.file, sp.line, sp.column)) {
                let _ = writeln!(out, "{pad} |");
                let _ = writeln!(out, "{} | {text}", sp.line);
                let _ = writeln!(out, "{pad} | {}^", " ".repeat(*caret_at));
            }
            if let Some(h) = &d.hint {
                let _ = writeln!(out, "{pad} = hint: {}", printable(h));
            }
        } else if let Some(h) = &d.hint {
            let _ = writeln!(out, "  = hint: {}", printable(h));
        }
        out.push('\n');
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let _ = writeln!(out, "{errors} error(s), {warnings} warning(s)");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpt(line: &str, column: u32) -> (String, usize) {
        let (_, text, caret) = excerpts(line, &[column].into_iter().collect()).remove(0);
        (text, caret)
    }

    #[test]
    fn long_lines_are_shown_around_the_column() {
        let line = format!("{}X{}", "a".repeat(5000), "b".repeat(5000));
        let (shown, caret) = excerpt(&line, 5001);
        assert!(shown.chars().count() <= EXCERPT + 2, "{}", shown.len());
        assert_eq!(shown.chars().nth(caret), Some('X'));
        let (shown, caret) = excerpt("\tk = v", 2);
        assert_eq!((shown.as_str(), caret), ("    k = v", 4));
        assert_eq!(excerpt("abc", 9), ("abc".to_string(), 3));
        // Many diagnostics on one long line: each shown around its own column, in one pass.
        let long: String = (0..200_000)
            .map(|i| if i % 1000 == 0 { 'X' } else { 'a' })
            .collect();
        let columns = (0..200).map(|i| i * 1000 + 1).collect();
        let started = std::time::Instant::now();
        let all = excerpts(&long, &columns);
        assert_eq!(all.len(), 200);
        for (_, text, caret) in &all {
            assert_eq!(text.chars().nth(*caret), Some('X'));
        }
        assert!(started.elapsed().as_secs() < 5);
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\u{1b}[2Jb\tc"), "a\\u{1b}[2Jb\tc");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
