//! Python's `ast.literal_eval` (CPython 3.11) on one INI value, followed by the type coercion of
//! Ansible's INI plugin (`_parse_recursive_coerce_types_and_tag`): tuples and sets become lists,
//! bytes become text, complex numbers and `...` become their text.
//!
//! One pass, without recursion on anything but brackets (at most 200 levels, as Python's
//! tokenizer allows): tokens are read as the parser asks for them, each container is evaluated
//! as soon as it is closed (in the order `literal_eval` converts, so the first error is the one
//! Python raises), chains of signs and operators are counted rather than nested, set elements
//! and dict keys are found again by hashing, and what is built is charged to a memory budget.

use super::limits::{Budget, MAX_LITERAL_DEPTH};
use crate::value::{python_float_repr, Value};
use num_bigint::BigInt;
use num_traits::{FromPrimitive, Num, ToPrimitive};
use std::collections::{HashMap, HashSet};

/// Why `literal_eval` did not return a value.
#[derive(Debug, Clone, PartialEq)]
pub enum LiteralError {
    /// `SyntaxError`/`ValueError`: Ansible keeps the raw text as a string.
    NotLiteral,
    /// `TypeError` (an unhashable set element or dict key): Ansible refuses the whole inventory.
    Unhashable(&'static str),
    /// Nested deeper than [`MAX_LITERAL_DEPTH`] levels: Python's parser gives up on such values
    /// (RecursionError, MemoryError) and Ansible refuses the inventory.
    TooDeep,
    /// The value would take more memory than the reader's budget allows.
    TooLarge,
}

/// A value as `literal_eval` builds it, before Ansible's coercion.
#[derive(Debug, Clone)]
enum Py {
    None,
    Bool(bool),
    Int(BigInt),
    Float(f64),
    Complex(f64, f64),
    Str(String),
    Bytes(Vec<u8>),
    Ellipsis,
    Tuple(Vec<Py>),
    List(Vec<Py>),
    Set(Vec<Py>),
    Dict(Vec<(Py, Py)>),
}

/// What the INI plugin stores for a value written as `text`.
pub fn parse_ini_value(text: &str) -> Result<Value, LiteralError> {
    parse_ini_value_within(text, &mut Budget::default())
}

/// [`parse_ini_value`], charging what it builds to `budget`.
pub fn parse_ini_value_within(text: &str, budget: &mut Budget) -> Result<Value, LiteralError> {
    match literal_eval(text, budget) {
        Ok(py) => Ok(coerce(py)),
        Err(LiteralError::NotLiteral) => Ok(Value::Str(text.to_string())),
        Err(e) => Err(e),
    }
}

fn literal_eval(text: &str, budget: &mut Budget) -> Result<Py, LiteralError> {
    let src = text.trim_start_matches([' ', '\t']);
    let mut p = Parser {
        lx: Lexer::new(src),
        budget,
    };
    let (node, _) = p.top()?;
    if p.lx.next()? != Tok::End {
        return Err(SYNTAX);
    }
    node.convert()
}

fn coerce(py: Py) -> Value {
    match py {
        Py::None => Value::None,
        Py::Bool(b) => Value::Bool(b),
        Py::Int(i) => Value::Int(i),
        Py::Float(f) => Value::Float(f),
        Py::Complex(re, im) => Value::Str(complex_repr(re, im)),
        Py::Str(s) => Value::Str(s),
        Py::Bytes(b) => Value::Str(String::from_utf8_lossy(&b).into_owned()),
        Py::Ellipsis => Value::Str("...".into()),
        Py::Tuple(v) | Py::List(v) | Py::Set(v) => Value::List(v.into_iter().map(coerce).collect()),
        Py::Dict(kv) => Value::Dict(kv.into_iter().map(|(k, v)| (key(k), coerce(v))).collect()),
    }
}

/// Dict keys keep their type (a tuple key stays a tuple).
fn key(py: Py) -> Value {
    match py {
        Py::Tuple(v) => Value::Tuple(v.into_iter().map(key).collect()),
        other => coerce(other),
    }
}

fn fmt_complex_part(x: f64) -> String {
    let s = python_float_repr(x);
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Python's `repr(complex)`.
pub fn complex_repr(re: f64, im: f64) -> String {
    if re == 0.0 && re.is_sign_positive() {
        return format!("{}j", fmt_complex_part(im));
    }
    let im_s = fmt_complex_part(im);
    let im_s = if im_s.starts_with('-') {
        im_s
    } else {
        format!("+{im_s}")
    };
    format!("({}{}j)", fmt_complex_part(re), im_s)
}

// ---------------------------------------------------------------- tokens

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Num(&'a str),
    /// Concatenated string literals.
    Str(Lit),
    Name(&'a str),
    Op(char),
    Ellipsis,
    End,
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Bytes(Vec<u8>),
    /// An f-string: never a literal.
    FStr,
}

/// Python's tokenizer allows 200 open brackets.
const MAX_NESTING: usize = 200;

const KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

fn is_id_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}
fn is_id_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn is_prefix(w: &str) -> bool {
    matches!(
        w.to_ascii_lowercase().as_str(),
        "r" | "u" | "b" | "f" | "br" | "rb" | "fr" | "rf"
    )
}

/// Python's tokenizer on one logical line, one token at a time. Adjacent string literals come
/// out as one token. Any token Python rejects (or we do not need) is a syntax error.
struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    /// The token after a string literal, read to see whether another literal follows.
    raw_ahead: Option<Tok<'a>>,
    /// The token `peek` returned.
    peeked: Option<Tok<'a>>,
}

type PResult<T> = Result<T, LiteralError>;
const SYNTAX: LiteralError = LiteralError::NotLiteral;

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            depth: 0,
            raw_ahead: None,
            peeked: None,
        }
    }

    fn peek(&mut self) -> PResult<&Tok<'a>> {
        if self.peeked.is_none() {
            let t = self.joined()?;
            self.peeked = Some(t);
        }
        Ok(self.peeked.get_or_insert(Tok::End))
    }

    fn next(&mut self) -> PResult<Tok<'a>> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.joined(),
        }
    }

    fn raw_next(&mut self) -> PResult<Tok<'a>> {
        match self.raw_ahead.take() {
            Some(t) => Ok(t),
            None => self.raw(),
        }
    }

    /// The next token, adjacent string literals joined; bytes and text do not mix.
    fn joined(&mut self) -> PResult<Tok<'a>> {
        let tok = self.raw_next()?;
        let Tok::Str(mut lit) = tok else {
            return Ok(tok);
        };
        loop {
            let after = self.raw_next()?;
            let Tok::Str(more) = after else {
                self.raw_ahead = Some(after);
                return Ok(Tok::Str(lit));
            };
            lit = match (lit, more) {
                (Lit::Str(mut a), Lit::Str(b)) => {
                    a.push_str(&b);
                    Lit::Str(a)
                }
                (Lit::Bytes(mut a), Lit::Bytes(b)) => {
                    a.extend(b);
                    Lit::Bytes(a)
                }
                (Lit::Bytes(_), Lit::Str(_) | Lit::FStr)
                | (Lit::Str(_) | Lit::FStr, Lit::Bytes(_)) => return Err(SYNTAX),
                _ => Lit::FStr,
            };
        }
    }

    /// The next token, string literals not joined.
    fn raw(&mut self) -> PResult<Tok<'a>> {
        // Blanks and a comment are skipped in a loop, however many there are.
        let blank = self.src[self.pos..]
            .find(|c: char| !matches!(c, ' ' | '\t' | '\x0c'))
            .unwrap_or(self.src.len() - self.pos);
        self.pos += blank;
        if self.src[self.pos..].starts_with('#') {
            self.pos = self.src.len();
        }
        let rest = &self.src[self.pos..];
        let Some(c) = rest.chars().next() else {
            return if self.depth == 0 {
                Ok(Tok::End)
            } else {
                Err(SYNTAX)
            };
        };
        let at = |n: usize| rest.as_bytes().get(n).copied();
        match c {
            '(' | '[' | '{' => {
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return Err(SYNTAX);
                }
                self.pos += 1;
                Ok(Tok::Op(c))
            }
            ')' | ']' | '}' => {
                self.depth = self.depth.checked_sub(1).ok_or(SYNTAX)?;
                self.pos += 1;
                Ok(Tok::Op(c))
            }
            ',' | ':' | '+' | '-' => {
                self.pos += 1;
                Ok(Tok::Op(c))
            }
            '.' if at(1).is_some_and(|d| d.is_ascii_digit()) => Ok(Tok::Num(self.number())),
            '.' if at(1) == Some(b'.') && at(2) == Some(b'.') => {
                self.pos += 3;
                Ok(Tok::Ellipsis)
            }
            '0'..='9' => Ok(Tok::Num(self.number())),
            '\'' | '"' => {
                let (lit, n) = string(rest, "").ok_or(SYNTAX)?;
                self.pos += n;
                Ok(Tok::Str(lit))
            }
            c if is_id_start(c) => {
                let end = rest
                    .char_indices()
                    .find(|&(_, c)| !is_id_char(c))
                    .map_or(rest.len(), |(i, _)| i);
                let word = &rest[..end];
                let after = &rest[end..];
                if after.starts_with(['\'', '"']) && is_prefix(word) {
                    let (lit, n) = string(after, &word.to_ascii_lowercase()).ok_or(SYNTAX)?;
                    self.pos += end + n;
                    Ok(Tok::Str(lit))
                } else {
                    self.pos += end;
                    Ok(Tok::Name(word))
                }
            }
            _ => Err(SYNTAX),
        }
    }

    /// The longest run that could be one number token; validated later.
    fn number(&mut self) -> &'a str {
        let rest = &self.src[self.pos..];
        let b = rest.as_bytes();
        let hex = b.len() > 1 && b[0] == b'0' && matches!(b[1], b'x' | b'X');
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            let sign = (c == b'+' || c == b'-') && !hex && i > 0 && matches!(b[i - 1], b'e' | b'E');
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || sign {
                i += 1;
            } else {
                break;
            }
        }
        self.pos += i;
        &rest[..i]
    }
}

