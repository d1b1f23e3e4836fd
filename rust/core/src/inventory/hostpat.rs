//! Host patterns as Ansible reads them: `parse_address` (ansible.parsing.utils.addresses) and
//! `detect_range`/`expand_hostname_range` (ansible.plugins.inventory).

/// Why a host pattern gives no hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// Ansible refuses the pattern too (its message).
    Invalid(String),
    /// The pattern expands to more hosts, or more bytes of host names, than allowed.
    TooMany,
}

/// `_expand_hostpattern` of the base inventory plugin: the host names and the optional port.
pub fn expand_hostpattern(pattern: &str) -> Result<(Vec<String>, Option<u64>), String> {
    expand_hostpattern_within(pattern, super::limits::MAX_HOSTS, usize::MAX).map_err(|e| match e {
        PatternError::Invalid(m) => m,
        PatternError::TooMany => format!(
            "host range expands to more than {} hosts",
            super::limits::MAX_HOSTS
        ),
    })
}

/// [`expand_hostpattern`], stopping past `max_hosts` names or `max_bytes` bytes of names.
pub fn expand_hostpattern_within(
    pattern: &str,
    max_hosts: usize,
    max_bytes: usize,
) -> Result<(Vec<String>, Option<u64>), PatternError> {
    let (host, port) = match parse_address(pattern) {
        Some((h, p)) => (h, p),
        None => (pattern.to_string(), None),
    };
    let names = if host.contains('[') {
        let mut out = Out {
            names: Vec::new(),
            bytes: 0,
            max_hosts,
            max_bytes,
        };
        expand_hostname_range(&host, &mut out, 0)?;
        out.names
    } else {
        vec![host]
    };
    Ok((names, port))
}

/// Names expanded so far, against the limits.
struct Out {
    names: Vec<String>,
    bytes: usize,
    max_hosts: usize,
    max_bytes: usize,
}

impl Out {
    fn push(&mut self, name: String) -> Result<(), PatternError> {
        self.bytes = self.bytes.saturating_add(name.len());
        if self.names.len() >= self.max_hosts || self.bytes > self.max_bytes {
            return Err(PatternError::TooMany);
        }
        self.names.push(name);
        Ok(())
    }
}

fn expand_hostname_range(line: &str, out: &mut Out, depth: usize) -> Result<(), PatternError> {
    if line.is_empty() {
        return Ok(());
    }
    if depth > 64 {
        return Err(PatternError::Invalid("host range nests too deeply".into()));
    }
    let bad = |m: String| PatternError::Invalid(m);
    let replaced = line.replacen('[', "|", 1).replacen(']', "|", 1);
    let parts: Vec<&str> = replaced.split('|').collect();
    let [head, nrange, tail] = parts[..] else {
        return Err(bad(format!(
            "not enough values to unpack in host range (expected 3, got {})",
            parts.len()
        )));
    };
    let bounds: Vec<&str> = nrange.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err(bad("host range must be begin:end or begin:end:step".into()));
    }
    let beg = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    let step = bounds.get(2).copied();
    if end.is_empty() {
        return Err(bad("host range must specify end value".into()));
    }
    let rlen = if beg.starts_with('0') && beg.chars().count() > 1 {
        if beg.chars().count() != end.chars().count() {
            return Err(bad(
                "host range must specify equal-length begin and end formats".into(),
            ));
        }
        Some(beg.chars().count())
    } else {
        None
    };
    let fill = |s: String| -> String {
        match rlen {
            Some(n) => zfill(&s, n),
            None => s,
        }
    };
    // `string.ascii_letters.index(s)`: a substring search, so "ab" is found too.
    const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut seq: Vec<String> = Vec::new();
    let alpha = match (LETTERS.find(beg), LETTERS.find(end)) {
        (Some(b), Some(e)) => {
            if b > e {
                return Err(bad("host range must have begin <= end".into()));
            }
            let step = match step {
                None => Some(1),
                Some(s) => py_int(s),
            };
            match step {
                Some(0) | None => false, // ValueError: falls back to the numeric range
                Some(st) => {
                    // A negative step over begin < end is an empty slice.
                    if st > 0 {
                        let slice = &LETTERS[b..=e.min(LETTERS.len() - 1)];
                        seq.extend(slice.chars().step_by(st as usize).map(|c| c.to_string()));
                    }
                    true
                }
            }
        }
        _ => false,
    };
    if !alpha {
        let not_int = |s: &str| {
            let shown: String = s.chars().take(40).collect();
            bad(format!("invalid literal for int() with base 10: '{shown}'"))
        };
        let b = py_int(beg).ok_or_else(|| not_int(beg))?;
        let e = py_int(end).ok_or_else(|| not_int(end))?;
        let st = match step {
            None => 1,
            Some(s) => py_int(s).ok_or_else(|| not_int(s))?,
        };
        if st == 0 {
            return Err(bad("range() arg 3 must not be zero".into()));
        }
        let mut i = b;
        let e1 = e.saturating_add(1);
        while (st > 0 && i < e1) || (st < 0 && i > e1) {
            if seq.len() + out.names.len() >= out.max_hosts {
                return Err(PatternError::TooMany);
            }
            seq.push(i.to_string());
            i = match i.checked_add(st) {
                Some(n) => n,
                None => break,
            };
        }
    }
    for r in seq {
        let hname = format!("{head}{}{tail}", fill(r));
        if hname.contains('[') {
            expand_hostname_range(&hname, out, depth + 1)?;
        } else {
            out.push(hname)?;
        }
    }
    Ok(())
}

