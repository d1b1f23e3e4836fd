//! Python's `ast.literal_eval` (CPython 3.11) on one INI value, followed by the type coercion of
//! Ansible's INI plugin (`_parse_recursive_coerce_types_and_tag`): tuples and sets become lists,
//! bytes become text, complex numbers and `...` become their text.

use crate::value::{python_float_repr, Value};
use num_bigint::BigInt;
use num_traits::{FromPrimitive, Num};

/// Why `literal_eval` did not return a value.
#[derive(Debug, Clone, PartialEq)]
pub enum LiteralError {
    /// `SyntaxError`/`ValueError`: Ansible keeps the raw text as a string.
    NotLiteral,
    /// `TypeError` (an unhashable set element or dict key): Ansible refuses the whole inventory.
    Unhashable(&'static str),
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
    match literal_eval(text) {
        Ok(py) => Ok(coerce(py)),
        Err(LiteralError::NotLiteral) => Ok(Value::Str(text.to_string())),
        Err(e) => Err(e),
    }
}

fn literal_eval(text: &str) -> Result<Py, LiteralError> {
    let src = text.trim_start_matches([' ', '\t']);
    let toks = tokenize(src).ok_or(LiteralError::NotLiteral)?;
    let mut p = Parser { toks, pos: 0 };
    let node = p.top()?;
    if p.pos != p.toks.len() {
        return Err(LiteralError::NotLiteral);
    }
    convert(node)
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
enum Tok {
    Num(String),
    /// Concatenated string literals: (is_bytes, content).
    Str(Lit),
    Name(String),
    Op(char),
    Ellipsis,
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Bytes(Vec<u8>),
    /// An f-string: never a literal.
    FStr,
}

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

/// Python's tokenizer on one logical line; `None` on anything it rejects or we do not need.
fn tokenize(src: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\x0c' => i += 1,
            '#' => break,
            '\0' => return None,
            '(' | '[' | '{' => {
                depth += 1;
                if depth >= MAX_NESTING {
                    return None;
                }
                out.push(Tok::Op(c));
                i += 1;
            }
            ')' | ']' | '}' => {
                depth = depth.checked_sub(1)?;
                out.push(Tok::Op(c));
                i += 1;
            }
            ',' | ':' | '+' | '-' => {
                out.push(Tok::Op(c));
                i += 1;
            }
            '.' if chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                let (tok, n) = number(&chars[i..]);
                out.push(Tok::Num(tok));
                i += n;
            }
            '.' if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') => {
                out.push(Tok::Ellipsis);
                i += 3;
            }
            '0'..='9' => {
                let (tok, n) = number(&chars[i..]);
                out.push(Tok::Num(tok));
                i += n;
            }
            '\'' | '"' => {
                let (lit, n) = string(&chars[i..], "")?;
                push_str(&mut out, lit)?;
                i += n;
            }
            c if is_id_start(c) => {
                let start = i;
                while i < chars.len() && is_id_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if i < chars.len() && (chars[i] == '\'' || chars[i] == '"') && is_prefix(&word) {
                    let (lit, n) = string(&chars[i..], &word.to_ascii_lowercase())?;
                    push_str(&mut out, lit)?;
                    i += n;
                } else {
                    out.push(Tok::Name(word));
                }
            }
            _ => return None,
        }
    }
    if depth != 0 {
        return None;
    }
    Some(out)
}

fn is_prefix(w: &str) -> bool {
    matches!(
        w.to_ascii_lowercase().as_str(),
        "r" | "u" | "b" | "f" | "br" | "rb" | "fr" | "rf"
    )
}

/// Adjacent string literals concatenate; bytes and text do not mix.
fn push_str(out: &mut Vec<Tok>, lit: Lit) -> Option<()> {
    if let Some(Tok::Str(prev)) = out.last_mut() {
        let merged = match (std::mem::replace(prev, Lit::FStr), lit) {
            (Lit::Str(mut a), Lit::Str(b)) => Lit::Str({
                a.push_str(&b);
                a
            }),
            (Lit::Bytes(mut a), Lit::Bytes(b)) => Lit::Bytes({
                a.extend(b);
                a
            }),
            (Lit::Bytes(_), Lit::Str(_)) | (Lit::Str(_), Lit::Bytes(_)) => return None,
            (Lit::FStr, Lit::Bytes(_)) | (Lit::Bytes(_), Lit::FStr) => return None,
            _ => Lit::FStr,
        };
        *prev = merged;
    } else {
        out.push(Tok::Str(lit));
    }
    Some(())
}

