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
    tokens(line).collect()
}

/// The tokens of [`split`], one at a time (a long line is never held as a list of tokens).
/// The last item is an `Err` when the line does not split: Python raises before returning any
/// token, so check the whole line first (see [`check`]) where that matters.
pub fn tokens(line: &str) -> Tokens<'_> {
    Tokens {
        chars: line.chars().enumerate(),
        done: false,
    }
}

/// Whether `line` splits, without keeping its tokens.
pub fn check(line: &str) -> Result<(), &'static str> {
    tokens(line).try_for_each(|t| t.map(drop))
}

pub struct Tokens<'a> {
    chars: std::iter::Enumerate<std::str::Chars<'a>>,
    done: bool,
}

impl Iterator for Tokens<'_> {
    type Item = Result<Token, &'static str>;

    fn next(&mut self) -> Option<Self::Item> {
        #[derive(Clone, Copy, PartialEq)]
        enum St {
            Space,
            Word,
            Quote(char),
            Escape(char),
        }
        if self.done {
            return None;
        }
        let is_ws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
        let mut st = St::Space;
        let mut tok = String::new();
        let mut quoted = false;
        let mut start = None;
        let mut len = 0;
        for (i, c) in self.chars.by_ref() {
            len = i + 1;
            match st {
                St::Space | St::Word => {
                    if is_ws(c) || c == '#' {
                        if c == '#' {
                            self.done = true;
                        }
                        if !tok.is_empty() || quoted {
                            return Some(Ok(Token {
                                text: tok,
                                start: start.unwrap_or(i),
                                end: i,
                            }));
                        }
                        if self.done {
                            return None;
                        }
                        st = St::Space;
                        continue;
                    }
                    start.get_or_insert(i);
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
        self.done = true;
        match st {
            St::Quote(_) => Some(Err("No closing quotation")),
            St::Escape(_) => Some(Err("No escaped character")),
            _ if !tok.is_empty() || quoted => Some(Ok(Token {
                text: tok,
                start: start.unwrap_or(len),
                end: len,
            })),
            _ => None,
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