/// Python's `str.zfill`.
fn zfill(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n >= width {
        return s.to_string();
    }
    let pad = "0".repeat(width - n);
    match s.strip_prefix(['-', '+']) {
        Some(rest) => format!("{}{pad}{rest}", &s[..1]),
        None => format!("{pad}{s}"),
    }
}

/// Python's `int(s)` for ASCII text: surrounding whitespace, a sign, digits with single underscores.
pub fn py_int(s: &str) -> Option<i64> {
    let t = s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c));
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let b = digits.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() || !b[b.len() - 1].is_ascii_digit() {
        return None;
    }
    if digits.contains("__") || !digits.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
        return None;
    }
    let v: i64 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -v } else { v })
}

/// `parse_address(address, allow_ranges=True)`: `None` where Ansible raises (not a host).
pub fn parse_address(address: &str) -> Option<(String, Option<u64>)> {
    let mut addr = address.to_string();
    let mut port = None;
    // bracketed_hostport: ^\[(.+)\]:([0-9]+)$
    if let Some((inner, p)) = bracketed_hostport(&addr) {
        port = Some(p);
        addr = inner;
    }
    if let Some((h, p)) = hostport(&addr) {
        port = Some(p);
        addr = h;
    }
    if is_ipv4(&addr) || is_ipv6(&addr) || is_hostname(&addr) {
        Some((addr, port))
    } else {
        None
    }
}

fn parse_port(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Python ints are unbounded; a port this large is nonsense but must not panic.
    Some(digits.parse().unwrap_or(u64::MAX))
}

fn bracketed_hostport(s: &str) -> Option<(String, u64)> {
    let rest = s.strip_prefix('[')?;
    let (inner, port) = rest.rsplit_once("]:")?;
    if inner.is_empty() {
        return None;
    }
    Some((inner.to_string(), parse_port(port)?))
}

/// `^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`
fn hostport(s: &str) -> Option<(String, u64)> {
    let (host, port) = s.rsplit_once(':')?;
    let port = parse_port(port)?;
    let mut in_br = false;
    for c in host.chars() {
        match (in_br, c) {
            (false, '[') => in_br = true,
            (false, ':' | ']') => return None,
            (true, ']') => in_br = false,
            _ => {}
        }
    }
    if in_br {
        return None;
    }
    Some((host.to_string(), port))
}

/// `\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]` and friends: `inner` is the text between brackets.
fn range_ok(inner: &str, part: impl Fn(&str) -> bool, alpha: bool) -> bool {
    let b: Vec<&str> = inner.split(':').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    let one_alpha = |s: &str| s.len() == 1 && s.as_bytes()[0].is_ascii_alphabetic();
    let pair = |x: &str, y: &str| {
        (part(x) && part(y)) || (alpha && one_alpha(x) && one_alpha(y)) || (digits(x) && digits(y))
    };
    match b[..] {
        [x, y] => pair(x, y),
        [x, y, s] => pair(x, y) && digits(s),
        _ => false,
    }
}

fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            let d = p.as_bytes();
            let all_digits = !d.is_empty() && d.iter().all(u8::is_ascii_digit);
            if all_digits {
                match d.len() {
                    1 | 2 => true,
                    3 => d[0] == b'0' || d[0] == b'1' || p.parse::<u32>().is_ok_and(|v| v <= 255),
                    _ => false,
                }
            } else if let Some(inner) = p.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
                range_ok(inner, digits, false)
            } else {
                false
            }
        })
}

fn is_hex_comp(c: &str) -> bool {
    if let Some(inner) = c.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
        return range_ok(inner, hex, false);
    }
    (1..=4).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Splits on `sep` outside brackets.
fn split_outside(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut last = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            c if c == sep && depth == 0 => {
                out.push(&s[last..i]);
                last = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[last..]);
    out
}

