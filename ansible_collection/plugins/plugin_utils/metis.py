# Copyright: metis-deploy contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Shared by the metis.node action plugins: importing metis_deploy, handing it the inventory the
play runs with, and turning its diagnostics into Ansible messages. Runs on the controller."""

from __future__ import annotations

import sys
import typing as t
from collections.abc import Mapping, Sequence, Set

from ansible.errors import AnsibleActionFail

try:
    import metis_deploy
except ImportError as exc:  # pragma: no cover - depends on the controller
    metis_deploy = None
    HAS_METIS_DEPLOY = False
    METIS_DEPLOY_IMPORT_ERROR: ImportError | None = exc
else:
    HAS_METIS_DEPLOY = True
    METIS_DEPLOY_IMPORT_ERROR = None


def missing_metis_deploy_message() -> str:
    """One line telling how to install the package for the Python that runs Ansible."""
    return (
        f"the Python package metis-deploy is not installed for the Python running Ansible "
        f"({sys.executable}): install it with '{sys.executable} -m pip install metis-deploy' "
        f"(or 'pip install .' in a metis-deploy checkout)"
    )


def require_metis_deploy() -> t.Any:
    """The metis_deploy module, or an action failure saying how to install it."""
    if not HAS_METIS_DEPLOY:
        raise AnsibleActionFail(missing_metis_deploy_message())
    return metis_deploy


# Variables Ansible adds to every host: never part of the inventory. Connection variables
# (ansible_host, ansible_user, ...) are kept: metis-core checks them.
_MAGIC_VARS = frozenset(
    (
        "ansible_check_mode",
        "ansible_collection_name",
        "ansible_config_file",
        "ansible_dependent_role_names",
        "ansible_diff_mode",
        "ansible_facts",
        "ansible_forks",
        "ansible_inventory_sources",
        "ansible_limit",
        "ansible_local",
        "ansible_loop",
        "ansible_loop_var",
        "ansible_parent_role_names",
        "ansible_parent_role_paths",
        "ansible_play_batch",
        "ansible_play_hosts",
        "ansible_play_hosts_all",
        "ansible_play_name",
        "ansible_play_role_names",
        "ansible_playbook_python",
        "ansible_role_name",
        "ansible_role_names",
        "ansible_run_tags",
        "ansible_search_path",
        "ansible_skip_tags",
        "ansible_verbosity",
        "ansible_version",
        "environment",
        "group_names",
        "groups",
        "hostvars",
        "inventory_dir",
        "inventory_file",
        "inventory_hostname",
        "inventory_hostname_short",
        "module_setup",
        "omit",
        "play_hosts",
        "playbook_dir",
        "role_name",
        "role_names",
        "role_path",
        "role_uuid",
    )
)


def _plain(value: t.Any, depth: int = 0) -> t.Any:
    """A deep copy made of plain Python types. Reading Ansible's lazy containers templates them."""
    if depth > 64:
        raise ValueError("nested too deeply")
    if isinstance(value, (str, bytes, bool, int, float)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {_plain(k, depth + 1): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, Set):
        return {_plain(v, depth + 1) for v in value}
    if isinstance(value, tuple):
        return tuple(_plain(v, depth + 1) for v in value)
    if isinstance(value, Sequence):
        return [_plain(v, depth + 1) for v in value]
    return value


def _is_fact(name: str, facts: t.Any) -> bool:
    return isinstance(facts, Mapping) and name.startswith("ansible_") and name[8:] in facts


def inventory_from_task_vars(task_vars: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """``{"groups": ..., "hostvars": ...}`` of the play's inventory, values templated as Ansible
    would for each host. Fails naming the host and variable whose value cannot be templated."""
    groups_var = task_vars.get("groups")
    hostvars = task_vars.get("hostvars")
    if not isinstance(groups_var, Mapping) or not isinstance(hostvars, Mapping):
        raise AnsibleActionFail("the task variables hold no 'groups'/'hostvars': cannot read the play's inventory; set 'path'")
    groups = {str(name): [str(h) for h in hosts] for name, hosts in groups_var.items()}
    resolved_hostvars: dict[str, dict[str, t.Any]] = {}
    problems = []
    for host in groups.get("all", []):
        host_vars = hostvars[host]
        facts = None
        try:
            facts = host_vars.get("ansible_facts") if "ansible_facts" in host_vars else None
        except Exception:  # pylint: disable=broad-exception-caught
            facts = None
        out: dict[str, t.Any] = {}
        for name in host_vars:
            if name in _MAGIC_VARS or _is_fact(name, facts):
                continue
            try:
                out[name] = _plain(host_vars[name])
            except Exception as exc:  # pylint: disable=broad-exception-caught
                problems.append(f"hostvars[{host!r}][{name!r}]: {exc}")
        resolved_hostvars[host] = out
    if problems:
        raise AnsibleActionFail("cannot template the inventory's variables:\n  " + "\n  ".join(problems))
    return {"groups": groups, "hostvars": resolved_hostvars}


def inventory_argument(args: Mapping[str, t.Any], task_vars: Mapping[str, t.Any]) -> t.Any:
    """The inventory to hand metis_deploy: the ``path`` option, or the play's own inventory."""
    if args.get("path"):
        return str(args["path"])
    return inventory_from_task_vars(task_vars)


def format_diagnostic(diag: t.Any) -> str:
    """``file:line:column: error[code]: message (hint: ...)``."""
    return str(diag)


def error_message(exc: BaseException) -> str:
    """A metis_deploy exception as an action failure message, listing every located error."""
    diags = getattr(exc, "diagnostics", None) or []
    errors = [d for d in diags if d.severity == "error"]
    if not errors:
        return str(exc)
    lines = [f"the inventory has {len(errors)} error(s):"]
    lines.extend(f"  {format_diagnostic(d)}" for d in errors)
    return "\n".join(lines)


def call(func: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any) -> t.Any:
    """Calls a metis_deploy function; its errors become action failures with clear messages."""
    md = require_metis_deploy()
    try:
        return func(*args, **kwargs)
    except md.Error as exc:
        raise AnsibleActionFail(error_message(exc), result={"diagnostics": [d.to_dict() for d in getattr(exc, "diagnostics", [])]}) from exc
