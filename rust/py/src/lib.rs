//! Python bindings of metis-core (pyo3): the native module `metis_deploy._native`.
//!
//! Only conversions live here: Python arguments into metis-core types, results and diagnostics
//! back into Python objects, failures into the exceptions of `metis_deploy._errors`. Every rule
//! about inventories and organisations stays in metis-core.

mod convert;
mod errors;
mod types;

use metis_core::health as core_health;
use metis_core::inventory::templates::Need;
use metis_core::inventory::{Inventory, LoadError};
use metis_core::model::Service;
use metis_core::pipeline::{self, Env, HostIndex, ReadFailure};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use types::{Diagnostic, RenderedFile};

/// What the `inventory` argument names: a file, or Ansible's resolved groups and hostvars.
enum Source {
    File(PathBuf),
    Resolved(convert::Resolved),
}

fn source(inventory: &Bound<'_, PyAny>) -> PyResult<Source> {
    let py = inventory.py();
    let is_pathlike =
        inventory.is_instance_of::<PyString>() || inventory.hasattr("__fspath__").unwrap_or(false);
    if is_pathlike {
        return inventory
            .extract::<PathBuf>()
            .map(Source::File)
            .map_err(|e| errors::invalid_type(py, format!("inventory path cannot be used: {e}")));
    }
    if inventory.downcast::<PyMapping>().is_ok() {
        return convert::resolved(inventory).map(Source::Resolved);
    }
    let name = inventory
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    Err(errors::invalid_type(
        py,
        format!(
            "inventory must be a path (str or os.PathLike) or a dict with \"groups\" and \"hostvars\", not {name}"
        ),
    ))
}

/// Loads the inventory. The inner `Err` holds the diagnostics of a file Ansible would refuse
/// (`validate` returns them, the other calls raise them); unreadable input raises.
fn load(
    py: Python<'_>,
    src: Source,
    from_json: bool,
) -> PyResult<Result<Inventory, Vec<metis_core::Diagnostic>>> {
    match src {
        Source::File(path) => match py.allow_threads(|| pipeline::read(&path, from_json)) {
            Ok(inv) => Ok(Ok(inv)),
            Err(ReadFailure::Invalid { diagnostics, .. }) => Ok(Err(diagnostics)),
            Err(e) => Err(errors::load_error(py, e.into())),
        },
        Source::Resolved(r) => Ok(Ok(py.allow_threads(|| {
            let mut inv = metis_core::inventory::json::from_resolved(&r.groups, &r.hostvars);
            for (host, vars) in &r.raw {
                let Some(h) = inv.hosts.get_mut(host) else {
                    continue;
                };
                for (name, text) in vars {
                    if let Some(var) = h.vars.get_mut(name) {
                        var.raw = Some(text.clone());
                    }
                }
            }
            inv
        }))),
    }
}

/// A bool argument (exactly `True` or `False`; None means the default), or `InvalidTypeError`.
fn flag(arg: Option<&Bound<'_, PyAny>>, what: &str, default: bool) -> PyResult<bool> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else {
        return Ok(default);
    };
    match arg.downcast::<PyBool>() {
        Ok(b) => Ok(b.is_true()),
        Err(_) => Err(errors::invalid_type(
            arg.py(),
            format!("{what} must be a bool, not {}", type_name(arg)),
        )),
    }
}