fn is_ipv6(s: &str) -> bool {
    let comps_ok = |t: &str| -> Option<usize> {
        if t.is_empty() {
            return Some(0);
        }
        let cs = split_outside(t, ':');
        cs.iter().all(|c| is_hex_comp(c)).then_some(cs.len())
    };
    // Forms with a dotted tail.
    if let Some(dot) = s.find('.') {
        let colon = s[..dot].rfind(':');
        let (prefix, v4) = match colon {
            Some(c) => (&s[..=c], &s[c + 1..]),
            None => return false,
        };
        let v4_parts = split_outside(v4, '.');
        if v4_parts.len() != 4 || !v4_parts.iter().all(|c| is_hex_comp(c)) {
            return false;
        }
        let p = prefix.to_ascii_lowercase();
        return p == "0:0:0:0:0:0:" || p == "::" || p == "::ffff:" || p == "0:0:0:0:0:ffff:";
    }
    let halves: Vec<&str> = {
        // split on "::" outside brackets
        let mut v = Vec::new();
        let mut depth = 0;
        let b = s.as_bytes();
        let mut last = 0;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'[' => depth += 1,
                b']' => depth -= 1,
                b':' if depth == 0 && b.get(i + 1) == Some(&b':') => {
                    v.push(&s[last..i]);
                    i += 2;
                    last = i;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        v.push(&s[last..]);
        v
    };
    match halves[..] {
        [all] => comps_ok(all) == Some(8),
        [l, r] => match (comps_ok(l), comps_ok(r)) {
            (Some(a), Some(b)) => a <= 6 && b <= 6 && a + b <= 7,
            _ => false,
        },
        _ => false,
    }
}

/// `^label(\.label)*$`, label = `(\w|range)(\w|[_-]|range)*` not ending in `_` or `-`.
fn is_hostname(s: &str) -> bool {
    s.split('.').all(|label| {
        let chars: Vec<char> = label.chars().collect();
        if chars.is_empty() {
            return false;
        }
        let mut i = 0;
        let mut first = true;
        let word = |c: char| c == '_' || c.is_alphanumeric();
        while i < chars.len() {
            let c = chars[i];
            if c == '[' {
                let Some(close) = chars[i..].iter().position(|&c| c == ']') else {
                    return false;
                };
                let inner: String = chars[i + 1..i + close].iter().collect();
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
                if !range_ok(&inner, digits, true) {
                    return false;
                }
                i += close + 1;
            } else if word(c) || (!first && c == '-') {
                i += 1;
            } else {
                return false;
            }
            first = false;
        }
        !matches!(chars.last(), Some('_' | '-'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(p: &str) -> (Vec<String>, Option<u64>) {
        expand_hostpattern(p).unwrap()
    }

    #[test]
    fn ranges_and_ports() {
        assert_eq!(exp("web[01:03]").0, ["web01", "web02", "web03"]);
        assert_eq!(exp("db-[a:c]").0, ["db-a", "db-b", "db-c"]);
        assert_eq!(exp("h[1:9:4]").0, ["h1", "h5", "h9"]);
        assert_eq!(exp("h[1:2]x[a:b]").0, ["h1xa", "h1xb", "h2xa", "h2xb"]);
        assert_eq!(exp("h:22"), (vec!["h".to_string()], Some(22)));
        assert_eq!(exp("[fe80::1]:22"), (vec!["fe80::1".to_string()], Some(22)));
        assert_eq!(exp("fe80::1"), (vec!["fe80::1".to_string()], None));
        assert_eq!(exp("10.0.0.[1:2]:80").0, ["10.0.0.1", "10.0.0.2"]);
        assert!(expand_hostpattern("h[1:]").is_err());
        assert!(expand_hostpattern("h[3:1x]").is_err());
        assert!(expand_hostpattern("h[01:100]").is_err());
    }

    #[test]
    fn expansion_stops_at_its_limits() {
        assert_eq!(
            expand_hostpattern_within("h[0:999999999]", 1000, usize::MAX),
            Err(PatternError::TooMany)
        );
        assert_eq!(
            expand_hostpattern_within("h[0:1][0:1][0:1]", 7, usize::MAX),
            Err(PatternError::TooMany)
        );
        assert_eq!(
            expand_hostpattern_within("h[0:1][0:1][0:1]", 8, usize::MAX).map(|r| r.0.len()),
            Ok(8)
        );
        let long = format!("h[0:99]{}", "x".repeat(1 << 20));
        assert_eq!(
            expand_hostpattern_within(&long, 1000, 16 << 20),
            Err(PatternError::TooMany)
        );
    }
}
