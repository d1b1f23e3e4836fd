//! Python classes mirroring metis-core's results. Plain data: frozen, comparable, `to_dict()`.

use crate::errors::{invalid_type, invalid_value};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString, PyTuple};

/// One problem found in an inventory. Immutable, hashable and picklable.
#[pyclass(frozen, get_all, eq, hash, module = "metis_deploy._native")]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// `"error"` or `"warning"`.
    pub severity: String,
    /// Stable code, e.g. `"port-conflict"`.
    pub code: String,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub hint: Option<String>,
}

impl From<&metis_core::Diagnostic> for Diagnostic {
    fn from(d: &metis_core::Diagnostic) -> Self {
        Diagnostic {
            severity: d.severity.as_str().to_string(),
            code: d.code.as_str().to_string(),
            message: d.message.clone(),
            file: d.span.as_ref().map(|s| s.file.to_string()),
            line: d.span.as_ref().map(|s| s.line),
            column: d.span.as_ref().map(|s| s.column),
            hint: d.hint.clone(),
        }
    }
}

/// `file:line:column: error[code]: message (hint: ...)`, the location left out when unknown.
pub fn one_line(d: &metis_core::Diagnostic) -> String {
    Diagnostic::from(d).__str__()
}

/// A `str` argument, or `InvalidTypeError`.
fn text_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    match obj.downcast::<PyString>() {
        Ok(s) => Ok(s.to_str()?.to_string()),
        Err(_) => Err(invalid_type(
            obj.py(),
            format!("{what} must be a str, not {}", type_name(obj)),
        )),
    }
}

fn opt_text_arg(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<String>> {
    obj.filter(|o| !o.is_none())
        .map(|o| text_arg(o, what))
        .transpose()
}

/// A 1-based position (`line`, `column`): an int in 1..=4294967295, or None.
fn position_arg(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<u32>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let py = obj.py();
    if !obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyBool>() {
        return Err(invalid_type(
            py,
            format!("{what} must be an int or None, not {}", type_name(obj)),
        ));
    }
    match obj.extract::<u32>() {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(invalid_value(
            py,
            format!("{what} must be in 1..={}, not {obj}", u32::MAX),
        )),
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

#[pymethods]
impl Diagnostic {
    #[new]
    #[pyo3(signature = (severity, code, message, file=None, line=None, column=None, hint=None))]
    fn new(
        severity: &Bound<'_, PyAny>,
        code: &Bound<'_, PyAny>,
        message: &Bound<'_, PyAny>,
        file: Option<&Bound<'_, PyAny>>,
        line: Option<&Bound<'_, PyAny>>,
        column: Option<&Bound<'_, PyAny>>,
        hint: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let severity = text_arg(severity, "severity")?;
        if severity != "error" && severity != "warning" {
            return Err(invalid_value(
                code.py(),
                format!("severity must be \"error\" or \"warning\", not {severity:?}"),
            ));
        }
        Ok(Diagnostic {
            severity,
            code: text_arg(code, "code")?,
            message: text_arg(message, "message")?,
            file: opt_text_arg(file, "file")?,
            line: position_arg(line, "line")?,
            column: position_arg(column, "column")?,
            hint: opt_text_arg(hint, "hint")?,
        })
    }

    /// Pickling: `Diagnostic(*args)`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let d = slf.get();
        let args = (
            &d.severity,
            &d.code,
            &d.message,
            &d.file,
            d.line,
            d.column,
            &d.hint,
        )
            .into_pyobject(py)?;
        (slf.get_type(), args).into_pyobject(py)
    }

    /// True for severity `error`.
    #[getter]
    fn is_error(&self) -> bool {
        self.severity == "error"
    }

    /// The location as `file:line:column` (None when unknown).
    #[getter]
    fn location(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        Some(match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
            (Some(l), None) => format!("{file}:{l}"),
            _ => file.clone(),
        })
    }

    /// The same keys as the CLI's `--format json`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("severity", &self.severity)?;
        d.set_item("code", &self.code)?;
        d.set_item("message", &self.message)?;
        d.set_item("file", &self.file)?;
        d.set_item("line", self.line)?;
        d.set_item("column", self.column)?;
        d.set_item("hint", &self.hint)?;
        Ok(d)
    }

    fn __str__(&self) -> String {
        let mut s = String::new();
        if let Some(loc) = self.location() {
            s.push_str(&loc);
            s.push_str(": ");
        }
        s.push_str(&format!(
            "{}[{}]: {}",
            self.severity, self.code, self.message
        ));
        if let Some(h) = &self.hint {
            s.push_str(&format!(" (hint: {h})"));
        }
        s
    }

    fn __repr__(&self) -> String {
        format!(
            "Diagnostic(severity={:?}, code={:?}, message={:?}, location={})",
            self.severity,
            self.code,
            self.message,
            self.location()
                .map_or_else(|| "None".to_string(), |l| format!("{l:?}"))
        )
    }
}

/// One config file rendered for a host. `secret` files hold passwords or keys: write them 0600 and
/// never show their content (their `repr` does not).
#[pyclass(frozen, get_all, eq, module = "metis_deploy._native")]
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedFile {
    pub host: String,
    pub service: String,
    /// Absolute path on the host.
    pub path: String,
    /// Unix permission bits, e.g. `0o640`.
    pub mode: u32,
    pub secret: bool,
    /// Owner and group the file must have: the service user under `deploy_dir` (services read
    /// their own configs), `root` for system files (units, nginx site, MariaDB settings).
    pub owner: String,
    pub group: String,
    /// The organisation's `deploy_dir`: directories created for the file below it belong to
    /// `owner`/`group`, those outside it to root.
    pub deploy_dir: String,
    pub content: String,
}

#[pymethods]
impl RenderedFile {
    /// `mode` as Ansible's octal string, e.g. `"0640"`.
    #[getter]
    fn mode_octal(&self) -> String {
        format!("{:04o}", self.mode)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("host", &self.host)?;
        d.set_item("service", &self.service)?;
        d.set_item("path", &self.path)?;
        d.set_item("mode", self.mode)?;
        d.set_item("secret", self.secret)?;
        d.set_item("owner", &self.owner)?;
        d.set_item("group", &self.group)?;
        d.set_item("deploy_dir", &self.deploy_dir)?;
        d.set_item("content", &self.content)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let content = if self.secret {
            "<secret>".to_string()
        } else {
            format!("<{} bytes>", self.content.len())
        };
        format!(
            "RenderedFile(host={:?}, service={:?}, path={:?}, mode=0o{:o}, owner={:?}, group={:?}, secret={}, content={content})",
            self.host,
            self.service,
            self.path,
            self.mode,
            self.owner,
            self.group,
            if self.secret { "True" } else { "False" },
        )
    }
}
