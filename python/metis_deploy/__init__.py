"""metis_deploy: validate, render and health-check a Metis/Datum organisation node.

The work is done by metis-core (Rust) through the native module :mod:`metis_deploy._native`.
``inventory`` arguments are a path to an inventory file (``str`` or ``os.PathLike``) or
Ansible's resolved data: ``{"groups": {group: [hosts]}, "hostvars": {host: {var: value}}}``.
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
    RenderedFile,
    __version__,
    diagnostic_codes,
    health,
    parse_inventory,
    render,
    validate,
)

__all__ = [
    "Diagnostic",
    "Error",
    "InvalidTypeError",
    "InvalidValueError",
    "InventoryError",
    "RenderedFile",
    "UnknownHostError",
    "UnreadableInventoryError",
    "__version__",
    "diagnostic_codes",
    "health",
    "parse_inventory",
    "render",
    "validate",
]