/// The longest run that could be one number token; validated later.
fn number(chars: &[char]) -> (String, usize) {
    let hex = chars.len() > 1 && chars[0] == '0' && matches!(chars[1], 'x' | 'X');
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let sign = (c == '+' || c == '-') && !hex && i > 0 && matches!(chars[i - 1], 'e' | 'E');
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' || sign {
            i += 1;
        } else {
            break;
        }
    }
    (chars[..i].iter().collect(), i)
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

/// A string literal starting at `chars[0]` (the quote); returns it and the characters consumed.
fn string(chars: &[char], prefix: &str) -> Option<(Lit, usize)> {
    let raw = prefix.contains('r');
    let bytes = prefix.contains('b');
    let fstr = prefix.contains('f');
    let q = chars[0];
    let triple = chars.len() >= 3 && chars[1] == q && chars[2] == q;
    let qlen = if triple { 3 } else { 1 };
    let mut i = qlen;
    let mut body: Vec<char> = Vec::new();
    loop {
        let c = *chars.get(i)?;
        if c == '\\' {
            let d = *chars.get(i + 1)?;
            body.push(c);
            body.push(d);
            i += 2;
            continue;
        }
        if c == q && (!triple || (chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q))) {
            i += qlen;
            break;
        }
        body.push(c);
        i += 1;
    }
    if fstr {
        return Some((Lit::FStr, i));
    }
    if bytes && body.iter().any(|c| !c.is_ascii()) {
        return None;
    }
    if raw {
        let s: String = body.into_iter().collect();
        return Some((
            if bytes {
                Lit::Bytes(s.into_bytes())
            } else {
                Lit::Str(s)
            },
            i,
        ));
    }
    let mut out: Vec<u32> = Vec::new();
    let mut j = 0;
    while j < body.len() {
        let c = body[j];
        if c != '\\' {
            out.push(c as u32);
            j += 1;
            continue;
        }
        let d = body[j + 1];
        j += 2;
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
        if let Some(s) = simple {
            out.push(s as u32);
            continue;
        }
        let hex = |n: usize, j: &mut usize| -> Option<u32> {
            let digits: String = body.get(*j..*j + n)?.iter().collect();
            if digits.len() != n || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            *j += n;
            u32::from_str_radix(&digits, 16).ok()
        };
        match d {
            '0'..='7' => {
                let mut v = d as u32 - '0' as u32;
                let mut k = 0;
                while k < 2 && j < body.len() && ('0'..='7').contains(&body[j]) {
                    v = v * 8 + (body[j] as u32 - '0' as u32);
                    j += 1;
                    k += 1;
                }
                if bytes && v > 0xff {
                    return None;
                }
                out.push(v);
            }
            'x' => out.push(hex(2, &mut j)?),
            'u' if !bytes => out.push(hex(4, &mut j)?),
            'U' if !bytes => {
                let v = hex(8, &mut j)?;
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
    let lit = if bytes {
        Lit::Bytes(out.into_iter().map(|v| v as u8).collect())
    } else {
        Lit::Str(
            out.into_iter()
                .map(|v| char::from_u32(v).unwrap_or('\u{fffd}'))
                .collect(),
        )
    };
    Some((lit, i))
}

// ---------------------------------------------------------------- syntax

#[derive(Debug)]
enum Node {
    Const(Py),
    /// A literal whose evaluation fails (name, call, f-string...): ValueError when converted.
    Bad,
    Tuple(Vec<Node>),
    List(Vec<Node>),
    Set(Vec<Node>),
    Dict(Vec<(Node, Node)>),
    EmptySet,
    Unary(char, Box<Node>),
    Bin(Box<Node>, char, Box<Node>),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

type PResult<T> = Result<T, LiteralError>;
const SYNTAX: LiteralError = LiteralError::NotLiteral;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Op(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn at_end_of_seq(&self) -> bool {
        matches!(self.peek(), None | Some(Tok::Op(')' | ']' | '}' | ':')))
    }
    /// eval input: an expression list (a bare `1, 2` is a tuple).
    fn top(&mut self) -> PResult<Node> {
        if self.peek().is_none() {
            return Err(SYNTAX);
        }
        let first = self.expr()?;
        if !self.eat(',') {
            return Ok(first);
        }
        let mut items = vec![first];
        while !self.at_end_of_seq() {
            items.push(self.expr()?);
            if !self.eat(',') {
                break;
            }
        }
        Ok(Node::Tuple(items))
    }
    /// arith_expr: factor (('+'|'-') factor)*
    fn expr(&mut self) -> PResult<Node> {
        let mut left = self.factor()?;
        while let Some(Tok::Op(op @ ('+' | '-'))) = self.peek() {
            let op = *op;
            self.pos += 1;
            let right = self.factor()?;
            left = Node::Bin(Box::new(left), op, Box::new(right));
        }
        Ok(left)
    }
    fn factor(&mut self) -> PResult<Node> {
        if let Some(Tok::Op(c @ ('+' | '-'))) = self.peek() {
            let c = *c;
            self.pos += 1;
            let operand = self.factor()?;
            return Ok(Node::Unary(c, Box::new(operand)));
        }
        self.atom()
    }
    fn atom(&mut self) -> PResult<Node> {
        let tok = self.peek().cloned().ok_or(SYNTAX)?;
        self.pos += 1;
        let node = match tok {
            Tok::Num(s) => Node::Const(parse_number(&s).ok_or(SYNTAX)?),
            Tok::Str(Lit::Str(s)) => Node::Const(Py::Str(s)),
            Tok::Str(Lit::Bytes(b)) => Node::Const(Py::Bytes(b)),
            Tok::Str(Lit::FStr) => Node::Bad,
            Tok::Ellipsis => Node::Const(Py::Ellipsis),
            Tok::Name(n) => match n.as_str() {
                "True" => Node::Const(Py::Bool(true)),
                "False" => Node::Const(Py::Bool(false)),
                "None" => Node::Const(Py::None),
                "set" if self.peek() == Some(&Tok::Op('(')) => {
                    self.pos += 1;
                    if self.eat(')') {
                        Node::EmptySet
                    } else {
                        return Err(SYNTAX);
                    }
                }
                // Keywords are syntax errors; other names parse but do not evaluate (ValueError
                // raised in order, so an earlier unhashable element still raises TypeError).
                k if KEYWORDS.contains(&k) => return Err(SYNTAX),
                _ => Node::Bad,
            },
            Tok::Op('(') => {
                if self.eat(')') {
                    Node::Tuple(vec![])
                } else {
                    let first = self.expr()?;
                    if self.eat(')') {
                        first
                    } else {
                        let items = self.seq_rest(first, ')')?;
                        Node::Tuple(items)
                    }
                }
            }
            Tok::Op('[') => {
                if self.eat(']') {
                    Node::List(vec![])
                } else {
                    let first = self.expr()?;
                    if self.eat(']') {
                        Node::List(vec![first])
                    } else {
                        Node::List(self.seq_rest(first, ']')?)
                    }
                }
            }
            Tok::Op('{') => {
                if self.eat('}') {
                    Node::Dict(vec![])
                } else {
                    let first = self.expr()?;
                    if self.eat(':') {
                        let v = self.expr()?;
                        let mut kv = vec![(first, v)];
                        while self.eat(',') {
                            if self.peek() == Some(&Tok::Op('}')) {
                                break;
                            }
                            let k = self.expr()?;
                            if !self.eat(':') {
                                return Err(SYNTAX);
                            }
                            kv.push((k, self.expr()?));
                        }
                        if !self.eat('}') {
                            return Err(SYNTAX);
                        }
                        Node::Dict(kv)
                    } else if self.eat('}') {
                        Node::Set(vec![first])
                    } else {
                        Node::Set(self.seq_rest(first, '}')?)
                    }
                }
            }
            Tok::Op(_) => return Err(SYNTAX),
        };
        // A call, subscript or attribute after an atom: never a literal.
        if matches!(self.peek(), Some(Tok::Op('(' | '['))) {
            return Err(SYNTAX);
        }
        Ok(node)
    }
    /// After the first element: requires a comma, then elements with an optional trailing comma.
    fn seq_rest(&mut self, first: Node, close: char) -> PResult<Vec<Node>> {
        if !self.eat(',') {
            return Err(SYNTAX);
        }
        let mut items = vec![first];
        loop {
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.expr()?);
            if self.eat(close) {
                return Ok(items);
            }
            if !self.eat(',') {
                return Err(SYNTAX);
            }
        }
    }
}

// ---------------------------------------------------------------- evaluation

fn convert(node: Node) -> Result<Py, LiteralError> {
    match node {
        Node::Const(p) => Ok(p),
        Node::Bad => Err(SYNTAX),
        Node::Tuple(v) => Ok(Py::Tuple(
            v.into_iter().map(convert).collect::<Result<_, _>>()?,
        )),
        Node::List(v) => Ok(Py::List(
            v.into_iter().map(convert).collect::<Result<_, _>>()?,
        )),
        Node::EmptySet => Ok(Py::Set(vec![])),
        Node::Set(v) => {
            let mut out: Vec<Py> = Vec::new();
            for n in v {
                let p = convert(n)?;
                check_hashable(&p)?;
                if !out.iter().any(|q| py_eq(q, &p)) {
                    out.push(p);
                }
            }
            Ok(Py::Set(out))
        }
        Node::Dict(kv) => {
            let mut out: Vec<(Py, Py)> = Vec::new();
            for (k, v) in kv {
                let k = convert(k)?;
                let v = convert(v)?;
                check_hashable(&k)?;
                match out.iter_mut().find(|(q, _)| py_eq(q, &k)) {
                    Some(slot) => slot.1 = v,
                    None => out.push((k, v)),
                }
            }
            Ok(Py::Dict(out))
        }
        Node::Bin(l, op, r) => {
            let l = signed_num(*l)?;
            let r = num(*r)?;
            match (&l, r) {
                (Py::Int(_) | Py::Float(_), Py::Complex(rre, rim)) => {
                    let lf = to_f64(&l);
                    Ok(if op == '-' {
                        Py::Complex(lf - rre, 0.0 - rim)
                    } else {
                        Py::Complex(lf + rre, 0.0 + rim)
                    })
                }
                _ => Err(SYNTAX),
            }
        }
        other => signed_num(other),
    }
}

fn num(node: Node) -> Result<Py, LiteralError> {
    match node {
        Node::Const(p @ (Py::Int(_) | Py::Float(_) | Py::Complex(..))) => Ok(p),
        _ => Err(SYNTAX),
    }
}

fn signed_num(node: Node) -> Result<Py, LiteralError> {
    match node {
        Node::Unary(op, operand) => {
            let v = num(*operand)?;
            Ok(if op == '-' { negate(v) } else { v })
        }
        other => num(other),
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

fn to_f64(p: &Py) -> f64 {
    match p {
        Py::Int(i) => i.to_string().parse().unwrap_or(f64::INFINITY),
        Py::Float(f) => *f,
        _ => 0.0,
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

/// Python `==` between hashable literals (1 == 1.0 == True).
fn py_eq(a: &Py, b: &Py) -> bool {
    enum N {
        I(BigInt),
        F(f64, f64),
    }
    fn numeric(p: &Py) -> Option<N> {
        match p {
            Py::Bool(b) => Some(N::I(BigInt::from(*b as u8))),
            Py::Int(i) => Some(N::I(i.clone())),
            Py::Float(f) => Some(N::F(*f, 0.0)),
            Py::Complex(re, im) => Some(N::F(*re, *im)),
            _ => None,
        }
    }
    fn int_eq_float(x: &BigInt, r: f64, i: f64) -> bool {
        i == 0.0
            && r.is_finite()
            && r.fract() == 0.0
            && BigInt::from_f64(r).is_some_and(|v| &v == x)
    }
    match (a, b) {
        (Py::None, Py::None) | (Py::Ellipsis, Py::Ellipsis) => true,
        (Py::Str(x), Py::Str(y)) => x == y,
        (Py::Bytes(x), Py::Bytes(y)) => x == y,
        (Py::Tuple(x), Py::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        _ => match (numeric(a), numeric(b)) {
            (Some(N::I(x)), Some(N::I(y))) => x == y,
            (Some(N::I(x)), Some(N::F(r, i))) | (Some(N::F(r, i)), Some(N::I(x))) => {
                int_eq_float(&x, r, i)
            }
            (Some(N::F(ar, ai)), Some(N::F(br, bi))) => ar == br && ai == bi,
            _ => false,
        },
    }
}
