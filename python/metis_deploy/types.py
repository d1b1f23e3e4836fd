"""The shapes of metis_deploy's dict results, as TypedDicts (for type checkers and readers).

``HostPlan`` is the contract of SPEC §3: what ``metis-deploy plan --format json`` prints, what
:func:`metis_deploy.host_plan` returns and what the ``metis.node.host_plan`` action sets as the
fact ``metis_plan``. ``HealthReport`` is ``metis-deploy health --format json`` plus ``table``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal, TypedDict, Union

#: An ``inventory`` argument: a path to an inventory file, or Ansible's resolved
#: ``{"groups": {group: [hosts]}, "hostvars": {host: {var: value}}}`` (with an optional
#: ``"raw": {host: {var: text as written}}``).
Inventory = Union[str, "os.PathLike[str]", Mapping[str, Any]]


class Dir(TypedDict):
    """A directory to create (parents first), with its owner and mode."""

    path: str
    owner: str
    group: str
    mode: str
    """4-digit octal, e.g. ``"0750"``."""


class File(TypedDict):
    path: str
    mode: str
    owner: str
    group: str
    secret: bool
    sha256: str


class Artifact(TypedDict):
    name: str
    source: str
    """Path relative to the artifact bundle's root, e.g. ``"wheels/avx2/x.whl"``."""
    dest: str
    """The file, or the directory to unpack (``unzip``/``untar``) or copy (``directory``) into."""
    mode: str
    owner: str
    group: str
    kind: Literal["file", "unzip", "untar", "directory"]
    cpu_flag: Literal["avx2", "no_avx2"] | None
    """Only for the host whose CPU has / lacks avx2."""
    archive: str | None
    """Where an archive (unzip/untar) is kept on the host; unpacked again when it changes."""
    kept: str
    """Where the bundle's file or directory is kept on the host (``archive`` or ``dest``)."""
    previous: str
    """Where an upgrade keeps the previous version of ``kept`` (for a rollback)."""
    staged: str
    """Where an upgrade pushes the new version of ``kept`` before switching to it."""


class Port(TypedDict):
    port: int
    last: int
    proto: Literal["tcp", "udp"]
    purpose: str
    wait: bool
    """A started service must be listening on it."""
    variable: str | None
    """The inventory variable that sets it (None for implicit ports)."""


class HealthCheckRef(TypedDict):
    name: str
    kind: str
    address: str


class KvWrite(TypedDict):
    key: str
    value: str


class Registration(TypedDict):
    name: str
    tag: str | None


class PythonEnv(TypedDict):
    path: str
    base_python: str
    wheel_dir: str
    deps_dir: str
    requirements: list[str]
    """Wheel file names to install (rosetta named once)."""


class Generated(TypedDict):
    name: str
    path: str
    mode: str
    owner: str
    group: str
    command: list[str]
    """Run once on the host; the file keeps the ``PrivateKey:`` hex of its output."""


class Database(TypedDict):
    name: str
    user: str
    client_host: str
    """The address the service connects from: the user is granted from there only."""
    password_var: str
    """The inventory variable with the user's password (the plan holds no secret)."""
    schema: str
    socket: str
    server: str


class Backup(TypedDict, total=False):
    path: str
    database: str
    """Dumped into ``path`` first."""
    kv_prefix: str
    """The consul KV keys under it, read from the service's HTTP API into ``path`` first."""


class Release(TypedDict):
    version_file: str
    """Holds the bundle version the installed artifacts came from."""
    previous_version_file: str
    previous_dir: str
    staged_dir: str


class Options(TypedDict):
    apt_update_cache: bool
    start_timeout: int
    min_free_mb: int
    regenerate_p2p_key: bool
    state_dir: str | None
    """The controller's directory of the organisation (known when the inventory's directory is)."""
    bundle_root: str | None
    bundle_dir: str | None
    backup_root: str | None


class Upload(TypedDict):
    variable: str
    """The inventory variable naming the controller's file."""
    source: str
    """The controller's path."""
    path: str
    mode: str
    owner: str
    group: str
    secret: bool


class ServicePlan(TypedDict):
    name: Literal["consul", "icegrid", "glacier2", "carrier", "mysql", "admin", "nginx", "data", "compute"]
    group: str
    order: int
    """Global start order (stop in reverse)."""
    unit: str
    """``metis-<name>.service``, or Debian's (``mariadb.service``, ``nginx.service``)."""
    unit_file: str | None
    command: list[str]
    working_dir: str | None
    user: str | None
    environment: dict[str, str]
    pid_file: str | None
    log_file: str | None
    stop_timeout_secs: int
    packages: list[str]
    directories: list[Dir]
    files: list[File]
    artifacts: list[Artifact]
    ports: list[Port]
    health_checks: list[HealthCheckRef]
    kv_writes: list[KvWrite]
    kv_reads: list[str]
    registrations: list[Registration]
    consul_http: str | None
    python_env: PythonEnv | None
    secrets: list[Generated]
    uploads: list[Upload]
    """Files pushed from the controller (certificates and keys the inventory names)."""
    validate: list[str] | None
    """The service's own check of its written configuration (argv)."""
    disable_files: list[str]
    """Files of the distribution removed so that they do not compete with the service."""
    database: Database | None
    backup: Backup | None
    release: Release | None
    """Where an upgrade keeps the versions of the service's artifacts (services with artifacts)."""


class HostPlan(TypedDict):
    host: str
    ip: str
    cluster_name: str
    deploy_dir: str
    service_user: str
    service_group: str
    service_manager: Literal["auto", "systemd", "process"]
    packages: list[str]
    directories: list[Dir]
    services: list[ServicePlan]
    options: Options


class CheckResult(TypedDict):
    host: str
    address: str
    service: str
    check: str
    ok: bool
    outcome: Literal["ok", "refused", "timeout", "wrong-protocol", "http-status", "unexpected", "error"]
    detail: str
    elapsed_ms: int
    attempts: int


class HealthReport(TypedDict):
    """The CLI's ``health --format json`` report, plus ``table``."""

    healthy: bool
    checks: list[CheckResult]
    table: str


class Variable(TypedDict):
    name: str
    type: str
    ansible_type: Literal["str", "int", "bool", "list", "path"]
    elements: Literal["int", "str"] | None
    choices: list[str]
    default: str | None
    required: bool
    groups: list[str]
    """Inventory groups whose services read it; empty: the whole organisation."""
    secret: bool
    doc: str