/// A positive number of seconds (int or float), or `InvalidTypeError` / `InvalidValueError`.
fn seconds(
    py: Python<'_>,
    arg: Option<&Bound<'_, PyAny>>,
    what: &str,
    default: f64,
) -> PyResult<Duration> {
    let value = match arg.filter(|a| !a.is_none()) {
        None => default,
        Some(a) if a.is_instance_of::<PyBool>() => {
            return Err(errors::invalid_type(
                py,
                format!("{what} must be a number of seconds (int or float), not bool"),
            ))
        }
        Some(a) if a.is_instance_of::<PyInt>() || a.is_instance_of::<PyFloat>() => a
            .extract::<f64>()
            .map_err(|_| errors::invalid_value(py, format!("{what} is too large: {a}")))?,
        Some(a) => {
            return Err(errors::invalid_type(
                py,
                format!(
                    "{what} must be a number of seconds (int or float), not {}",
                    type_name(a)
                ),
            ))
        }
    };
    if value.is_finite() && value > 0.0 && value < 1e9 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(errors::invalid_value(
            py,
            format!("{what} must be a positive number of seconds, not {value}"),
        ))
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// An inventory without errors, its organisation and its hosts, built once.
struct Built {
    org: metis_core::Organization,
    index: HostIndex,
    warnings: Vec<metis_core::Diagnostic>,
}

/// Loads and builds the organisation through metis-core's one pipeline, raising
/// `InventoryError` when the inventory has errors. A file is read as the standalone binary
/// reads it: `lookup('env', ...)` values come from this process's environment (what `need` asks
/// for); Ansible's resolved data is already evaluated.
fn organization(
    py: Python<'_>,
    inventory: &Bound<'_, PyAny>,
    from_json: bool,
    need: Need,
) -> PyResult<Built> {
    let src = source(inventory)?;
    let env = match src {
        Source::File(_) => Env::Process,
        Source::Resolved(_) => Env::Resolved,
    };
    let inv = match load(py, src, from_json)? {
        Ok(inv) => inv,
        Err(diags) => return Err(errors::load_error(py, LoadError::Invalid(diags))),
    };
    let built = py.allow_threads(|| {
        let built = pipeline::build(inv, env, need);
        let index = built
            .organization
            .as_ref()
            .map(|org| HostIndex::new(&built.inventory, org));
        (built, index)
    });
    match built {
        (
            pipeline::Built {
                organization: Some(org),
                diagnostics,
                ..
            },
            Some(index),
        ) => Ok(Built {
            org,
            index,
            warnings: diagnostics,
        }),
        (built, _) => Err(errors::inventory_error(
            py,
            "the inventory has errors:",
            built.diagnostics,
        )),
    }
}

/// A `str` host argument (inventory name or address), or `InvalidTypeError`.
fn host_arg(py: Python<'_>, host: &Bound<'_, PyAny>) -> PyResult<String> {
    host.extract().map_err(|_| {
        errors::invalid_type(
            py,
            format!(
                "host must be a str (an inventory host name or address), not {}",
                type_name(host)
            ),
        )
    })
}

/// A metis-core value as plain Python data (dicts, lists, str, int, bool, None).
fn to_python<'py, T: serde::Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value).map_err(|e| {
        pyo3::exceptions::PyRuntimeError::new_err(format!("cannot convert the result: {e}"))
    })?;
    convert::json_to_py(py, &json)
}

/// The organisation of an inventory, built once: ask it for any number of hosts' plans and
/// files (each answer costs the same whatever the organisation's size). Immutable; safe to
/// cache per inventory content.
#[pyclass(frozen, module = "metis_deploy._native")]
struct Organization {
    org: Arc<metis_core::Organization>,
    index: HostIndex,
    warnings: Vec<Diagnostic>,
}

impl Organization {
    fn from_built(built: Built) -> Self {
        Organization {
            warnings: built.warnings.iter().map(Diagnostic::from).collect(),
            org: Arc::new(built.org),
            index: built.index,
        }
    }

    fn find<'a>(&'a self, py: Python<'_>, host: &str) -> PyResult<pipeline::HostMatch<'a>> {
        self.index
            .find(host)
            .map_err(|e| errors::unknown_host(py, e.to_string()))
    }

    fn plan(
        &self,
        host: pipeline::HostMatch<'_>,
        inventory_dir: Option<&str>,
    ) -> metis_core::plan::HostPlan {
        let mut plan = match host.placed {
            Some(h) => {
                let instances = self.index.instances(&self.org, &h.name);
                metis_core::plan::plan_of(&self.org, h, &instances)
            }
            None => metis_core::plan::idle_plan(&self.org, host.name),
        };
        if let Some(dir) = inventory_dir {
            plan.locate(dir);
        }
        plan
    }

    fn files(&self, host: pipeline::HostMatch<'_>) -> Vec<RenderedFile> {
        let instances = self.index.instances(&self.org, host.name);
        let deploy_dir = &self.org.settings.deploy_dir;
        metis_core::render::render_instances(&self.org, &instances)
            .into_iter()
            .map(|f| RenderedFile {
                host: f.host,
                service: f.service.name().to_string(),
                path: f.path,
                mode: f.mode,
                secret: f.secret,
                owner: f.owner,
                group: f.group,
                deploy_dir: deploy_dir.clone(),
                content: f.content,
            })
            .collect()
    }
}

#[pymethods]
impl Organization {
    /// Builds the organisation of `inventory` (a path or Ansible's resolved data). Raises
    /// `InventoryError` when it has errors.
    #[new]
    #[pyo3(signature = (inventory, *, from_json = None))]
    fn new(
        py: Python<'_>,
        inventory: &Bound<'_, PyAny>,
        from_json: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let from_json = flag(from_json, "from_json", false)?;
        organization(py, inventory, from_json, Need::Everything).map(Organization::from_built)
    }

