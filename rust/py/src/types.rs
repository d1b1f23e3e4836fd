//! Python classes mirroring metis-core's results. Plain data: frozen, comparable, `to_dict()`.

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// One problem found in an inventory.
#[pyclass(frozen, get_all, eq, module = "metis_deploy._native")]
#[derive(Clone, Debug, PartialEq)]
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

#[pymethods]
impl Diagnostic {
    #[new]
    #[pyo3(signature = (severity, code, message, file=None, line=None, column=None, hint=None))]
    fn new(
        severity: String,
        code: String,
        message: String,
        file: Option<String>,
        line: Option<u32>,
        column: Option<u32>,
        hint: Option<String>,
    ) -> Self {
        Diagnostic {
            severity,
            code,
            message,
            file,
            line,
            column,
            hint,
        }
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
            "RenderedFile(host={:?}, service={:?}, path={:?}, mode=0o{:o}, secret={}, content={content})",
            self.host,
            self.service,
            self.path,
            self.mode,
            if self.secret { "True" } else { "False" },
        )
    }
}
