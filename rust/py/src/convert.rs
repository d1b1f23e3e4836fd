//! Python objects <-> `metis_core::Value`, and Ansible's resolved inventory data.

use crate::errors::{invalid_type, invalid_value};
use indexmap::IndexMap;
use metis_core::Value;
use num_bigint::BigInt;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PyMapping, PySet,
    PyString, PyTuple,
};

/// Deeper nesting than any inventory needs; guards against self-referencing containers.
const MAX_DEPTH: usize = 64;

/// Where in the input a value sits, for messages: `hostvars['h1']['ports'][2]`.
pub struct Path(Vec<String>);

impl Path {
    pub fn new(root: &str) -> Self {
        Path(vec![root.to_string()])
    }
    fn push_key(&mut self, key: &Bound<'_, PyAny>) {
        let shown = key
            .repr()
            .map(|r| r.to_string())
            .unwrap_or_else(|_| "?".into());
        self.0.push(format!("[{shown}]"));
    }
    fn push_index(&mut self, i: usize) {
        self.0.push(format!("[{i}]"));
    }
    fn pop(&mut self) {
        self.0.pop();
    }
    fn show(&self) -> String {
        self.0.concat()
    }
}

/// An exception raised by the caller's own code (a container's `__iter__`, `items()` or
/// `__getitem__`) while reading `what` at `path`: an `InvalidValueError` naming where, with the
/// original as its `__cause__`. Its message is shown unless the path names a secret.
fn raised(py: Python<'_>, path: &Path, what: &str, e: PyErr) -> PyErr {
    let kind = e
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an exception".into());
    let shown = if metis_core::secrets::mentions_secret(&path.show()) {
        String::new()
    } else {
        let msg = e.value(py).str().map(|m| m.to_string()).unwrap_or_default();
        if msg.is_empty() {
            String::new()
        } else {
            format!(": {}", metis_core::diag::shorten(&msg, 200))
        }
    };
    let err = invalid_value(py, format!("{}: {what} raised {kind}{shown}", path.show()));
    err.set_cause(py, Some(e));
    err
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Text of a `str` (or subclass, such as Ansible's `AnsibleUnsafeText`).
fn text(obj: &Bound<'_, PyString>, path: &Path) -> PyResult<String> {
    match obj.to_str() {
        Ok(s) => Ok(s.to_string()),
        Err(_) => Err(invalid_value(
            obj.py(),
            format!(
                "{}: the string is not valid Unicode (lone surrogate)",
                path.show()
            ),
        )),
    }
}

/// Converts a Python value as Ansible holds it into a `Value`. Containers that are subclasses
/// (Ansible's lazy templating dicts and lists) are read through their Python methods so that
/// their own logic applies.
pub fn to_value(obj: &Bound<'_, PyAny>, path: &mut Path, depth: usize) -> PyResult<Value> {
    let py = obj.py();
    if depth > MAX_DEPTH {
        return Err(invalid_value(
            py,
            format!(
                "{}: nested more than {MAX_DEPTH} levels deep (a container that contains itself?)",
                path.show()
            ),
        ));
    }
    if obj.is_none() {
        return Ok(Value::None);
    }
    if let Ok(b) = obj.downcast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::Int(BigInt::from(i)));
        }
        return Ok(Value::Int(obj.extract::<BigInt>()?));
    }
    if let Ok(f) = obj.downcast::<PyFloat>() {
        return Ok(Value::Float(f.value()));
    }
    if let Ok(s) = obj.downcast::<PyString>() {
        return Ok(Value::Str(text(s, path)?));
    }
    if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
        let bytes: Vec<u8> = obj.extract()?;
        return String::from_utf8(bytes).map(Value::Str).map_err(|e| {
            invalid_value(
                py,
                format!(
                    "{}: bytes that are not UTF-8 (invalid byte at offset {})",
                    path.show(),
                    e.utf8_error().valid_up_to()
                ),
            )
        });
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let items = seq_items(obj, path, depth)?;
        return Ok(if obj.is_instance_of::<PyTuple>() {
            Value::Tuple(items)
        } else {
            Value::List(items)
        });
    }
    if obj.is_instance_of::<PySet>() || obj.is_instance_of::<PyFrozenSet>() {
        return Ok(Value::Set(seq_items(obj, path, depth)?));
    }
    if let Ok(map) = obj.downcast::<PyMapping>() {
        let mut out = Vec::new();
        for pair in map_items(map, path)? {
            let (k, v) = pair;
            let key = to_value(&k, path, depth + 1)?;
            path.push_key(&k);
            let value = to_value(&v, path, depth + 1)?;
            path.pop();
            out.push((key, value));
        }
        return Ok(Value::Dict(out));
    }
    Err(invalid_type(
        py,
        format!(
            "{}: cannot use a value of type {} (expected str, int, float, bool, None, list, tuple, set or dict)",
            path.show(),
            type_name(obj)
        ),
    ))
}

