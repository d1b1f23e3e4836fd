//! INI values against Ansible's own `_parse_value` (Python's `ast.literal_eval` plus the INI
//! plugin's coercion): a fixed list of tricky values and a few thousand generated ones, all sent
//! to one Python process. Skipped only where ansible-core is not importable and `CI` is unset.

use metis_core::inventory::literal::{parse_ini_value, LiteralError};
use metis_core::value::{python_float_repr, Value};
use serde_json::{json, Value as Json};
use std::io::Write;
use std::process::{Command, Stdio};

const PY: &str = r#"
import json, sys, math, warnings
warnings.simplefilter("ignore")
from ansible.plugins.inventory.ini import InventoryModule
from ansible._internal._datatag._tags import Origin
m = InventoryModule()
m._origin = Origin(path="/x.ini", line_num=1)
def canon(v):
    if v is None: return None
    if isinstance(v, bool): return {"bool": v}
    if isinstance(v, int): return {"int": str(v)}
    if isinstance(v, float): return {"float": repr(v)}
    if isinstance(v, str): return {"str": v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")}
    if isinstance(v, tuple): return {"tuple": [canon(x) for x in v]}
    if isinstance(v, list): return [canon(x) for x in v]
    if isinstance(v, dict): return {"dict": [[canon(k), canon(x)] for k, x in v.items()]}
    return {"other": repr(v)}
for line in sys.stdin.read().split("\n\x00\n"):
    if not line: continue
    src = json.loads(line)
    try:
        out = canon(m._parse_value(src))
    except Exception as e:
        out = {"error": type(e).__name__}
    print(json.dumps(out, separators=(",", ":"), ensure_ascii=False))
"#;

fn canon(v: &Value) -> Json {
    match v {
        Value::None => Json::Null,
        Value::Bool(b) => json!({ "bool": b }),
        Value::Int(i) => json!({ "int": i.to_string() }),
        Value::Float(f) => json!({ "float": python_float_repr(*f) }),
        Value::Str(s) => json!({ "str": s }),
        Value::Tuple(v) => json!({ "tuple": v.iter().map(canon).collect::<Vec<_>>() }),
        Value::List(v) | Value::Set(v) => Json::Array(v.iter().map(canon).collect()),
        Value::Dict(kv) => {
            json!({ "dict": kv.iter().map(|(k, v)| json!([canon(k), canon(v)])).collect::<Vec<_>>() })
        }
    }
}

const FIXED: &[&str] = &[
    "1",
    "-1",
    "+1",
    "--1",
    "- 1",
    "0",
    "00",
    "007",
    "0_0",
    "1_000",
    "1__0",
    "1_",
    "0x1F",
    "0X_ff",
    "0o17",
    "0b101",
    "0b2",
    "0x",
    "123456789012345678901234567890",
    "-0x10",
    "1.5",
    "1.",
    ".5",
    "1e5",
    "1E-3",
    "1e",
    "1e+",
    "-0.0",
    "1_0.5",
    "1e1_0",
    "1e999",
    "-1e999",
    "1j",
    "1J",
    "1+2j",
    "1-2j",
    "-1-2j",
    "1+-2j",
    "1j+1",
    "2.5j",
    "0j",
    "-0j",
    "1+0j",
    "True",
    "False",
    "None",
    "true",
    "none",
    "...",
    "....",
    "'a'",
    "\"a\"",
    "'a' 'b'",
    "'a''b'",
    "'''x'''",
    "\"\"\"y\"\"\"",
    "'a",
    "'\\n\\t\\x41\\101\\0'",
    "'\\x4'",
    "'\\u00e9\\U0001F680'",
    "'\\q'",
    "r'\\n'",
    "R'a\\'b'",
    "b'x'",
    "b'x' 'y'",
    "u'x'",
    "f'x'",
    "rb'\\x'",
    "'x' # c",
    "1 # c",
    "[1, 2]",
    "[1, 2,]",
    "[,]",
    "(1)",
    "(1,)",
    "()",
    "1, 2",
    "1,",
    "{}",
    "{1}",
    "{1, 1.0, True}",
    "{True, 1}",
    "{'a': 1, 'a': 2}",
    "{1: 'a', True: 'b', 1.0: 'c'}",
    "{None: 1, 1.5: 2}",
    "{(1, 2): 3}",
    "{(1, [2]): 3}",
    "{[1]: 2}",
    "{[1]}",
    "{{}}",
    "set()",
    "set([1])",
    "frozenset()",
    "[set()]",
    "{'a': [1, {'b': (2, 3)}]}",
    "[1, x]",
    "[x, {[1]}]",
    "[{[1]}, x]",
    "-(1)",
    "-(1,)",
    "+True",
    "-True",
    "1+2",
    "a b",
    "",
    " ",
    "  5",
    "\t5",
    "5  ",
    "x=1",
    "{**a}",
    "[*a]",
    "'a' f'b'",
    "1if 1 else 2",
    "not 1",
    "[[[[1]]]]",
    "'\u{4e2d}\u{6587}'",
    "\u{4e2d}\u{6587}",
    "0777",
    "0.0.0.0",
    "10.0.0.1",
    "1:2",
    "{1:2}",
    "{1:2,}",
    "{1:2,,}",
    "{:}",
    "{1:}",
    "['a' 'b', 'c']",
    "0xFFFFFFFFFFFFFFFFFFFF",
    "1e308",
    "1e-400",
    "0.1",
    "2.5e+3",
    "3.14159265358979",
    "1e16",
    "123.456e-7",
    "b'\\xff'",
    "'\\N{DASH}'",
    "(((1)))",
    "((1,),)",
    "[1 2]",
    "1 2",
    "'a' 1",
    "[]]",
    "[[]",
];

/// A small deterministic generator of INI-value-like strings.
fn generated(n: usize) -> Vec<String> {
    const PIECES: &[&str] = &[
        "1", "0", "-", "+", "_", "2", "x", "f", "e", "j", ".", "0x", "0o", "0b", "9", "'", "\"",
        "\\", "b", "r", "u", "[", "]", "(", ")", "{", "}", ",", ":", " ", "#", "True", "None",
        "set()", "...", "1.5", "'s'", "7", "a", "=", "\u{e9}",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let len = (next() % 8) as usize + 1;
            (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect()
        })
        .collect()
}

fn python_with_ansible() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import ansible.plugins.inventory.ini"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "ansible-core must be importable by python3 in CI"
        );
        eprintln!(
            "SKIPPED: python3 cannot import ansible; install ansible-core to run this oracle test"
        );
    }
    ok
}