fn digitpart(s: &str, ok: impl Fn(char) -> bool) -> bool {
    // d(_?d)*
    let b = s.as_bytes();
    if b.is_empty() || !ok(b[0] as char) {
        return false;
    }
    let mut prev_us = false;
    for &c in &b[1..] {
        if c == b'_' {
            if prev_us {
                return false;
            }
            prev_us = true;
        } else if ok(c as char) {
            prev_us = false;
        } else {
            return false;
        }
    }
    !prev_us
}

fn dec(c: char) -> bool {
    c.is_ascii_digit()
}

/// A float literal without `j`: pointfloat or exponentfloat.
fn is_float(s: &str) -> bool {
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(p) => (&s[..p], Some(&s[p + 1..])),
        None => (s, None),
    };
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if !digitpart(e, dec) {
            return false;
        }
    }
    match mant.split_once('.') {
        Some((a, b)) => {
            (a.is_empty() || digitpart(a, dec))
                && (b.is_empty() || digitpart(b, dec))
                && !(a.is_empty() && b.is_empty())
        }
        None => exp.is_some() && digitpart(mant, dec),
    }
}

fn parse_number(s: &str) -> Option<Py> {
    let clean = |t: &str| t.replace('_', "");
    if let Some(body) = s.strip_suffix(['j', 'J']) {
        if digitpart(body, dec) || is_float(body) {
            return Some(Py::Complex(0.0, clean(body).parse().ok()?));
        }
        return None;
    }
    let lower = s.to_ascii_lowercase();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let rest = rest.strip_prefix('_').unwrap_or(rest);
            if !digitpart(rest, |c| c.is_digit(radix)) {
                return None;
            }
            // Powers of two: read in linear time, whatever the length (Python has no limit).
            return BigInt::from_str_radix(&clean(rest), radix)
                .ok()
                .map(Py::Int);
        }
    }
    if digitpart(s, dec) {
        let c = clean(s);
        // Leading zeros are a SyntaxError unless the number is zero.
        if c.len() > 1 && c.starts_with('0') && c.bytes().any(|b| b != b'0') {
            return None;
        }
        // CPython 3.11 refuses decimal literals longer than 4300 digits.
        if c.len() > 4300 {
            return None;
        }
        return BigInt::from_str_radix(&c, 10).ok().map(Py::Int);
    }
    if is_float(s) {
        return clean(s).parse().ok().map(Py::Float);
    }
    None
}

