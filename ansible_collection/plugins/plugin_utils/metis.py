# Copyright: metis-deploy contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Shared by the metis.node action plugins: importing metis_deploy, handing it the inventory the
play runs with, and turning its diagnostics into Ansible messages. Runs on the controller."""

from __future__ import annotations

import sys
import typing as t
from collections.abc import Mapping, Sequence, Set

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

try:
    from ansible.parsing.vault import VaultHelper as _VaultHelper
except ImportError:  # ansible-core < 2.19
    _VaultHelper = None
try:
    from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode as _LegacyVaulted
except ImportError:  # removed after ansible-core 2.19
    _LegacyVaulted = None

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


# Variables Ansible adds to every host's hostvars (ansible-core 2.17-2.19), never part of the
# inventory; facts (ansible_<fact>) are left out separately. Connection variables (ansible_host,
# ansible_user, ...) are kept: metis-core checks them.
_MAGIC_VARS = frozenset(
    (
        "ansible_check_mode",
        "ansible_config_file",
        "ansible_diff_mode",
        "ansible_facts",
        "ansible_forks",
        "ansible_inventory_sources",
        "ansible_limit",
        "ansible_playbook_python",
        "ansible_run_tags",
        "ansible_skip_tags",
        "ansible_verbosity",
        "ansible_version",
        "gather_subset",
        "group_names",
        "groups",
        "inventory_dir",
        "inventory_file",
        "inventory_hostname",
        "inventory_hostname_short",
        "module_setup",
        "playbook_dir",
    )
)


def _vault_ciphertext(value: t.Any) -> str | None:
    """The ciphertext of a vaulted value as Ansible holds it un-templated, else None."""
    if _VaultHelper is not None:
        return _VaultHelper.get_ciphertext(value, with_tags=False)
    if _LegacyVaulted is not None and isinstance(value, _LegacyVaulted):  # ansible-core < 2.19
        return str(value._ciphertext, "utf-8")  # pylint: disable=protected-access
    return None


def _as_written(value: t.Any) -> str | None:
    """How a variable was written, when its value is not that text: a Jinja template (Ansible
    evaluates it) or Ansible Vault ciphertext (Ansible decrypts it)."""
    ciphertext = _vault_ciphertext(value)
    if ciphertext is not None:
        return ciphertext
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        return str(value)
    return None


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
    """``{"groups", "hostvars", "raw"}`` of the play's inventory: values templated (and
    decrypted) as Ansible would for each host, and in ``raw`` how templated and vaulted
    variables were written, so that metis-core does not take them for plaintext secrets.
    Fails naming the host and variable whose value cannot be templated."""
    groups_var = task_vars.get("groups")
    hostvars = task_vars.get("hostvars")
    if not isinstance(groups_var, Mapping) or not isinstance(hostvars, Mapping):
        raise AnsibleActionFail("the task variables hold no 'groups'/'hostvars': cannot read the play's inventory; set 'path'")
    groups = {str(name): [str(h) for h in hosts] for name, hosts in groups_var.items()}
    resolved_hostvars: dict[str, dict[str, t.Any]] = {}
    raw: dict[str, dict[str, str]] = {}
    problems = []
    for host in groups.get("all", []):
        host_vars = hostvars[host]
        unevaluated = hostvars.raw_get(host)
        facts = unevaluated.get("ansible_facts")
        out: dict[str, t.Any] = {}
        written: dict[str, str] = {}
        for name in host_vars:
            if name in _MAGIC_VARS or _is_fact(name, facts):
                continue
            text = _as_written(unevaluated.get(name))
            if text is not None:
                written[name] = text
            try:
                out[name] = _plain(host_vars[name])
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # Templating runs whatever the inventory holds: any error names the variable.
                problems.append(f"hostvars[{host!r}][{name!r}]: {exc}")
        resolved_hostvars[host] = out
        if written:
            raw[host] = written
    if problems:
        raise AnsibleActionFail("cannot template the inventory's variables:\n  " + "\n  ".join(problems))
    return {"groups": groups, "hostvars": resolved_hostvars, "raw": raw}


def inventory_argument(args: Mapping[str, t.Any], task_vars: Mapping[str, t.Any]) -> t.Any:
    """The inventory to hand metis_deploy: the ``path`` option, or the play's own inventory."""
    if args.get("path"):
        return str(args["path"])
    return inventory_from_task_vars(task_vars)


def error_message(exc: BaseException) -> str:
    """A metis_deploy exception as an action failure message, listing every located error."""
    errors = exc.errors if isinstance(exc, metis_deploy.InventoryError) else []
    if not errors:
        return str(exc)
    lines = [f"the inventory has {len(errors)} error(s):"]
    lines.extend(f"  {d}" for d in errors)
    return "\n".join(lines)


def call(func: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any) -> t.Any:
    """Calls a metis_deploy function (got from :func:`require_metis_deploy`); its errors become
    action failures with clear messages."""
    try:
        return func(*args, **kwargs)
    except metis_deploy.Error as exc:
        diags = exc.diagnostics if isinstance(exc, metis_deploy.InventoryError) else []
        raise AnsibleActionFail(error_message(exc), result={"diagnostics": [d.to_dict() for d in diags]}) from exc


class ControllerAction(ActionBase):
    """An action that only reads, on the controller: no connection, no files, check mode as is.

    Subclasses give ``ARGUMENT_SPEC`` and implement ``run_with(args, task_vars, result)``.
    """

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {}

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self.validate_argument_spec(argument_spec={"path": {"type": "path"}, **self.ARGUMENT_SPEC})[1]
        return self.run_with(args, task_vars or {}, result)

    def run_with(self, args: dict[str, t.Any], task_vars: Mapping[str, t.Any], result: dict[str, t.Any]) -> dict[str, t.Any]:
        raise NotImplementedError