#[test]
fn values_match_ansible_parse_value() {
    let mut inputs: Vec<String> = FIXED.iter().map(|s| s.to_string()).collect();
    inputs.extend(generated(3000));
    // Deep, long and large values: Python nests them, or keeps them as text, up to its limits.
    inputs.extend([
        format!("{}{}", "[".repeat(200), "]".repeat(200)),
        format!("{}{}", "[".repeat(201), "]".repeat(201)),
        format!("{}1{}", "(".repeat(200), ")".repeat(200)),
        format!("{}1", "-".repeat(900)),
        format!("{}1", "+-".repeat(450)),
        format!("1{}", "+1j".repeat(900)),
        format!("{}{{1: 2}}{}", "{'k': ".repeat(150), "}".repeat(150)),
        format!(
            "{{{}}}",
            (0..5000)
                .map(|i| (i % 100).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!(
            "{{{}}}",
            (0..5000)
                .map(|i| format!("{}: {i}", i % 7))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "-[1, {[]}]".to_string(),
        "[1, -{[]}]".to_string(),
        "{1: [], 1.0: 2, True: 3}".to_string(),
        "{(1, 2.0): 1, (1.0, 2): 2}".to_string(),
        "{0.0, -0.0, 0j, False}".to_string(),
        "[1e999, 1e999j, -1e999+1e999j]".to_string(),
        "(1+2j) + 3j".to_string(),
        "1 + (2j)".to_string(),
        "-(1)".to_string(),
        "[(1)]".to_string(),
        r#"'''a''' "b" r'c'"#.to_string(),
        "'a' b'b'".to_string(),
    ]);
    // Python would hold lone surrogates and non-UTF-8 bytes that Rust strings cannot: not compared.
    if !python_with_ansible() {
        return;
    }
    let mut child = Command::new("python3")
        .args(["-c", PY])
        .env("PYTHONHASHSEED", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut payload = String::new();
    for i in &inputs {
        payload.push_str(&serde_json::to_string(i).expect("json"));
        payload.push_str("\n\u{0}\n");
    }
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(payload.as_bytes()));
    let out = child.wait_with_output().expect("python output");
    writer.join().expect("writer").expect("write");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout)
        .expect("utf8")
        .lines()
        .collect();
    assert_eq!(lines.len(), inputs.len());
    let mut failures = Vec::new();
    for (src, line) in inputs.iter().zip(lines) {
        // Compared as text: the deepest values nest deeper than serde_json reads.
        let expected = line;
        let got = match parse_ini_value(src) {
            Ok(v) => canon(&v),
            Err(LiteralError::Unhashable(_)) => json!({ "error": "TypeError" }),
            Err(LiteralError::NotLiteral) => json!({ "error": "NotLiteral" }),
            Err(e) => json!({ "error": format!("{e:?}") }),
        };
        // Values we cannot represent exactly: bytes with invalid UTF-8, lone surrogates, \N{...}.
        let unrepresentable = src.contains("\\x") && src.contains('b')
            || src.contains("\\N")
            || expected.contains('\u{fffd}');
        let got = serde_json::to_string(&got).expect("json");
        if got != expected && !unrepresentable {
            failures.push(format!("{src:?}: ours {got} / ansible {expected}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