/// A string literal at the start of `s` (its opening quote); returns it and the bytes consumed.
/// Escapes are decoded as they are read.
fn string(s: &str, prefix: &str) -> Option<(Lit, usize)> {
    let raw = prefix.contains('r');
    let bytes = prefix.contains('b');
    let fstr = prefix.contains('f');
    let q = s.chars().next()?;
    let triple = s[1..].starts_with(q) && s[2..].starts_with(q);
    let qlen = if triple { 3 } else { 1 };
    let closing: String = std::iter::repeat_n(q, qlen).collect();
    let mut it = s[qlen..].char_indices().peekable();
    // Decoded as read: text into a String, bytes into bytes (never 4 bytes per character).
    let mut text = String::new();
    let mut raw_bytes: Vec<u8> = Vec::new();
    let mut out = Out {
        bytes,
        text: &mut text,
        raw: &mut raw_bytes,
    };
    let mut end = None;
    // Every character of the literal as written (escapes included) must be ASCII in bytes.
    let next = |it: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
        let (i, c) = it.next()?;
        (!bytes || c.is_ascii()).then_some((i, c))
    };
    while let Some((i, c)) = next(&mut it) {
        if c == q && s[qlen + i..].starts_with(closing.as_str()) {
            end = Some(qlen + i + qlen);
            break;
        }
        if c != '\\' {
            out.push(c as u32);
            continue;
        }
        let (_, d) = next(&mut it)?;
        if raw || fstr {
            out.push('\\' as u32);
            out.push(d as u32);
            continue;
        }
        let simple = match d {
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c as u32);
            continue;
        }
        let hex = |n: usize, it: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
            let mut v = 0u32;
            for _ in 0..n {
                let (_, h) = next(it)?;
                v = v * 16 + h.to_digit(16)?;
            }
            Some(v)
        };
        match d {
            '0'..='7' => {
                let mut v = d as u32 - '0' as u32;
                for _ in 0..2 {
                    match it.peek() {
                        Some(&(_, o @ '0'..='7')) => {
                            v = v * 8 + (o as u32 - '0' as u32);
                            it.next();
                        }
                        _ => break,
                    }
                }
                if bytes && v > 0xff {
                    return None;
                }
                out.push(v);
            }
            'x' => out.push(hex(2, &mut it)?),
            'u' if !bytes => out.push(hex(4, &mut it)?),
            'U' if !bytes => {
                let v = hex(8, &mut it)?;
                if v > 0x10ffff {
                    return None;
                }
                out.push(v);
            }
            // \N{...} needs the Unicode name table: not supported, kept as text.
            'N' if !bytes => return None,
            other => {
                out.push('\\' as u32);
                out.push(other as u32);
            }
        }
    }
    let end = end?;
    if fstr {
        return Some((Lit::FStr, end));
    }
    let lit = if bytes {
        Lit::Bytes(raw_bytes)
    } else {
        Lit::Str(text)
    };
    Some((lit, end))
}

