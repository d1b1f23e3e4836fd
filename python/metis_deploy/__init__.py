"""metis_deploy: validate, plan, render and health-check a Metis/Datum organisation node.

The work is done by metis-core (Rust) through the native module :mod:`metis_deploy._native`.
``inventory`` arguments are a path to an inventory file (``str`` or ``os.PathLike``) or
Ansible's resolved data: ``{"groups": {group: [hosts]}, "hostvars": {host: {var: value}}}``.
:class:`Organization` builds an inventory's organisation once and answers any number of hosts.
"""

from metis_deploy._errors import (
    Error,
    InvalidTypeError,
    InvalidValueError,
    InventoryError,
    UnknownHostError,
    UnreadableInventoryError,
)
from metis_deploy._native import (
    Diagnostic,
    Organization,
    RenderedFile,
    __version__,
    diagnostic_codes,
    health,
    host_plan,
    host_plans,
    parse_inventory,
    render,
    validate,
    variables,
)
from metis_deploy.types import HealthReport, HostPlan, ServicePlan, Variable

__all__ = [
    "Diagnostic",
    "Error",
    "HealthReport",
    "HostPlan",
    "InvalidTypeError",
    "InvalidValueError",
    "InventoryError",
    "Organization",
    "RenderedFile",
    "ServicePlan",
    "UnknownHostError",
    "UnreadableInventoryError",
    "Variable",
    "__version__",
    "diagnostic_codes",
    "health",
    "host_plan",
    "host_plans",
    "parse_inventory",
    "render",
    "validate",
    "variables",
]
