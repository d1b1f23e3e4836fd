"""Type stubs of the native module (rust/py)."""

import os
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, TypeAlias

__version__: Final[str]

#: A path to an inventory file, or Ansible's resolved
#: ``{"groups": {group: [hosts]}, "hostvars": {host: {var: value}}}``.
InventoryArg: TypeAlias = str | os.PathLike[str] | Mapping[str, Any]

class Diagnostic:
    """One problem found in an inventory."""

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

class RenderedFile:
    """A config file rendered for one host. Never show ``content`` when ``secret``."""

    host: Final[str]
    service: Final[str]
    path: Final[str]
    mode: Final[int]
    secret: Final[bool]
    content: Final[str]
    @property
    def mode_octal(self) -> str:
        """``mode`` as Ansible's octal string, e.g. ``"0640"``."""
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, other: object) -> bool: ...

def validate(inventory: InventoryArg, *, from_json: bool = False) -> list[Diagnostic]:
    """Every diagnostic of the inventory, sorted by location. Raises UnreadableInventoryError."""

def render(inventory: InventoryArg, host: str, *, from_json: bool = False) -> list[RenderedFile]:
    """The config files of ``host``. Raises InventoryError when the inventory has errors."""

def health(
    inventory: InventoryArg,
    hosts: Sequence[str] | None = None,
    services: Sequence[str] | None = None,
    *,
    wait: bool = False,
    timeout: float = 60.0,
    check_timeout: float = 3.0,
    from_json: bool = False,
) -> dict[str, Any]:
    """Runs the health checks of ``hosts``/``services`` (all when None), concurrently and without
    holding the GIL. With ``wait``, retries failing checks until all pass or ``timeout`` seconds
    passed; each attempt is bounded by ``check_timeout``. Returns ``{"healthy": bool, "checks":
    [{"host", "address", "service", "check", "ok", "outcome", "detail", "elapsed_ms",
    "attempts"}], "table": str}``."""

def parse_inventory(
    path: str | os.PathLike[str], *, from_json: bool = False
) -> dict[str, dict[str, Any]]:
    """``{"groups": {group: [hosts]}, "hostvars": {host: {var: value}}}`` as Ansible reads the file."""

def diagnostic_codes() -> dict[str, str]:
    """Every diagnostic code with its one-line meaning."""

def _convert_value(value: object) -> Any:
    """Round-trips a value through metis-core's Value (for tests)."""