/// Where a string literal's decoded code points go.
struct Out<'a> {
    bytes: bool,
    text: &'a mut String,
    raw: &'a mut Vec<u8>,
}

impl Out<'_> {
    fn push(&mut self, v: u32) {
        if self.bytes {
            self.raw.push(v as u8);
        } else {
            self.text.push(char::from_u32(v).unwrap_or('\u{fffd}'));
        }
    }
}

// ---------------------------------------------------------------- syntax and evaluation

/// A parsed expression, evaluated as far as `literal_eval`'s conversion would take it.
#[derive(Debug)]
enum Node {
    /// A constant.
    Const(Py),
    /// A container, already converted: its value or the first error converting it raises.
    Container(Result<Py, LiteralError>),
    /// One sign before an operand: the operand when it is a number constant.
    Unary(char, Option<Py>),
    /// `a + b` or `a - b`: the complex number when it is one `literal_eval` accepts.
    Bin(Option<Py>),
    /// Parses but does not evaluate (a name, a call, an f-string, a chain of signs...):
    /// ValueError when converted.
    Bad,
}

impl Node {
    /// `literal_eval`'s `_convert`.
    fn convert(self) -> Result<Py, LiteralError> {
        match self {
            Node::Const(p) | Node::Bin(Some(p)) => Ok(p),
            Node::Container(r) => r,
            Node::Unary(op, Some(n)) => Ok(if op == '-' { negate(n) } else { n }),
            Node::Unary(_, None) | Node::Bin(None) | Node::Bad => Err(SYNTAX),
        }
    }

    /// The number of a number constant (`_convert_num`).
    fn number(self) -> Option<Py> {
        match self {
            Node::Const(p @ (Py::Int(_) | Py::Float(_) | Py::Complex(..))) => Some(p),
            _ => None,
        }
    }

    /// `_convert_signed_num`.
    fn signed_number(self) -> Option<Py> {
        match self {
            Node::Unary(op, Some(n)) => Some(if op == '-' { negate(n) } else { n }),
            Node::Unary(_, None) => None,
            other => other.number(),
        }
    }
}

/// A node and its height: the levels of brackets, signs and operators it holds.
type Parsed = (Node, usize);

fn deep(height: usize) -> PResult<usize> {
    if height > MAX_LITERAL_DEPTH {
        Err(LiteralError::TooDeep)
    } else {
        Ok(height)
    }
}

/// What `p` takes in memory, counted twice: the reader holds it while coercing it.
fn cost(p: &Py) -> usize {
    let own = match p {
        Py::Str(s) => s.len(),
        Py::Bytes(b) => b.len(),
        Py::Int(i) => (i.bits() / 8) as usize + 8,
        _ => 0,
    };
    2 * std::mem::size_of::<Py>() + own
}

/// The expression being read in one bracket: `factor (('+'|'-') factor)*`, where a factor is
/// signs before an atom. Chains of signs and operators are counted, never nested.
#[derive(Default)]
struct Expr {
    /// The operand so far (the left side of a pending operator).
    chain: Option<Parsed>,
    op: Option<char>,
    signs: usize,
    first_sign: char,
}

impl Expr {
    fn sign(&mut self, c: char) -> PResult<()> {
        if self.signs == 0 {
            self.first_sign = c;
        }
        self.signs += 1;
        deep(self.signs).map(drop)
    }

    /// An atom has been read: apply the signs before it, then the pending operator.
    fn operand(&mut self, (atom, height): Parsed) -> PResult<()> {
        let height = deep(height + self.signs)?;
        let node = match std::mem::take(&mut self.signs) {
            0 => atom,
            1 => Node::Unary(self.first_sign, atom.number()),
            // The operand of the outer sign is itself a sign: not a number constant.
            _ => Node::Bad,
        };
        self.chain = Some(match (self.op.take(), self.chain.take()) {
            (Some(op), Some((left, lh))) => (
                Node::Bin(complex_sum(left, op, node)),
                deep(lh.max(height) + 1)?,
            ),
            _ => (node, height),
        });
        Ok(())
    }
}