    /// The organisation's hosts (inventory names), in start order of their first service.
    #[getter]
    fn hosts(&self) -> Vec<String> {
        self.index.hosts().map(|h| h.name.clone()).collect()
    }

    #[getter]
    fn cluster_name(&self) -> String {
        self.org.cluster_name.clone()
    }

    /// The warnings found while building it.
    #[getter]
    fn diagnostics(&self) -> Vec<Diagnostic> {
        self.warnings.clone()
    }

    /// The plan of `host` (inventory name or address): a dict as `metis-deploy plan --format
    /// json --host` prints it. A host of the inventory that runs nothing gets a plan without
    /// services; an unknown host raises `UnknownHostError`.
    /// `inventory_dir` (the inventory's directory) fills the controller's directories of the
    /// plan's options (`state_dir`, `bundle_dir`, ...).
    #[pyo3(signature = (host, *, inventory_dir = None))]
    fn host_plan<'py>(
        &self,
        py: Python<'py>,
        host: &Bound<'py, PyAny>,
        inventory_dir: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let name = host_arg(py, host)?;
        let found = self.find(py, &name)?;
        let plan = py.allow_threads(|| self.plan(found, inventory_dir.as_deref()));
        to_python(py, &plan)
    }

    /// Every host's plan: `{host: plan}` in the organisation's host order.
    #[pyo3(signature = (*, inventory_dir = None))]
    fn host_plans<'py>(
        &self,
        py: Python<'py>,
        inventory_dir: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut plans = py.allow_threads(|| metis_core::plan::host_plans(&self.org));
        let out = PyDict::new(py);
        for p in &mut plans {
            if let Some(dir) = inventory_dir.as_deref() {
                p.locate(dir);
            }
            out.set_item(&p.host, to_python(py, p)?)?;
        }
        Ok(out)
    }

    /// The config files of `host` (as `render()` returns them).
    fn render(&self, py: Python<'_>, host: &Bound<'_, PyAny>) -> PyResult<Vec<RenderedFile>> {
        let name = host_arg(py, host)?;
        let found = self.find(py, &name)?;
        Ok(py.allow_threads(|| self.files(found)))
    }

    fn __repr__(&self) -> String {
        format!(
            "Organization(cluster_name={:?}, hosts={})",
            self.org.cluster_name,
            self.index.hosts().count()
        )
    }
}

/// Checks an inventory and returns every diagnostic (errors and warnings), sorted by location.
/// Syntax errors come back as diagnostics too; only unreadable input raises.
#[pyfunction]
#[pyo3(signature = (inventory, *, from_json = None))]
fn validate(
    py: Python<'_>,
    inventory: &Bound<'_, PyAny>,
    from_json: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<Diagnostic>> {
    let from_json = flag(from_json, "from_json", false)?;
    let mut diags = match load(py, source(inventory)?, from_json)? {
        Ok(inv) => py.allow_threads(|| metis_core::validate::validate(&inv)),
        Err(diags) => diags,
    };
    metis_core::diag::sort(&mut diags);
    Ok(diags.iter().map(Diagnostic::from).collect())
}

/// Renders every config file of `host` (inventory name or address).
#[pyfunction]
#[pyo3(signature = (inventory, host, *, from_json = None))]
fn render(
    py: Python<'_>,
    inventory: &Bound<'_, PyAny>,
    host: &Bound<'_, PyAny>,
    from_json: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<RenderedFile>> {
    let from_json = flag(from_json, "from_json", false)?;
    let name = host_arg(py, host)?;
    let org = Organization::from_built(organization(py, inventory, from_json, Need::Everything)?);
    let found = org.find(py, &name)?;
    Ok(py.allow_threads(|| org.files(found)))
}

/// The plan of one host (see `Organization.host_plan`).
#[pyfunction]
#[pyo3(signature = (inventory, host, *, from_json = None, inventory_dir = None))]
fn host_plan<'py>(
    py: Python<'py>,
    inventory: &Bound<'py, PyAny>,
    host: &Bound<'py, PyAny>,
    from_json: Option<&Bound<'py, PyAny>>,
    inventory_dir: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let from_json = flag(from_json, "from_json", false)?;
    let name = host_arg(py, host)?;
    let org = Organization::from_built(organization(py, inventory, from_json, Need::Everything)?);
    let found = org.find(py, &name)?;
    let plan = py.allow_threads(|| org.plan(found, inventory_dir.as_deref()));
    to_python(py, &plan)
}

/// Every host's plan, `{host: plan}`, from one build of the organisation.
#[pyfunction]
#[pyo3(signature = (inventory, *, from_json = None, inventory_dir = None))]
fn host_plans<'py>(
    py: Python<'py>,
    inventory: &Bound<'py, PyAny>,
    from_json: Option<&Bound<'py, PyAny>>,
    inventory_dir: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let from_json = flag(from_json, "from_json", false)?;
    Organization::from_built(organization(py, inventory, from_json, Need::Everything)?)
        .host_plans(py, inventory_dir)
}