fn seq_items(obj: &Bound<'_, PyAny>, path: &mut Path, depth: usize) -> PyResult<Vec<Value>> {
    let py = obj.py();
    let mut out = Vec::new();
    let iter = obj
        .try_iter()
        .map_err(|e| raised(py, path, "iterating the container", e))?;
    for (i, item) in iter.enumerate() {
        path.push_index(i);
        let item = item.map_err(|e| raised(py, path, "iterating the container", e))?;
        out.push(to_value(&item, path, depth + 1)?);
        path.pop();
    }
    Ok(out)
}

type Pairs<'py> = Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>;

/// `(key, value)` pairs of a mapping: a plain dict directly, anything else through `.items()`
/// (whatever that raises, or yields that is not a pair, is an `InvalidValueError` at `path`).
fn map_items<'py>(map: &Bound<'py, PyMapping>, path: &Path) -> PyResult<Pairs<'py>> {
    let py = map.py();
    if let Ok(d) = map.downcast_exact::<PyDict>() {
        return Ok(d.iter().collect());
    }
    let items = map
        .items()
        .map_err(|e| raised(py, path, "items() of the mapping", e))?;
    items
        .iter()
        .map(|pair| {
            pair.extract::<(Bound<'py, PyAny>, Bound<'py, PyAny>)>()
                .map_err(|e| raised(py, path, "an item of items()", e))
        })
        .collect()
}

/// A `str` (subclasses included), or a clear `InvalidTypeError` naming where it was expected.
fn key_str(obj: &Bound<'_, PyAny>, what: &str, path: &Path) -> PyResult<String> {
    match obj.downcast::<PyString>() {
        Ok(s) => text(s, path),
        Err(_) => Err(invalid_type(
            obj.py(),
            format!(
                "{}: {what} must be a str, not {}",
                path.show(),
                type_name(obj)
            ),
        )),
    }
}

fn mapping<'a, 'py>(
    obj: &'a Bound<'py, PyAny>,
    path: &Path,
) -> PyResult<&'a Bound<'py, PyMapping>> {
    obj.downcast::<PyMapping>().map_err(|_| {
        invalid_type(
            obj.py(),
            format!("{} must be a dict, not {}", path.show(), type_name(obj)),
        )
    })
}

/// Ansible's view of the inventory as plugins get it: `groups` (group -> host names) and
/// `hostvars` (host -> variables, already merged), plus `raw` (optional, host -> variable -> the
/// text as written) for the variables whose value Ansible evaluated (a Jinja template) or
/// decrypted (Ansible Vault ciphertext, starting with `$ANSIBLE_VAULT`): what was written
/// decides the "as written" checks (plaintext secrets), the value every other check.
pub struct Resolved {
    pub groups: IndexMap<String, Vec<String>>,
    pub hostvars: IndexMap<String, IndexMap<String, Value>>,
    pub raw: IndexMap<String, IndexMap<String, String>>,
}

