"""Type stubs of the native module (rust/py)."""

import os
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from metis_deploy.types import HealthReport, HostPlan, Inventory, Variable

__version__: Final[str]

# ``inventory`` arguments: a path to an inventory file, or Ansible's resolved
# ``{"groups": {group: [hosts]}, "hostvars": {host: {var: value}}}`` with an optional
# ``"raw": {host: {var: text as written}}`` for templated and vaulted variables.

class Diagnostic:
    """One problem found in an inventory. Immutable, hashable, picklable.

    The constructor raises InvalidTypeError / InvalidValueError (severity not "error" or
    "warning", line or column outside 1..2**32-1)."""

    severity: Final[Literal["error", "warning"]]
    code: Final[str]
    message: Final[str]
    file: Final[str | None]
    line: Final[int | None]
    column: Final[int | None]
    hint: Final[str | None]
    def __init__(
        self,
        severity: Literal["error", "warning"],
        code: str,
        message: str,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None: ...
    @property
    def is_error(self) -> bool: ...
    @property
    def location(self) -> str | None:
        """``file:line:column`` or None when unknown."""
    def to_dict(self) -> dict[str, Any]:
        """The keys of the CLI's ``--format json``."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[type[Diagnostic], tuple[Any, ...]]: ...

class RenderedFile:
    """A config file rendered for one host. Never show ``content`` when ``secret``."""

    host: Final[str]
    service: Final[str]
    path: Final[str]
    mode: Final[int]
    secret: Final[bool]
    owner: Final[str]
    """The service user under ``deploy_dir``, ``root`` for system files."""
    group: Final[str]
    deploy_dir: Final[str]
    """Directories created below it belong to ``owner``/``group``, the others to root."""
    content: Final[str]
    @property
    def mode_octal(self) -> str:
        """``mode`` as Ansible's octal string, e.g. ``"0640"``."""
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, other: object) -> bool: ...

class Organization:
    """The organisation of an inventory, built once (raises InventoryError when the inventory has
    errors). Each question about a host then costs the same whatever the organisation's size:
    cache one per inventory content."""

    def __init__(self, inventory: Inventory, *, from_json: bool = False) -> None: ...
    @property
    def hosts(self) -> list[str]: ...
    @property
    def cluster_name(self) -> str: ...
    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Warnings found while building it."""
    def host_plan(self, host: str, *, inventory_dir: str | None = None) -> HostPlan:
        """``host`` by inventory name or address; raises UnknownHostError. A host of the
        inventory that runs nothing gets a plan without services."""
    def host_plans(self, *, inventory_dir: str | None = None) -> dict[str, HostPlan]: ...
    def render(self, host: str) -> list[RenderedFile]: ...

def host_plan(inventory: Inventory, host: str, *, from_json: bool = False, inventory_dir: str | None = None) -> HostPlan:
    """The plan of one host (``Organization(inventory).host_plan(host)``); ``inventory_dir`` fills
    the controller's directories of its options."""

def host_plans(inventory: Inventory, *, from_json: bool = False, inventory_dir: str | None = None) -> dict[str, HostPlan]:
    """Every host's plan from one build, ``{host: plan}`` in the organisation's host order."""

def variables() -> list[Variable]:
    """Every inventory variable metis-deploy reads (``metis-deploy variables --format json``)."""

def validate(inventory: str | os.PathLike[str] | Mapping[str, Any], *, from_json: bool = False) -> list[Diagnostic]:
    """Every diagnostic of the inventory, sorted by location. Raises UnreadableInventoryError."""

def render(inventory: Inventory, host: str, *, from_json: bool = False) -> list[RenderedFile]:
    """The config files of ``host`` (inventory name or address). Raises InventoryError when the
    inventory has errors, UnknownHostError for a host not in the inventory."""

def health(
    inventory: str | os.PathLike[str] | Mapping[str, Any],
    hosts: Sequence[str] | None = None,
    services: Sequence[str] | None = None,
    *,
    wait: bool = False,
    timeout: float = 60.0,
    check_timeout: float = 3.0,
    from_json: bool = False,
) -> HealthReport:
    """Runs the health checks of ``hosts``/``services`` (all when None; an empty list raises
    InvalidValueError), concurrently and without holding the GIL. With ``wait``, retries failing
    checks until all pass or ``timeout`` seconds passed; each attempt is bounded by
    ``check_timeout``. Ctrl-C raises KeyboardInterrupt within 0.1 s. Returns the CLI's JSON report
    plus its ``table``."""

def parse_inventory(
    path: str | os.PathLike[str], *, from_json: bool = False
) -> dict[str, dict[str, Any]]:
    """``{"groups": {group: [hosts]}, "hostvars": {host: {var: value}}}`` as Ansible reads the file."""

def diagnostic_codes() -> dict[str, str]:
    """Every diagnostic code with its one-line meaning."""

def _convert_value(value: object) -> Any:
    """Round-trips a value through metis-core's Value (for tests)."""