/// Every inventory variable metis-deploy reads, as `metis-deploy variables --format json`.
#[pyfunction]
fn variables(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let out = PyList::empty(py);
    for v in metis_core::model::variables::ALL {
        let d = PyDict::new(py);
        d.set_item("name", v.name)?;
        d.set_item("type", v.kind.name())?;
        d.set_item("ansible_type", v.kind.ansible_type())?;
        d.set_item("elements", v.kind.elements())?;
        d.set_item("choices", v.kind.choices().to_vec())?;
        d.set_item("default", v.default.text())?;
        d.set_item("required", v.required())?;
        d.set_item(
            "groups",
            v.groups.iter().map(|g| g.name()).collect::<Vec<_>>(),
        )?;
        d.set_item("secret", v.secret)?;
        d.set_item("doc", v.doc)?;
        out.append(d)?;
    }
    Ok(out)
}

/// A list of names (a single str counts as one name), or None (meaning all). An empty list
/// would select nothing: refused, so that a filter computed empty never checks everything.
fn names(arg: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Vec<String>>> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else {
        return Ok(None);
    };
    if let Ok(s) = arg.extract::<String>() {
        return Ok(Some(vec![s]));
    }
    let list = arg.extract::<Vec<String>>().map_err(|_| {
        errors::invalid_type(arg.py(), format!("{what} must be a list of str or None"))
    })?;
    if list.is_empty() {
        return Err(errors::invalid_value(
            arg.py(),
            format!("{what} is empty: it would select nothing (None selects all)"),
        ));
    }
    Ok(Some(list))
}

/// Runs the health checks of the given hosts and services (all when None), concurrently, without
/// holding the GIL. With `wait`, failing checks are retried until all pass or `timeout` seconds
/// have passed; each attempt is bounded by `check_timeout` seconds. Ctrl-C (or any signal whose
/// handler raises) interrupts the wait within a fraction of a second.
#[pyfunction]
#[pyo3(signature = (inventory, hosts = None, services = None, *, wait = None, timeout = None, check_timeout = None, from_json = None))]
#[allow(clippy::too_many_arguments)]
fn health<'py>(
    py: Python<'py>,
    inventory: &Bound<'py, PyAny>,
    hosts: Option<&Bound<'py, PyAny>>,
    services: Option<&Bound<'py, PyAny>>,
    wait: Option<&Bound<'py, PyAny>>,
    timeout: Option<&Bound<'py, PyAny>>,
    check_timeout: Option<&Bound<'py, PyAny>>,
    from_json: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let wait = flag(wait, "wait", false)?;
    let from_json = flag(from_json, "from_json", false)?;
    let total = seconds(
        py,
        timeout,
        "timeout",
        core_health::DEFAULT_WAIT.as_secs_f64(),
    )?;
    let attempt = seconds(
        py,
        check_timeout,
        "check_timeout",
        core_health::DEFAULT_CHECK_TIMEOUT.as_secs_f64(),
    )?
    .min(total);
    let hosts = names(hosts, "hosts")?.unwrap_or_default();
    let mut wanted = Vec::new();
    for s in names(services, "services")?.unwrap_or_default() {
        match Service::from_name(&s) {
            Some(svc) => wanted.push(svc),
            None => {
                let known: Vec<&str> = Service::ALL.iter().map(|s| s.name()).collect();
                return Err(errors::invalid_value(
                    py,
                    format!("unknown service {s:?} (known: {})", known.join(", ")),
                ));
            }
        }
    }
    let built = organization(py, inventory, from_json, Need::AllButSecrets)?;
    for h in &hosts {
        if let Err(e) = built.index.find(h) {
            return Err(errors::unknown_host(py, e.to_string()));
        }
    }
    let org = built.org;
    let filter = core_health::Filter {
        services: wanted,
        hosts,
    };
    let opts = core_health::RunOptions {
        timeout: attempt,
        wait: wait.then_some(total),
    };
    let checks = core_health::plan(&org, &filter);
    let report = run_interruptibly(py, checks, opts)?;
    // The CLI's JSON report, plus the table.
    let out = to_python(py, &report)?.downcast_into::<PyDict>()?;
    out.set_item("table", core_health::render_table(&report))?;
    Ok(out)
}

