//! Python's `shlex.split(line, comments=True)` (POSIX mode), keeping each token's start column.

/// One token and the 0-based char indices in the line where it starts and ends (exclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// `shlex.split(line, comments=True)`; `Err` carries Python's message.
pub fn split(line: &str) -> Result<Vec<Token>, &'static str> {
    #[derive(Clone, Copy, PartialEq)]
    enum St {
        Space,
        Word,
        Quote(char),
        Escape(char),
    }
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut out = Vec::new();
    let mut st = St::Space;
    let mut tok = String::new();
    let mut quoted = false;
    let mut start = 0;
    let mut started = false;
    let mut len = 0;
    for (i, c) in line.chars().enumerate() {
        len = i + 1;
        if !started {
            start = i;
        }
        match st {
            St::Space | St::Word => {
                if is_ws(c) || c == '#' {
                    if !tok.is_empty() || quoted {
                        out.push(Token {
                            text: std::mem::take(&mut tok),
                            start,
                            end: i,
                        });
                    }
                    quoted = false;
                    started = false;
                    st = St::Space;
                    if c == '#' {
                        return Ok(out);
                    }
                    continue;
                }
                started = true;
                match c {
                    '\\' => st = St::Escape('a'),
                    '\'' | '"' => st = St::Quote(c),
                    _ => {
                        tok.push(c);
                        st = St::Word;
                    }
                }
            }
            St::Quote(q) => {
                quoted = true;
                if c == q {
                    st = St::Word;
                } else if c == '\\' && q == '"' {
                    st = St::Escape(q);
                } else {
                    tok.push(c);
                }
            }
            St::Escape(prev) => {
                if prev != 'a' && c != prev && c != '\\' {
                    tok.push('\\');
                }
                tok.push(c);
                st = if prev == 'a' {
                    St::Word
                } else {
                    St::Quote(prev)
                };
            }
        }
    }
    match st {
        St::Quote(_) => Err("No closing quotation"),
        St::Escape(_) => Err("No escaped character"),
        _ => {
            if !tok.is_empty() || quoted {
                out.push(Token {
                    text: tok,
                    start,
                    end: len,
                });
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn s(line: &str) -> Vec<String> {
        split(line).unwrap().into_iter().map(|t| t.text).collect()
    }
    #[test]
    fn like_python() {
        assert_eq!(s("a b=1  c='x y' # c"), ["a", "b=1", "c=x y"]);
        assert_eq!(s("a#b c"), ["a"]);
        assert_eq!(
            s(r#"k="a\"b" j='a\b' m=a\ b"#),
            [r#"k=a"b"#, r"j=a\b", "m=a b"]
        );
        assert_eq!(s(r#"x="\q" ''"#), [r"x=\q", ""]);
        assert_eq!(s("k=\"[1, 2]\""), ["k=[1, 2]"]);
        assert_eq!(split("a 'b").unwrap_err(), "No closing quotation");
        assert_eq!(split("a \\").unwrap_err(), "No escaped character");
        assert_eq!(split("  x  y").unwrap()[1].start, 5);
        assert_eq!(split("  x  'y z' ").unwrap()[1].end, 10);
    }
}