/// A bracket being read (or the whole value), with the elements it has so far.
enum Body {
    /// The whole value: an expression, or a tuple once a comma is seen.
    Top(Option<Seq>),
    /// `(`: parentheses around one expression, or a tuple once a comma is seen.
    Paren(Option<Seq>),
    List(Seq),
    /// `{`: a set or a dict, decided by what follows the first element.
    Brace(Brace),
}

enum Brace {
    First,
    Set(Seq),
    /// A key has been read; its value is being read.
    Value(DictSeq, Parsed),
    /// A `,` has been read; the next key is being read.
    Key(DictSeq),
    Taken,
}

struct Open {
    body: Body,
    expr: Expr,
}

/// What a finished expression does to its bracket.
enum Step {
    /// The next element follows.
    Next,
    /// The bracket closed: its node is an atom of the enclosing expression.
    Closed(Parsed),
    /// The whole value has been read.
    Done(Parsed),
}

struct Parser<'a, 'b> {
    lx: Lexer<'a>,
    budget: &'b mut Budget,
}

impl Parser<'_, '_> {
    fn eat(&mut self, c: char) -> PResult<bool> {
        if *self.lx.peek()? == Tok::Op(c) {
            self.lx.next()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn charge(&mut self, p: &Py) -> PResult<()> {
        self.budget
            .charge(cost(p))
            .map_err(|_| LiteralError::TooLarge)
    }

    fn constant(&mut self, p: Py) -> PResult<Parsed> {
        self.charge(&p)?;
        Ok((Node::Const(p), 1))
    }

    fn at_end_of_seq(&mut self) -> PResult<bool> {
        Ok(matches!(
            self.lx.peek()?,
            Tok::End | Tok::Op(')' | ']' | '}' | ':')
        ))
    }

    /// The whole value (eval input: an expression list, a bare `1, 2` being a tuple). A loop
    /// over a stack of open brackets: no recursion, however deep the value.
    fn top(&mut self) -> PResult<Parsed> {
        if *self.lx.peek()? == Tok::End {
            return Err(SYNTAX);
        }
        let mut stack = vec![Open {
            body: Body::Top(None),
            expr: Expr::default(),
        }];
        loop {
            // An operand of the innermost expression: signs, then an atom.
            let tok = self.lx.next()?;
            let mut atom = match tok {
                Tok::Op(c @ ('+' | '-')) => {
                    stack.last_mut().ok_or(SYNTAX)?.expr.sign(c)?;
                    continue;
                }
                Tok::Op(c @ ('(' | '[' | '{')) => {
                    let (close, empty) = match c {
                        '(' => (')', Py::Tuple(vec![])),
                        '[' => (']', Py::List(vec![])),
                        _ => ('}', Py::Dict(vec![])),
                    };
                    if self.eat(close)? {
                        (Node::Container(Ok(empty)), 1)
                    } else {
                        let body = match c {
                            '(' => Body::Paren(None),
                            '[' => Body::List(Seq::new(Kind::List)),
                            _ => Body::Brace(Brace::First),
                        };
                        stack.push(Open {
                            body,
                            expr: Expr::default(),
                        });
                        continue;
                    }
                }
                Tok::Num(s) => {
                    let p = parse_number(s).ok_or(SYNTAX)?;
                    self.constant(p)?
                }
                Tok::Str(Lit::Str(s)) => self.constant(Py::Str(s))?,
                Tok::Str(Lit::Bytes(b)) => self.constant(Py::Bytes(b))?,
                Tok::Str(Lit::FStr) => (Node::Bad, 1),
                Tok::Ellipsis => (Node::Const(Py::Ellipsis), 1),
                Tok::Name(n) => match n {
                    "True" => (Node::Const(Py::Bool(true)), 1),
                    "False" => (Node::Const(Py::Bool(false)), 1),
                    "None" => (Node::Const(Py::None), 1),
                    "set" if *self.lx.peek()? == Tok::Op('(') => {
                        self.lx.next()?;
                        if !self.eat(')')? {
                            return Err(SYNTAX);
                        }
                        (Node::Container(Ok(Py::Set(vec![]))), 1)
                    }
                    // Keywords are syntax errors; other names parse but do not evaluate
                    // (ValueError raised in order, so an earlier unhashable element still
                    // raises TypeError).
                    k if KEYWORDS.contains(&k) => return Err(SYNTAX),
                    _ => (Node::Bad, 1),
                },
                Tok::Op(_) | Tok::End => return Err(SYNTAX),
            };
            // The atom is complete; so may be its expression, and then its bracket, and so on.
            loop {
                // A call, subscript or attribute after an atom: never a literal.
                if matches!(self.lx.peek()?, Tok::Op('(' | '[')) {
                    return Err(SYNTAX);
                }
                let open = stack.last_mut().ok_or(SYNTAX)?;
                open.expr.operand(atom)?;
                if let Tok::Op(c @ ('+' | '-')) = *self.lx.peek()? {
                    self.lx.next()?;
                    open.expr.op = Some(c);
                    break;
                }
                let finished = open.expr.chain.take().ok_or(SYNTAX)?;
                match self.element(&mut open.body, finished)? {
                    Step::Next => break,
                    Step::Done(node) => return Ok(node),
                    Step::Closed(node) => {
                        stack.pop();
                        atom = node;
                    }
                }
            }
        }
    }

    /// A finished expression `e` in `body`, and the token after it.
    fn element(&mut self, body: &mut Body, e: Parsed) -> PResult<Step> {
        Ok(match body {
            Body::Top(seq) => {
                if self.eat(',')? {
                    let s = seq.get_or_insert_with(|| Seq::new(Kind::Tuple));
                    s.push(e)?;
                    if self.at_end_of_seq()? {
                        Step::Done(self.close(seq.take())?)
                    } else {
                        Step::Next
                    }
                } else {
                    match seq.take() {
                        Some(mut s) => {
                            s.push(e)?;
                            Step::Done(self.close(Some(s))?)
                        }
                        None => Step::Done(e),
                    }
                }
            }
            Body::Paren(seq) => {
                if self.eat(')')? {
                    match seq.take() {
                        // Parentheses alone make no node.
                        None => Step::Closed(e),
                        Some(mut s) => {
                            s.push(e)?;
                            Step::Closed(self.close(Some(s))?)
                        }
                    }
                } else if self.eat(',')? {
                    let s = seq.get_or_insert_with(|| Seq::new(Kind::Tuple));
                    s.push(e)?;
                    if self.eat(')')? {
                        Step::Closed(self.close(seq.take())?)
                    } else {
                        Step::Next
                    }
                } else {
                    return Err(SYNTAX);
                }
            }
            Body::List(seq) => {
                seq.push(e)?;
                self.after_item(seq, ']')?
            }
            Body::Brace(state) => match std::mem::replace(state, Brace::Taken) {
                Brace::First => {
                    if self.eat(':')? {
                        *state = Brace::Value(DictSeq::new(), e);
                        Step::Next
                    } else {
                        let mut s = Seq::new(Kind::Set);
                        s.push(e)?;
                        let step = self.after_item(&mut s, '}')?;
                        *state = Brace::Set(s);
                        step
                    }
                }
                Brace::Set(mut s) => {
                    s.push(e)?;
                    let step = self.after_item(&mut s, '}')?;
                    *state = Brace::Set(s);
                    step
                }
                Brace::Value(mut d, key) => {
                    d.push(key, e)?;
                    if self.eat(',')? {
                        if self.eat('}')? {
                            Step::Closed(d.finish(self)?)
                        } else {
                            *state = Brace::Key(d);
                            Step::Next
                        }
                    } else if self.eat('}')? {
                        Step::Closed(d.finish(self)?)
                    } else {
                        return Err(SYNTAX);
                    }
                }
                Brace::Key(d) => {
                    if !self.eat(':')? {
                        return Err(SYNTAX);
                    }
                    *state = Brace::Value(d, e);
                    Step::Next
                }
                Brace::Taken => return Err(SYNTAX),
            },
        })
    }

    /// After an element of a list or set: `close`, or `,` and then `close` or the next element.
    fn after_item(&mut self, seq: &mut Seq, close: char) -> PResult<Step> {
        let closed = self.eat(close)? || {
            if !self.eat(',')? {
                return Err(SYNTAX);
            }
            self.eat(close)?
        };
        if closed {
            let kind = seq.kind;
            let whole = std::mem::replace(seq, Seq::new(kind));
            Ok(Step::Closed(whole.finish(self)?))
        } else {
            Ok(Step::Next)
        }
    }

    fn close(&mut self, seq: Option<Seq>) -> PResult<Parsed> {
        seq.ok_or(SYNTAX)?.finish(self)
    }
}

/// `left op right` when `literal_eval` accepts it: a signed int or float and a complex number.
fn complex_sum(left: Node, op: char, right: Node) -> Option<Py> {
    let l = left.signed_number()?;
    let Py::Complex(rre, rim) = right.number()? else {
        return None;
    };
    let lf = match &l {
        Py::Int(i) => i.to_f64().unwrap_or(f64::INFINITY),
        Py::Float(f) => *f,
        _ => return None,
    };
    Some(if op == '-' {
        Py::Complex(lf - rre, 0.0 - rim)
    } else {
        Py::Complex(lf + rre, 0.0 + rim)
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tuple,
    List,
    Set,
}

/// A tuple, list or set being read: its elements converted as they come, until the first
/// error (later elements are still parsed, not converted, as `literal_eval` stops there).
struct Seq {
    kind: Kind,
    items: Result<Vec<Py>, LiteralError>,
    seen: HashSet<Key>,
    height: usize,
}

impl Seq {
    fn new(kind: Kind) -> Seq {
        Seq {
            kind,
            items: Ok(Vec::new()),
            seen: HashSet::new(),
            height: 1,
        }
    }

    fn push(&mut self, (node, height): Parsed) -> PResult<()> {
        self.height = self.height.max(deep(height + 1)?);
        let Ok(items) = &mut self.items else {
            return Ok(());
        };
        let p = match node.convert() {
            Ok(p) => p,
            Err(e) => {
                self.items = Err(e);
                return Ok(());
            }
        };
        if self.kind == Kind::Set {
            if let Err(e) = check_hashable(&p) {
                self.items = Err(e);
                return Ok(());
            }
            // The first of equal elements stays (1, 1.0 and True are one element).
            if let Some(k) = Key::of(&p) {
                if !self.seen.insert(k) {
                    return Ok(());
                }
            }
        }
        items.push(p);
        Ok(())
    }

    fn finish(self, p: &mut Parser<'_, '_>) -> PResult<Parsed> {
        let value = self.items.map(|items| match self.kind {
            Kind::Tuple => Py::Tuple(items),
            Kind::List => Py::List(items),
            Kind::Set => Py::Set(items),
        });
        if let Ok(v) = &value {
            p.charge(v)?;
        }
        Ok((Node::Container(value), self.height))
    }
}

/// A dict being read: keys and values converted pairwise (`dict(zip(keys, values))`), a key
/// seen again keeps its place and takes the later value.
struct DictSeq {
    pairs: Result<Vec<(Py, Py)>, LiteralError>,
    index: HashMap<Key, usize>,
    height: usize,
}

impl DictSeq {
    fn new() -> Self {
        DictSeq {
            pairs: Ok(Vec::new()),
            index: HashMap::new(),
            height: 1,
        }
    }

    fn push(&mut self, (k, kh): Parsed, (v, vh): Parsed) -> PResult<()> {
        self.height = self.height.max(deep(kh.max(vh) + 1)?);
        let Ok(pairs) = &mut self.pairs else {
            return Ok(());
        };
        let converted = k.convert().and_then(|k| {
            let v = v.convert()?;
            check_hashable(&k)?;
            Ok((k, v))
        });
        let (k, v) = match converted {
            Ok(kv) => kv,
            Err(e) => {
                self.pairs = Err(e);
                return Ok(());
            }
        };
        match Key::of(&k) {
            Some(key) => match self.index.get(&key) {
                Some(&i) => pairs[i].1 = v,
                None => {
                    self.index.insert(key, pairs.len());
                    pairs.push((k, v));
                }
            },
            None => pairs.push((k, v)),
        }
        Ok(())
    }

    fn finish(self, p: &mut Parser<'_, '_>) -> PResult<Parsed> {
        let value = self.pairs.map(Py::Dict);
        if let Ok(v) = &value {
            p.charge(v)?;
        }
        Ok((Node::Container(value), self.height))
    }
}

fn negate(p: Py) -> Py {
    match p {
        Py::Int(i) => Py::Int(-i),
        Py::Float(f) => Py::Float(-f),
        Py::Complex(re, im) => Py::Complex(-re, -im),
        other => other,
    }
}

fn check_hashable(p: &Py) -> Result<(), LiteralError> {
    match p {
        Py::List(_) => Err(LiteralError::Unhashable("list")),
        Py::Dict(_) => Err(LiteralError::Unhashable("dict")),
        Py::Set(_) => Err(LiteralError::Unhashable("set")),
        Py::Tuple(v) => v.iter().try_for_each(check_hashable),
        _ => Ok(()),
    }
}

/// A hashable literal as Python compares it: `1 == 1.0 == True == (1+0j)`, `-0.0 == 0.0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    None,
    Ellipsis,
    Str(String),
    Bytes(Vec<u8>),
    /// Any number equal to an integer (bools, integral floats and complex numbers) that fits
    /// 64 bits, without allocating; larger ones as `Int`.
    I64(i64),
    Int(BigInt),
    /// Other real numbers, by their bits (`-0.0` is integral, so never here).
    Float(u64),
    Complex(u64, u64),
    Tuple(Vec<Key>),
}

impl Key {
    /// `None` for what is equal to nothing, itself included (a NaN).
    fn of(p: &Py) -> Option<Key> {
        let int = |i: BigInt| match i64::try_from(&i) {
            Ok(n) => Key::I64(n),
            Err(_) => Key::Int(i),
        };
        let real = |f: f64| -> Option<Key> {
            if f.is_nan() {
                None
            } else if f.is_finite() && f.fract() == 0.0 {
                BigInt::from_f64(f).map(int)
            } else {
                Some(Key::Float(f.to_bits()))
            }
        };
        Some(match p {
            Py::None => Key::None,
            Py::Ellipsis => Key::Ellipsis,
            Py::Str(s) => Key::Str(s.clone()),
            Py::Bytes(b) => Key::Bytes(b.clone()),
            Py::Bool(b) => Key::I64(i64::from(*b)),
            Py::Int(i) => match i64::try_from(i) {
                Ok(n) => Key::I64(n),
                Err(_) => Key::Int(i.clone()),
            },
            Py::Float(f) => real(*f)?,
            Py::Complex(re, im) if *im == 0.0 => real(*re)?,
            Py::Complex(re, im) => {
                if re.is_nan() || im.is_nan() {
                    return None;
                }
                let zero = |f: f64| if f == 0.0 { 0u64 } else { f.to_bits() };
                Key::Complex(zero(*re), zero(*im))
            }
            Py::Tuple(v) => Key::Tuple(v.iter().map(Key::of).collect::<Option<_>>()?),
            Py::List(_) | Py::Set(_) | Py::Dict(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Result<Value, LiteralError> {
        parse_ini_value(s)
    }

    #[test]
    fn chains_of_signs_are_counted_not_nested() {
        // Python keeps these as text (ValueError), up to its parser's limit.
        let chain = format!("{}1", "-".repeat(900));
        assert_eq!(v(&chain), Ok(Value::Str(chain.clone())));
        assert_eq!(v("-1"), Ok(Value::Int((-1).into())));
        assert_eq!(v("--1"), Ok(Value::Str("--1".into())));
        for long in [
            format!("{}1", "-".repeat(100_000)),
            format!("{}1", "+-".repeat(50_000)),
            format!("1{}", "+1".repeat(100_000)),
            format!("[{}1]", "-".repeat(100_000)),
        ] {
            assert_eq!(v(&long), Err(LiteralError::TooDeep));
        }
    }

    #[test]
    fn brackets_nest_as_deep_as_python_allows() {
        let ok = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(matches!(v(&ok), Ok(Value::List(_))));
        let too_deep = format!("{}{}", "[".repeat(201), "]".repeat(201));
        assert_eq!(v(&too_deep), Ok(Value::Str(too_deep.clone())));
    }

    #[test]
    fn sets_and_dicts_deduplicate_by_hash() {
        // Quadratic deduplication would take minutes here; hashing takes well under a second.
        let n = 50_000;
        let set = format!(
            "{{{}}}",
            (0..n)
                .map(|i| (i % 1000).to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let started = std::time::Instant::now();
        let Ok(Value::List(items)) = v(&set) else {
            panic!("not a set")
        };
        assert_eq!(items.len(), 1000);
        assert!(started.elapsed().as_secs() < 15, "{:?}", started.elapsed());
        assert_eq!(
            v("{1, 1.0, True, (1+0j), -0.0, 0, 0.5, 'a', b'a', (1, 2), (1.0, 2)}"),
            Ok(Value::List(vec![
                Value::Int(1.into()),
                Value::Float(-0.0),
                Value::Float(0.5),
                Value::Str("a".into()),
                Value::Str("a".into()),
                Value::List(vec![Value::Int(1.into()), Value::Int(2.into())]),
            ]))
        );
        assert_eq!(
            v("{1: 'a', True: 'b', 1.0: 'c', 2: 'd'}"),
            Ok(Value::Dict(vec![
                (Value::Int(1.into()), Value::Str("c".into())),
                (Value::Int(2.into()), Value::Str("d".into())),
            ]))
        );
    }

    #[test]
    fn conversion_stops_at_the_first_error_in_python_order() {
        // A container under a sign is never converted: ValueError, not TypeError.
        assert_eq!(v("-[1, {[]}]"), Ok(Value::Str("-[1, {[]}]".into())));
        assert_eq!(v("[x, {[1]}]"), Ok(Value::Str("[x, {[1]}]".into())));
        assert_eq!(v("[{[1]}, x]"), Err(LiteralError::Unhashable("list")));
        // A syntax error anywhere wins over an evaluation error before it.
        assert_eq!(v("[{[1]}, )"), Ok(Value::Str("[{[1]}, )".into())));
    }

    #[test]
    fn memory_is_budgeted() {
        let big = format!("[{}]", "0,".repeat(100_000));
        let mut small = Budget::new(1 << 20);
        assert_eq!(
            parse_ini_value_within(&big, &mut small),
            Err(LiteralError::TooLarge)
        );
        assert!(parse_ini_value(&big).is_ok());
    }
}
