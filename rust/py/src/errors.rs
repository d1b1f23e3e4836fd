//! Raising the exceptions of `metis_deploy._errors` (defined in Python so they can carry fields and
//! also derive from `TypeError`, `LookupError`...).

use crate::types::Diagnostic;
use metis_core::inventory::LoadError;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// Instantiates `metis_deploy._errors.<class>(message, *args, **kwargs)` as a `PyErr`.
fn raise(
    py: Python<'_>,
    class: &str,
    message: String,
    diagnostics: Option<Vec<Diagnostic>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = py.import("metis_deploy._errors")?.getattr(class)?;
        let instance = match diagnostics {
            Some(diags) => {
                let list = PyList::new(py, diags)?;
                cls.call((message.as_str(), list), kwargs)?
            }
            None => cls.call1((message.as_str(),))?,
        };
        Ok(PyErr::from_value(instance))
    };
    // Only reachable when `_native` is imported outside its package: still a clear error.
    build().unwrap_or_else(|e| {
        PyRuntimeError::new_err(format!(
            "{message} (metis_deploy._errors could not be loaded: {e})"
        ))
    })
}

pub fn invalid_type(py: Python<'_>, message: impl Into<String>) -> PyErr {
    raise(py, "InvalidTypeError", message.into(), None, None)
}

pub fn invalid_value(py: Python<'_>, message: impl Into<String>) -> PyErr {
    raise(py, "InvalidValueError", message.into(), None, None)
}

pub fn unknown_host(py: Python<'_>, message: impl Into<String>) -> PyErr {
    raise(py, "UnknownHostError", message.into(), None, None)
}

/// `InventoryError` carrying every diagnostic; the message lists the errors with their locations.
pub fn inventory_error(py: Python<'_>, summary: &str, diags: Vec<metis_core::Diagnostic>) -> PyErr {
    let mut message = summary.to_string();
    for d in diags.iter().filter(|d| d.is_error()) {
        message.push_str("\n  ");
        message.push_str(&crate::types::one_line(d));
    }
    let diags = diags.iter().map(Diagnostic::from).collect();
    raise(py, "InventoryError", message, Some(diags), None)
}

/// Maps a failure to load an inventory file onto `UnreadableInventoryError` / `InventoryError`.
pub fn load_error(py: Python<'_>, err: LoadError) -> PyErr {
    match err {
        LoadError::Unreadable { path, reason } => {
            let message = format!("cannot read inventory {path}: {reason}");
            let diag =
                metis_core::Diagnostic::error(metis_core::Code::UnreadableInput, message.clone());
            let mut d = Diagnostic::from(&diag);
            d.file = Some(path.clone());
            let kwargs = PyDict::new(py);
            let filled = kwargs
                .set_item("code", metis_core::Code::UnreadableInput.as_str())
                .and_then(|()| kwargs.set_item("file", &path));
            raise(
                py,
                "UnreadableInventoryError",
                message,
                Some(vec![d]),
                filled.is_ok().then_some(&kwargs),
            )
        }
        LoadError::Invalid(diags) => inventory_error(py, "the inventory has errors:", diags),
    }
}
