# Copyright: metis-deploy contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin of metis.node.render_config (documentation in plugins/modules).

metis-core renders the host's files on the controller; all of them, with their modes, owners and
the directories they need, go to the host in ONE run of metis.node.apply_files, which writes only
what differs (atomically, never through a symbolic link) and reports what changed. Each file gets
the owner and group metis-core gives it (the service user under deploy_dir, root for system
files); missing parent directories are created, existing ones are never changed. Secret contents
travel in a no_log argument and are never diffed, logged or returned."""

from __future__ import annotations

import os

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.metis.node.plugins.plugin_utils.metis import (
    call,
    inventory_argument,
    require_metis_deploy,
    task_host,
)

APPLY_MODULE = "metis.node.apply_files"


class ActionModule(ActionBase):
    """Renders the current host's config files and applies them in one module run."""

    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = self.validate_argument_spec(
            argument_spec={
                "path": {"type": "path"},
                "host": {"type": "str"},
                "services": {"type": "list", "elements": "str"},
                "root": {"type": "path", "default": "/"},
                "set_owner": {"type": "bool", "default": True},
                "directory_mode": {"type": "raw", "default": "0755"},
                "backup": {"type": "bool", "default": False},
            }
        )[1]
        md = require_metis_deploy()
        host = task_host(args, task_vars, "render")
        inventory = inventory_argument(args, task_vars, self)
        files = call(md.render, inventory, host)
        if args["services"] is not None:
            known = {f.service for f in files}
            unknown = sorted(set(args["services"]) - known)
            if unknown:
                raise AnsibleActionFail(
                    f"host {host} runs no service {', '.join(unknown)} (it runs: {', '.join(sorted(known)) or 'none'})"
                )
            files = [f for f in files if f.service in args["services"]]

        try:
            return self._apply(result, files, args, task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    @staticmethod
    def _dest(args, path):
        return os.path.join(args["root"], path.lstrip("/"))

    @staticmethod
    def _dir_owner(f, path):
        """Owner and group of a directory created for file ``f``: the file's own below its
        deploy_dir (deploy_dir itself included), root elsewhere."""
        deploy_dir = f.deploy_dir.rstrip("/") or "/"
        if path == deploy_dir or path.startswith(deploy_dir + "/"):
            return f.owner, f.group
        return "root", "root"

    def _directories(self, files, args):
        """Every parent directory of the files, parents first, each once, with the owner of
        the first file that needs it; the missing directories above ``root`` first, owned by root.
        The module creates the missing ones only."""
        seen = set()
        out = []
        above_root = []
        d = os.path.dirname(os.path.normpath(args["root"]))
        while d not in ("/", "", ".") and d not in above_root:
            above_root.append(d)
            d = os.path.dirname(d)
        for d in reversed(above_root):
            entry = {"path": d, "mode": args["directory_mode"]}
            if args["set_owner"]:
                entry["owner"], entry["group"] = "root", "root"
            out.append(entry)
        for f in files:
            chain = []
            d = os.path.dirname(f.path.rstrip("/")) or "/"
            while d not in seen:
                seen.add(d)
                chain.append(d)
                if d == "/":
                    break
                d = os.path.dirname(d)
            for d in reversed(chain):
                entry = {"path": os.path.normpath(self._dest(args, d)), "mode": args["directory_mode"]}
                if args["set_owner"]:
                    entry["owner"], entry["group"] = self._dir_owner(f, d)
                out.append(entry)
        return out

    def _apply(self, result, files, args, task_vars):
        module_files = []
        for f in files:
            item = {"dest": self._dest(args, f.path), "mode": f.mode_octal, "service": f.service}
            # A secret content goes in the module's no_log option: masked wherever Ansible
            # shows or logs the arguments, and never put in a diff.
            item["secret_content" if f.secret else "content"] = f.content
            if args["set_owner"]:
                item["owner"], item["group"] = f.owner, f.group
            module_files.append(item)
        module_args = {
            "files": module_files,
            "directories": self._directories(files, args),
            "backup": args["backup"],
            "diff_max_bytes": C.MAX_FILE_SIZE_FOR_DIFF,
        }
        # The module must not log its arguments on the host (they hold whole files, secrets
        # included): a module logs them to the host's journal unless it runs as no_log, and that
        # comes from the task (_ansible_no_log), whatever the module itself asks for.
        task_no_log = self._task.no_log
        self._task.no_log = True
        try:
            res = self._execute_module(module_name=APPLY_MODULE, module_args=module_args, task_vars=task_vars)
        finally:
            self._task.no_log = task_no_log

        applied = res.get("files") or []
        entries = []
        for i, f in enumerate(files):
            done = applied[i] if i < len(applied) and isinstance(applied[i], dict) else {}
            entry = {
                "path": f.path,
                "dest": self._dest(args, f.path),
                "service": f.service,
                "mode": f.mode_octal,
                "owner": f.owner,
                "group": f.group,
                "secret": f.secret,
                "changed": bool(done.get("changed")),
            }
            if done.get("backup_file"):
                entry["backup_file"] = done["backup_file"]
            entries.append(entry)
        result.update(
            changed=bool(res.get("changed")),
            changed_services=list(res.get("changed_services") or []),
            files=entries,
            created_directories=list(res.get("created_directories") or []),
        )
        if res.get("diff"):
            result["diff"] = res["diff"]
        if res.get("failed"):
            msg = res.get("msg") or "cannot write the files"
            if res.get("module_stderr"):
                msg = f"{msg}: {res['module_stderr'].strip()}"
            raise AnsibleActionFail(msg, result=result)
        return result