/// Reads `{"groups": {name: [hosts]}, "hostvars": {host: {var: value}}, "raw": {host: {var: str}}}`
/// (`raw` optional).
pub fn resolved(obj: &Bound<'_, PyAny>) -> PyResult<Resolved> {
    let py = obj.py();
    let top = mapping(obj, &Path::new("inventory"))?;
    let get = |key: &str| -> PyResult<Bound<'_, PyAny>> {
        match top.get_item(key) {
            Ok(v) => Ok(v),
            Err(e) if e.is_instance_of::<pyo3::exceptions::PyKeyError>(py) => Err(invalid_value(
                py,
                format!("inventory data has no {key:?} key (expected a dict with \"groups\" and \"hostvars\")"),
            )),
            Err(e) => Err(raised(py, &Path::new("inventory"), &format!("reading {key:?}"), e)),
        }
    };

    let mut path = Path::new("groups");
    let groups_obj = get("groups")?;
    let mut groups = IndexMap::new();
    for (name, hosts) in map_items(mapping(&groups_obj, &path)?, &path)? {
        let name = key_str(&name, "a group name", &path)?;
        path.0.push(format!("[{name:?}]"));
        if hosts.is_instance_of::<PyString>() || hosts.downcast::<PyMapping>().is_ok() {
            return Err(invalid_type(
                py,
                format!(
                    "{} must be a list of host names, not {}",
                    path.show(),
                    type_name(&hosts)
                ),
            ));
        }
        let iter = hosts.try_iter().map_err(|e| {
            if e.is_instance_of::<pyo3::exceptions::PyTypeError>(py) {
                invalid_type(
                    py,
                    format!(
                        "{} must be a list of host names, not {}",
                        path.show(),
                        type_name(&hosts)
                    ),
                )
            } else {
                raised(py, &path, "iterating the host list", e)
            }
        })?;
        let mut list = Vec::new();
        for h in iter {
            let h = h.map_err(|e| raised(py, &path, "iterating the host list", e))?;
            list.push(key_str(&h, "a host name", &path)?);
        }
        path.pop();
        groups.insert(name, list);
    }

    let hostvars_obj = get("hostvars")?;
    let hostvars = host_var_map(&hostvars_obj, &mut Path::new("hostvars"), |v, path| {
        to_value(v, path, 0)
    })?;

    let raw_obj = match top.get_item("raw") {
        Ok(v) if !v.is_none() => Some(v),
        Ok(_) => None,
        Err(e) if e.is_instance_of::<pyo3::exceptions::PyKeyError>(py) => None,
        Err(e) => return Err(raised(py, &Path::new("inventory"), "reading \"raw\"", e)),
    };
    let raw = match raw_obj {
        Some(raw_obj) => host_var_map(&raw_obj, &mut Path::new("raw"), |v, path| {
            key_str(v, "the text as written", path)
        })?,
        None => IndexMap::new(),
    };
    Ok(Resolved {
        groups,
        hostvars,
        raw,
    })
}

/// Converts each of `items` with [`to_py`].
fn all_to_py<'py>(py: Python<'py>, items: &[Value]) -> PyResult<Vec<Bound<'py, PyAny>>> {
    items.iter().map(|i| to_py(py, i)).collect()
}

/// Converts a `Value` back into the Python object Ansible would hold.
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::None => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Str(s) => PyString::new(py, s).into_any(),
        Value::List(items) => PyList::new(py, all_to_py(py, items)?)?.into_any(),
        Value::Tuple(items) => PyTuple::new(py, all_to_py(py, items)?)?.into_any(),
        Value::Set(items) => PySet::new(py, all_to_py(py, items)?)?.into_any(),
        Value::Dict(pairs) => {
            let d = PyDict::new(py);
            for (k, v) in pairs {
                d.set_item(to_py(py, k)?, to_py(py, v)?)?;
            }
            d.into_any()
        }
    })
}

/// `{host: {variable: X}}`, each X converted by `convert`; `path` names where a bad entry is.
fn host_var_map<T>(
    obj: &Bound<'_, PyAny>,
    path: &mut Path,
    mut convert: impl FnMut(&Bound<'_, PyAny>, &mut Path) -> PyResult<T>,
) -> PyResult<IndexMap<String, IndexMap<String, T>>> {
    let mut hosts = IndexMap::new();
    for (host, vars) in map_items(mapping(obj, path)?, path)? {
        let host = key_str(&host, "a host name", path)?;
        path.0.push(format!("[{host:?}]"));
        let mut out = IndexMap::new();
        for (k, v) in map_items(mapping(&vars, path)?, path)? {
            let k = key_str(&k, "a variable name", path)?;
            path.0.push(format!("[{k:?}]"));
            out.insert(k, convert(&v, path)?);
            path.pop();
        }
        path.pop();
        hosts.insert(host, out);
    }
    Ok(hosts)
}

/// JSON (metis-core's serialised results) as plain Python data, objects as dicts in order.
pub fn json_to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => py.None().into_bound(py),
        J::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        J::String(s) => PyString::new(py, s).into_any(),
        J::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        J::Object(map) => {
            let d = PyDict::new(py);
            for (k, item) in map {
                d.set_item(k, json_to_py(py, item)?)?;
            }
            d.into_any()
        }
    })
}
