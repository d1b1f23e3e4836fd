# Copyright: metis-deploy contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin of metis.node.render_config (documentation in plugins/modules).

metis-core renders the host's files on the controller; each file is written through
``ansible.legacy.copy`` as the template action does, so writes are atomic and check mode, diff
mode and backups behave as usual. Each file gets the owner and group metis-core gives it (the
service user under deploy_dir, root for system files); missing parent directories are created,
existing ones are never changed. Secret files are never diffed or logged."""

from __future__ import annotations

import os
import shutil
import tempfile

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase

from ansible_collections.metis.node.plugins.plugin_utils.metis import (
    call,
    inventory_argument,
    require_metis_deploy,
)

SECRET_DIFF = "content not shown: the file holds secrets"


class ActionModule(ActionBase):
    """Renders the current host's config files and writes them."""

    TRANSFERS_FILES = True
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
                "follow": {"type": "bool", "default": False},
            }
        )[1]
        md = require_metis_deploy()
        host = args["host"] or task_vars.get("inventory_hostname")
        if not host:
            raise AnsibleActionFail("no host to render for: set 'host'")
        inventory = inventory_argument(args, task_vars, self)
        files = call(md.render, inventory, str(host))
        if args["services"] is not None:
            known = {f.service for f in files}
            unknown = sorted(set(args["services"]) - known)
            if unknown:
                raise AnsibleActionFail(
                    f"host {host} runs no service {', '.join(unknown)} (it runs: {', '.join(sorted(known)) or 'none'})"
                )
            files = [f for f in files if f.service in args["services"]]

        try:
            return self._write_all(result, files, args, task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _dest(self, args, path):
        return os.path.join(args["root"], path.lstrip("/"))

    @staticmethod
    def _dir_owner(f, path):
        """Owner and group of a directory created for file ``f``: the file's own below its
        deploy_dir (deploy_dir itself included), root elsewhere."""
        deploy_dir = f.deploy_dir.rstrip("/") or "/"
        if path == deploy_dir or path.startswith(deploy_dir + "/"):
            return f.owner, f.group
        return "root", "root"

    def _missing_dirs(self, files, args, task_vars):
        """Parent directories of the files that do not exist yet, parents first, each with the
        file that needs it (stat only: existing directories are never touched)."""
        known = {}  # path on the host (without root) -> exists
        missing = []
        for f in files:
            chain = []
            d = os.path.dirname(f.path.rstrip("/")) or "/"
            while d not in known:
                st = self._execute_remote_stat(self._dest(args, d), all_vars=task_vars, follow=True, checksum=False)
                if st.get("exists"):
                    if not st.get("isdir"):
                        raise AnsibleActionFail(f"{self._dest(args, d)} exists and is not a directory")
                    known[d] = True
                    break
                known[d] = False
                chain.append(d)
                if d == "/":
                    break
                d = os.path.dirname(d)
            missing.extend((p, f) for p in reversed(chain))
        return missing

    def _ensure_dirs(self, files, args, task_vars):
        """Creates the missing parent directories (none in check mode). Returns their paths."""
        missing = self._missing_dirs(files, args, task_vars)
        if self._task.check_mode:
            return {self._dest(args, path) for path, _file in missing}
        for path, f in missing:
            dest = self._dest(args, path)
            module_args = {"path": dest, "state": "directory", "mode": args["directory_mode"]}
            if args["set_owner"]:
                module_args["owner"], module_args["group"] = self._dir_owner(f, path)
            res = self._execute_module(module_name="ansible.legacy.file", module_args=module_args, task_vars=task_vars)
            if res.get("failed"):
                raise AnsibleActionFail(f"cannot create directory {dest}: {res.get('msg', '')}")
        return {self._dest(args, path) for path, _file in missing}

    def _write_all(self, result, files, args, task_vars):
        missing_dirs = self._ensure_dirs(files, args, task_vars)
        created = sorted(missing_dirs)
        written = []
        diffs = []
        changed_services = []
        failures = []
        local_tempdir = tempfile.mkdtemp(dir=C.DEFAULT_LOCAL_TMP)
        try:
            for f in files:
                dest = self._dest(args, f.path)
                if self._task.check_mode and os.path.dirname(dest) in missing_dirs:
                    # Check mode, directory not there yet: the file would be created.
                    res = {"changed": True, "diff": [{"before": "", "after": f.content}]}
                else:
                    res = self._copy(f, dest, args, task_vars, local_tempdir)
                if res.get("failed"):
                    failures.append(f"{dest}: {res.get('msg', 'copy failed')}")
                    continue
                changed = bool(res.get("changed"))
                entry = {
                    "path": f.path,
                    "dest": dest,
                    "service": f.service,
                    "mode": f.mode_octal,
                    "owner": f.owner,
                    "group": f.group,
                    "secret": f.secret,
                    "changed": changed,
                }
                if res.get("backup_file"):
                    entry["backup_file"] = res["backup_file"]
                written.append(entry)
                if changed and f.service not in changed_services:
                    changed_services.append(f.service)
                if self._task.diff and changed:
                    diffs.extend(self._diff_of(f, dest, res))
        finally:
            shutil.rmtree(to_bytes(local_tempdir, errors="surrogate_or_strict"), ignore_errors=True)

        result.update(
            changed=bool(changed_services) or bool(created),
            changed_services=changed_services,
            files=written,
            created_directories=created,
        )
        if diffs:
            result["diff"] = diffs
        if failures:
            raise AnsibleActionFail("cannot write " + "; ".join(failures), result=result)
        return result

    def _copy(self, f, dest, args, task_vars, local_tempdir):
        local = os.path.join(local_tempdir, os.path.basename(dest) or "file")
        fd = os.open(to_bytes(local, errors="surrogate_or_strict"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(to_bytes(f.content, errors="surrogate_or_strict"))
        new_task = self._task.copy()
        new_task.args = {
            "src": local,
            "dest": dest,
            "mode": f.mode_octal,
            "backup": args["backup"],
            "follow": args["follow"],
        }
        if args["set_owner"]:
            new_task.args.update(owner=f.owner, group=f.group)
        if f.secret:
            new_task.diff = False
            new_task.no_log = True
        copy_action = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.copy",
            task=new_task,
            connection=self._connection,
            play_context=self._play_context,
            loader=self._loader,
            templar=self._templar,
            shared_loader_obj=self._shared_loader_obj,
        )
        try:
            return copy_action.run(task_vars=task_vars)
        finally:
            os.remove(local)

    @staticmethod
    def _diff_of(f, dest, res):
        if f.secret:
            return [{"before_header": dest, "after_header": dest, "prepared": f"{dest}: {SECRET_DIFF}\n"}]
        raw = res.get("diff") or []
        out = []
        for d in raw if isinstance(raw, list) else [raw]:
            if not d:
                continue
            d = dict(d)
            # copy names its local temporary file as "after": name the destination instead.
            d["before_header"] = dest
            d["after_header"] = dest
            out.append(d)
        return out
