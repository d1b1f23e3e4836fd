# Copyright: metis-deploy contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Shared by the metis.node action plugins: importing metis_deploy, handing it the inventory the
play runs with, and turning its diagnostics into Ansible messages. Runs on the controller."""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import pickle  # nosec B403 - only this run's authenticated cache files are unpickled
import sys
import time
import typing as t
from collections.abc import Mapping, Sequence, Set

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.template import Templar
from ansible.utils.display import Display

try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:  # pragma: no cover - ansible-core requires cryptography
    AESGCM = None

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
    """A deep copy made of plain Python types (Ansible's tagged strings and numbers become
    ``str``, ``int``, ``float``). Reading Ansible's lazy containers templates them."""
    if depth > 64:
        raise ValueError("nested too deeply")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, Mapping):
        return {_plain(k, depth + 1): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, Set):
        return {_plain(v, depth + 1) for v in value}
    if isinstance(value, tuple):
        return tuple(_plain(v, depth + 1) for v in value)
    if isinstance(value, Sequence):
        return [_plain(v, depth + 1) for v in value]
    return value


_TEMPLATE_MARKS = ("{{", "{%", "{#")


def _needs_templating(value: t.Any, depth: int = 0) -> bool:
    """Whether Ansible could make something else of ``value`` than ``value`` itself: a string
    with Jinja syntax or a vaulted value, anywhere inside. Templating a value that has neither
    returns an equal copy, at a high price for long lists (every item goes through the engine)."""
    if depth > 64:
        return True
    if value is None or isinstance(value, (bool, int, float, bytes)):
        return False
    if isinstance(value, str):  # vaulted strings are not str (they decrypt when templated)
        return any(mark in value for mark in _TEMPLATE_MARKS) or value.startswith("#jinja2:")
    if _vault_ciphertext(value) is not None:
        return True
    if isinstance(value, Mapping):
        return any(_needs_templating(k, depth + 1) or _needs_templating(v, depth + 1) for k, v in value.items())
    if isinstance(value, (Sequence, Set)):
        return any(_needs_templating(v, depth + 1) for v in value)
    return True  # a type this function does not know: let Ansible decide


def _is_fact(name: str, facts: t.Any) -> bool:
    """A fact, not an inventory variable: ``ansible_<fact>``, or a fact an action set (such as
    ``metis_plan``), which Ansible also injects as a variable of the same name."""
    if not isinstance(facts, Mapping):
        return False
    return name in facts or (name.startswith("ansible_") and name[8:] in facts)


class _TemplatedView:
    """``hostvars[host]`` made from variables already looked up: ``view[name]`` templates the
    variable with the host's variables, as Ansible's own view does."""

    def __init__(self, loader: t.Any, variables: Mapping[str, t.Any]) -> None:
        self._variables = variables
        self._templar = Templar(loader=loader, variables=variables)

    def __getitem__(self, name: str) -> t.Any:
        return self._templar.template(self._variables[name])


def inventory_from_task_vars(task_vars: Mapping[str, t.Any], loader: t.Any = None) -> dict[str, t.Any]:
    """``{"groups", "hostvars", "raw"}`` of the play's inventory: values templated (and
    decrypted) as Ansible would for each host, and in ``raw`` how templated and vaulted
    variables were written, so that metis-core does not take them for plaintext secrets.
    Fails naming the host and variable whose value cannot be templated.

    Costs one variable lookup per host (``hostvars.raw_get``); only values with Jinja syntax or
    vaulted values are templated, with the host's variables, as ``hostvars[host][name]`` does
    (``loader`` is the action's DataLoader, through which lookups find files; without it,
    through ``hostvars[host]``, at the price of a second lookup per host)."""
    groups_var = task_vars.get("groups")
    hostvars = task_vars.get("hostvars")
    if not isinstance(groups_var, Mapping) or not isinstance(hostvars, Mapping) or not hasattr(hostvars, "raw_get"):
        raise AnsibleActionFail("the task variables hold no 'groups'/'hostvars': cannot read the play's inventory; set 'path'")
    groups = {str(name): [str(h) for h in hosts] for name, hosts in groups_var.items()}
    resolved_hostvars: dict[str, dict[str, t.Any]] = {}
    raw: dict[str, dict[str, str]] = {}
    problems = []
    for host in groups.get("all", []):
        unevaluated = hostvars.raw_get(host)
        facts = unevaluated.get("ansible_facts")
        view = None
        out: dict[str, t.Any] = {}
        written: dict[str, str] = {}
        for name, value in unevaluated.items():
            if name in _MAGIC_VARS or _is_fact(name, facts):
                continue
            text = _as_written(value)
            if text is not None:
                written[name] = text
            try:
                if _needs_templating(value):
                    if view is None:
                        view = hostvars[host] if loader is None else _TemplatedView(loader, unevaluated)
                    value = view[name]
                out[name] = _plain(value)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # Templating runs whatever the inventory holds: any error names the variable.
                problems.append(f"hostvars[{host!r}][{name!r}]: {exc}")
        resolved_hostvars[host] = out
        if written:
            raw[host] = written
    if problems:
        raise AnsibleActionFail("cannot template the inventory's variables:\n  " + "\n  ".join(problems))
    return {"groups": groups, "hostvars": resolved_hostvars, "raw": raw}


