//! Values as Ansible holds them after reading an inventory: the result of Python's
//! `ast.literal_eval` on an INI value, or a JSON value from `ansible-inventory --list`.

use num_bigint::BigInt;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    /// Python ints have no size limit.
    Int(BigInt),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    Set(Vec<Value>),
    /// Insertion-ordered, as Python dicts are. Keys may be any hashable literal.
    Dict(Vec<(Value, Value)>),
}

impl Value {
    /// Python's type name, for messages ("expected int, found str").
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Set(_) => "set",
            Value::Dict(_) => "dict",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An int that fits in i64 (bool is not an int here, unlike Python).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => i64::try_from(i).ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Elements of a list or tuple.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// The value as text the way Ansible/Jinja would print a scalar into a template
    /// (`str(value)` in Python): used where a string is expected but Ansible accepted anything.
    pub fn to_python_str(&self) -> String {
        match self {
            Value::None => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(i) => int_text(i),
            Value::Float(f) => python_float_repr(*f),
            Value::Str(s) => s.clone(),
            other => other.python_repr(),
        }
    }

    /// Python's `repr()`: what `str()` of a container shows for its elements.
    pub fn python_repr(&self) -> String {
        let join = |items: &[Value]| {
            items
                .iter()
                .map(Value::python_repr)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Value::Str(s) => python_str_repr(s),
            Value::List(items) => format!("[{}]", join(items)),
            Value::Tuple(items) if items.len() == 1 => format!("({},)", join(items)),
            Value::Tuple(items) => format!("({})", join(items)),
            Value::Set(items) if items.is_empty() => "set()".into(),
            Value::Set(items) => format!("{{{}}}", join(items)),
            Value::Dict(pairs) => {
                let pairs: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.python_repr(), v.python_repr()))
                    .collect();
                format!("{{{}}}", pairs.join(", "))
            }
            scalar => scalar.to_python_str(),
        }
    }
}

/// Most decimal digits an int is written with (Python refuses to write longer ones).
pub const MAX_INT_DIGITS: usize = 4_300;

/// An int in decimal, as Python writes it; past [`MAX_INT_DIGITS`] digits (which Python
/// refuses to write, and which would take quadratic time), `<int of N bits>`.
pub fn int_text(i: &BigInt) -> String {
    // Past 14,300 bits an int has more than 4,300 digits; below, writing it is cheap.
    if i.bits() <= 14_300 {
        let text = i.to_string();
        if text.trim_start_matches('-').len() <= MAX_INT_DIGITS {
            return text;
        }
    }
    format!("<int of {} bits>", i.bits())
}

/// Python's `repr(str)`: single quotes unless the text has a single quote and no double one.
fn python_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr(float)`: shortest round-trip digits, `inf`, `nan`, exponent form outside 1e-4..1e16.
pub fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        // Rust's `{:e}` gives shortest digits too: 1e100 -> "1e100"; Python writes "1e+100".
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let s = format!("{f}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_str_matches_python() {
        let v = Value::List(vec![
            Value::Str("a'b".into()),
            Value::Int(1.into()),
            Value::Tuple(vec![Value::None]),
            Value::Dict(vec![(Value::Str("k".into()), Value::Bool(true))]),
            Value::Set(vec![]),
            Value::Str("x\ny".into()),
        ]);
        assert_eq!(
            v.to_python_str(),
            r#"["a'b", 1, (None,), {'k': True}, set(), 'x\ny']"#
        );
    }

    #[test]
    fn float_repr_matches_python() {
        assert_eq!(python_float_repr(1.5), "1.5");
        assert_eq!(python_float_repr(3.0), "3.0");
        assert_eq!(python_float_repr(1e100), "1e+100");
        assert_eq!(python_float_repr(1e-5), "1e-05");
        assert_eq!(python_float_repr(0.0001), "0.0001");
        assert_eq!(python_float_repr(-0.0), "-0.0");
        assert_eq!(python_float_repr(f64::INFINITY), "inf");
    }
}