/// Runs the checks on a thread of their own; this thread waits without the GIL in slices of
/// 100 ms and checks Python's signals between them, so Ctrl-C raises `KeyboardInterrupt` at once.
/// The abandoned run ends by itself (every attempt and the wait are bounded).
fn run_interruptibly(
    py: Python<'_>,
    checks: Vec<core_health::Check>,
    opts: core_health::RunOptions,
) -> PyResult<core_health::Report> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("metis-health".into())
        .spawn(move || {
            // The receiver is gone only when the caller was interrupted: nothing to report to.
            let _ = tx.send(core_health::run(&checks, opts));
        })
        .map_err(|e| {
            pyo3::exceptions::PyRuntimeError::new_err(format!(
                "cannot start the health checks: {e}"
            ))
        })?;
    let mut rx = rx;
    loop {
        // The receiver moves into the GIL-free closure and back (it is Send, not Sync).
        let (got, back) = py.allow_threads(move || {
            let got = rx.recv_timeout(Duration::from_millis(100));
            (got, rx)
        });
        rx = back;
        match got {
            Ok(report) => return Ok(report),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "the health checks stopped without a report",
                ))
            }
        }
    }
}

/// Reads an inventory file as Ansible does and returns what plugins see:
/// `{"groups": {group: [hosts]}, "hostvars": {host: {var: value}}}`.
#[pyfunction]
#[pyo3(signature = (path, *, from_json = None))]
fn parse_inventory<'py>(
    py: Python<'py>,
    path: &Bound<'py, PyAny>,
    from_json: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let from_json = flag(from_json, "from_json", false)?;
    let src = match source(path)? {
        src @ Source::File(_) => src,
        Source::Resolved(_) => {
            return Err(errors::invalid_type(
                py,
                "path must be a str or os.PathLike naming an inventory file",
            ))
        }
    };
    let inv = match load(py, src, from_json)? {
        Ok(inv) => inv,
        Err(diags) => return Err(errors::load_error(py, LoadError::Invalid(diags))),
    };
    let groups = PyDict::new(py);
    for name in inv.groups.keys() {
        groups.set_item(name, inv.group_hosts(name))?;
    }
    let hostvars = PyDict::new(py);
    // A group's variable is converted once and shared by its hosts (as Ansible's hostvars
    // share it): a large group value is not copied once per host.
    let mut converted: std::collections::HashMap<*const metis_core::inventory::Var, Py<PyAny>> =
        std::collections::HashMap::new();
    for host in inv.hosts.keys() {
        let vars = PyDict::new(py);
        for (k, var) in inv.host_vars(host) {
            let key: *const metis_core::inventory::Var = var;
            let value = match converted.get(&key) {
                Some(v) => v.clone_ref(py),
                None => {
                    let v = convert::to_py(py, &var.value)?.unbind();
                    converted.insert(key, v.clone_ref(py));
                    v
                }
            };
            vars.set_item(k, value)?;
        }
        hostvars.set_item(host, vars)?;
    }
    let out = PyDict::new(py);
    out.set_item("groups", groups)?;
    out.set_item("hostvars", hostvars)?;
    Ok(out)
}

/// Every diagnostic code with its one-line meaning.
#[pyfunction]
fn diagnostic_codes(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    for c in metis_core::Code::ALL {
        d.set_item(c.as_str(), c.describe())?;
    }
    Ok(d)
}

/// Converts a Python value to metis-core's `Value` and back (tests the conversion).
#[pyfunction]
fn _convert_value<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let v = convert::to_value(value, &mut convert::Path::new("value"), 0)?;
    convert::to_py(value.py(), &v)
}

#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Diagnostic>()?;
    m.add_class::<RenderedFile>()?;
    m.add_class::<Organization>()?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(render, m)?)?;
    m.add_function(wrap_pyfunction!(host_plan, m)?)?;
    m.add_function(wrap_pyfunction!(host_plans, m)?)?;
    m.add_function(wrap_pyfunction!(variables, m)?)?;
    m.add_function(wrap_pyfunction!(health, m)?)?;
    m.add_function(wrap_pyfunction!(parse_inventory, m)?)?;
    m.add_function(wrap_pyfunction!(diagnostic_codes, m)?)?;
    m.add_function(wrap_pyfunction!(_convert_value, m)?)?;
    Ok(())
}