# The play's inventory, templated once per task and shared by the task's hosts.
#
# Ansible runs every task of every host in a worker process forked from the controller's main
# process, so a plain dict in this module lives only as long as one host's task. The first worker
# of a task templates every host's variables (what costs O(hosts)); the others read its result
# from ANSIBLE_LOCAL_TEMP, which holds this run only and is removed when it ends. The file is
# encrypted (AES-GCM) with a key made when the main process loads this module (the strategy
# loads the action plugins before forking their workers), which the workers inherit and which is
# never written anywhere: the templated inventory holds the play's secrets in plaintext. A worker
# that loaded this module itself has no shared key and templates alone.
#
# The key of an entry is the task (and the groups): variables can change between tasks
# (set_fact, include_vars, add_host), and only templating every host again would notice it.
display = Display()
_RUN_KEY = os.urandom(32)
_LOADED_BY = os.getpid()
_MEMO: dict[str, dict[str, t.Any]] = {}


def _cache_dir() -> str | None:
    """The run's own temporary directory on the controller, when the key is shared with it."""
    if AESGCM is None or os.getpid() == _LOADED_BY:
        return None
    directory = getattr(C, "DEFAULT_LOCAL_TMP", None)
    return directory if directory and os.path.isdir(directory) else None


def _load_shared(path: str, name: str) -> dict[str, t.Any] | None:
    try:
        with open(path, "rb") as f:
            blob = f.read()
        # Authenticated with this run's key: only this run can have written it.
        return pickle.loads(AESGCM(_RUN_KEY).decrypt(blob[:12], blob[12:], name.encode()))  # nosec B301
    except Exception:  # pylint: disable=broad-exception-caught
        return None  # missing, or not this run's: template again


def _store_shared(path: str, name: str, value: dict[str, t.Any]) -> None:
    try:
        nonce = os.urandom(12)
        blob = nonce + AESGCM(_RUN_KEY).encrypt(nonce, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), name.encode())
    except Exception:  # pylint: disable=broad-exception-caught
        return  # a value pickle cannot hold: not shared, still correct
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(blob)
    os.replace(tmp, path)


def _templated(task_vars: Mapping[str, t.Any], loader: t.Any) -> dict[str, t.Any]:
    start = time.monotonic()
    value = inventory_from_task_vars(task_vars, loader)
    display.vvv(f"metis: templated the play's inventory ({len(value['hostvars'])} hosts) in {time.monotonic() - start:.2f} s")
    return value


def play_inventory(task_vars: Mapping[str, t.Any], action: ActionBase | None = None) -> dict[str, t.Any]:
    """:func:`inventory_from_task_vars`, templated once per task of ``action`` and shared with
    the task's other hosts (see the comment above); templated every time without ``action``."""
    task_id = getattr(getattr(action, "_task", None), "_uuid", None)
    if not task_id:
        return inventory_from_task_vars(task_vars)
    loader = getattr(action, "_loader", None)
    groups = task_vars.get("groups")
    groups_text = repr(sorted((str(g), [str(h) for h in hs]) for g, hs in groups.items())) if isinstance(groups, Mapping) else ""
    name = hmac.new(_RUN_KEY, f"{task_id}\0{groups_text}".encode(), hashlib.sha256).hexdigest()
    if name in _MEMO:
        return _MEMO[name]
    directory = _cache_dir()
    if directory is None:
        value = _templated(task_vars, loader)
    else:
        path = os.path.join(directory, f"metis-inventory-{name}")
        fd = os.open(f"{path}.lock", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            # One worker templates, the task's other workers wait for it.
            fcntl.flock(fd, fcntl.LOCK_EX)
            value = _load_shared(path, name)
            if value is None:
                value = _templated(task_vars, loader)
                _store_shared(path, name, value)
            else:
                display.vvv("metis: reused the play's inventory, templated for this task by another host")
        finally:
            os.close(fd)
    _MEMO[name] = value
    return value


def inventory_argument(args: Mapping[str, t.Any], task_vars: Mapping[str, t.Any], action: ActionBase | None = None) -> t.Any:
    """The inventory to hand metis_deploy: the ``path`` option, or the play's own inventory.
    Pass the calling ``action``: the play's inventory is then templated once per task, not once
    per host (:func:`play_inventory`)."""
    if args.get("path"):
        return str(args["path"])
    return play_inventory(task_vars, action)


def task_host(args: Mapping[str, t.Any], task_vars: Mapping[str, t.Any], doing: str) -> str:
    """The inventory host a task is about: the ``host`` option, else the current host."""
    host = args["host"] or task_vars.get("inventory_hostname")
    if not host:
        raise AnsibleActionFail(f"no host to {doing} for: set 'host'")
    return str(host)


def listing(header: str, diagnostics: Sequence[t.Any]) -> str:
    """``header``, then one indented line per diagnostic."""
    lines = [header]
    lines.extend(f"  {d}" for d in diagnostics)
    return "\n".join(lines)


def error_message(exc: BaseException) -> str:
    """A metis_deploy exception as an action failure message, listing every located error."""
    errors = exc.errors if isinstance(exc, metis_deploy.InventoryError) else []
    if not errors:
        return str(exc)
    return listing(f"the inventory has {len(errors)} error(s):", errors)


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
