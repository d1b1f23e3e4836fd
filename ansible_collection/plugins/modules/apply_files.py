#!/usr/bin/python
# Copyright: metis-deploy contributors
# Apache License 2.0 or, at your option, GNU General Public License v3.0+
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later
# (see https://www.apache.org/licenses/LICENSE-2.0 and https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: apply_files
short_description: Write a set of files on the host in one run (internal to metis.node.render_config)
version_added: 0.2.0
description:
  - Internal module of M(metis.node.render_config), which renders a host's files on the controller
    and hands all of them to this module in one run. Use M(metis.node.render_config) in playbooks.
  - Creates the missing directories of O(directories), parents first, with their owner, group and
    mode; existing directories are never changed.
  - For each file, compares the SHA-256 of the content on the host with the wanted one and writes
    only what differs, through a temporary file in the destination's directory renamed over the
    destination, so every write makes a new inode and readers never see half a file.
  - Never follows a symbolic link at a destination (C(lstat)); a link is replaced by the file.
  - Fixes the mode, owner and group of a file whose content is already right (reported as
    changed).
  - The contents of secret files (O(files[].secret_content)) are never logged, returned or
    diffed; their diff only says that they changed.
options:
  files:
    description: The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      dest:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description:
          - Content of a file without secrets (diffed).
          - Exactly one of O(files[].content) and O(files[].secret_content) is set.
        type: str
      secret_content:
        description:
          - Content of a file holding secrets (never logged, returned or diffed).
        type: str
      mode:
        description: Mode of the file, octal (for example C(0640)).
        type: str
        required: true
      owner:
        description: Owner (user name) of the file; the owner is not changed when not set.
        type: str
      group:
        description: Group of the file; the group is not changed when not set.
        type: str
      service:
        description: Service the file belongs to (reported in RV(changed_services)).
        type: str
  directories:
    description:
      - Directories the files need, parents first. The missing ones are created; existing ones
        are left as they are (no chmod, no chown). A path that exists and is not a directory
        fails.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      mode:
        description: Mode of a created directory, octal or symbolic as in M(ansible.builtin.file).
        type: raw
        required: true
      owner:
        description: Owner of a created directory; not changed when not set.
        type: str
      group:
        description: Group of a created directory; not changed when not set.
        type: str
  backup:
    description: Keep a timestamped copy of each regular file whose content is replaced.
    type: bool
    default: false
  diff_max_bytes:
    description: Files larger than this are not shown in diffs (only that they changed).
    type: int
    default: 104448
attributes:
  check_mode:
    support: full
    description: Reports what would change without writing.
  diff_mode:
    support: full
    description: Shows content changes of files without secrets, and mode or owner changes.
  platform:
    support: full
    platforms: posix
    description: Runs on POSIX hosts (C(lstat), C(rename), user and group names).
notes:
  - Runs once per host for all files, which is what makes M(metis.node.render_config) cost one
    module run per host.
seealso:
  - module: metis.node.render_config
author:
  - metis-deploy contributors (@metis-deploy)
"""

EXAMPLES = r"""
# Called by metis.node.render_config; shown for completeness.
- name: Write two files
  metis.node.apply_files:
    directories:
      - {path: /opt/metis, mode: "0755", owner: root, group: root}
    files:
      - dest: /opt/metis/app.conf
        content: "port = 8080\n"
        mode: "0644"
        owner: root
        group: root
        service: app
"""

RETURN = r"""
files:
  description: One entry per file of O(files), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    dest:
      description: Path of the file.
      type: str
      returned: always
    changed:
      description: Whether the file was (or would be, in check mode) written or had its mode or owner fixed.
      type: bool
      returned: always
    content_changed:
      description: Whether the content was (or would be) replaced.
      type: bool
      returned: always
    backup_file:
      description: Copy of the replaced file.
      type: str
      returned: when O(backup=true) and a regular file's content was replaced
  sample:
    - dest: /opt/metis/app.conf
      changed: true
      content_changed: true
changed_services:
  description: Services of the changed files, in the order of O(files), each once.
  returned: always
  type: list
  elements: str
  sample: [app]
created_directories:
  description: Directories created (or that would be, in check mode), parents first.
  returned: always
  type: list
  elements: str
  sample: [/opt/metis]
"""

import hashlib
import os
import stat
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible_collections.metis.node.plugins.module_utils.accounts import gid_of, group_name, uid_of, user_name

SECRET_DIFF = "content not shown: the file holds secrets"


def _attrs(st):
    return {
        "mode": "%04o" % stat.S_IMODE(st.st_mode),
        "owner": user_name(st.st_uid),
        "group": group_name(st.st_gid),
    }


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _backup(dest, old, st):
    """A copy of the replaced content next to ``dest`` (named as Ansible's backups), with the
    replaced file's mode and owner; returns its path."""
    path = "%s.%s.%s" % (dest, os.getpid(), time.strftime("%Y-%m-%d@%H:%M:%S~", time.localtime()))
    fd = os.open(to_bytes(path, errors="surrogate_or_strict"), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        try:
            os.fchown(fd, st.st_uid, st.st_gid)
        except PermissionError:
            pass  # not root: the backup is ours, with the replaced file's mode
        os.fchmod(fd, stat.S_IMODE(st.st_mode))
        _write_all(fd, old)
    finally:
        os.close(fd)
    return path


def _write(dest, data, mode, uid, gid):
    """Writes through a temporary file in the same directory renamed over ``dest``: a new
    inode, never a write through a symbolic link (rename replaces the link itself)."""
    directory, name = os.path.split(dest)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % name, suffix=".tmp", dir=directory)
    try:
        try:
            if uid is not None or gid is not None:
                os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
            os.fchmod(fd, mode)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class Applier(object):
    """Applies the files of one module run."""

    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.want_diff = module._diff  # pylint: disable=protected-access
        self.max_diff = module.params["diff_max_bytes"]
        self.created = []
        self.diffs = []

    def directories(self, dirs):
        for d in dirs:
            path = d["path"]
            b_path = to_bytes(path, errors="surrogate_or_strict")
            if os.path.isdir(b_path):
                continue
            if os.path.lexists(b_path):
                raise ValueError("%s exists and is not a directory" % path)
            self.created.append(path)
            if self.check:
                continue
            os.mkdir(b_path, 0o700)
            # The helpers below take octal and symbolic modes, as the file module does.
            self.module.set_owner_if_different(path, d.get("owner"), False, expand=False)
            self.module.set_group_if_different(path, d.get("group"), False, expand=False)
            self.module.set_mode_if_different(path, d["mode"], False, expand=False)

    def file(self, f):
        """Applies one file; returns its result entry."""
        dest = f["dest"]
        b_dest = to_bytes(dest, errors="surrogate_or_strict")
        secret = f.get("secret_content") is not None
        data = to_bytes(f["secret_content"] if secret else f["content"], errors="surrogate_or_strict")
        mode = int(f["mode"], 8)
        uid = uid_of(f["owner"]) if f.get("owner") is not None else None
        gid = gid_of(f["group"]) if f.get("group") is not None else None
        entry = {"dest": dest, "changed": False, "content_changed": False}

        try:
            st = os.lstat(b_dest)
        except FileNotFoundError:  # also when the directory is missing (check mode)
            st = None
        if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            raise ValueError("%s exists and is neither a regular file nor a symbolic link" % dest)

        fd = None
        try:
            old = None
            if st is not None and stat.S_ISREG(st.st_mode):
                # O_NOFOLLOW: fails if a link was put there since lstat; O_NONBLOCK: a FIFO
                # put there cannot block. The descriptor is what gets compared and fixed.
                fd = os.open(b_dest, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                st = os.fstat(fd)
                # A file with other hard links is replaced, never changed in place.
                if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
                    old = _read_all(fd)
            if old is None or hashlib.sha256(old).digest() != hashlib.sha256(data).digest():
                entry["changed"] = entry["content_changed"] = True
                if self.want_diff:
                    self._content_diff(dest, secret, old, data, st)
                if not self.check:
                    if self.module.params["backup"] and old is not None:
                        entry["backup_file"] = _backup(dest, old, st)
                    _write(dest, data, mode, uid, gid)
                return entry

            # Same content: fix the mode and owner of that very file.
            have = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            want = (mode, st.st_uid if uid is None else uid, st.st_gid if gid is None else gid)
            if have != want:
                entry["changed"] = True
                if self.want_diff:
                    after = {"mode": "%04o" % mode, "owner": user_name(want[1]), "group": group_name(want[2])}
                    self.diffs.append({"before_header": dest, "after_header": dest, "before": _attrs(st), "after": after})
                if not self.check:
                    if (have[1], have[2]) != (want[1], want[2]):
                        os.fchown(fd, want[1], want[2])
                    os.fchmod(fd, mode)
            return entry
        finally:
            if fd is not None:
                os.close(fd)

    def _content_diff(self, dest, secret, old, data, st):
        if secret:
            self.diffs.append({"before_header": dest, "after_header": dest, "prepared": "%s: %s\n" % (dest, SECRET_DIFF)})
            return
        if st is not None and stat.S_ISLNK(st.st_mode):
            before = ""
            before_header = "%s (a symbolic link, replaced)" % dest
        elif st is not None and old is None:
            before = ""
            before_header = "%s (a file with other hard links, replaced)" % dest
        else:
            before = self._shown(old or b"")
            before_header = dest
        self.diffs.append({"before_header": before_header, "after_header": dest, "before": before, "after": self._shown(data)})

    def _shown(self, data):
        if len(data) > self.max_diff:
            return "(%d bytes, larger than the diff limit of %d bytes)\n" % (len(data), self.max_diff)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return "(%d bytes, not UTF-8 text)\n" % len(data)


def main():
    module = AnsibleModule(
        argument_spec={
            "files": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "dest": {"type": "path", "required": True},
                    "content": {"type": "str"},
                    "secret_content": {"type": "str", "no_log": True},
                    "mode": {"type": "str", "required": True},
                    "owner": {"type": "str"},
                    "group": {"type": "str"},
                    "service": {"type": "str"},
                },
                "mutually_exclusive": [["content", "secret_content"]],
                "required_one_of": [["content", "secret_content"]],
            },
            "directories": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "path", "required": True},
                    "mode": {"type": "raw", "required": True},
                    "owner": {"type": "str"},
                    "group": {"type": "str"},
                },
            },
            "backup": {"type": "bool", "default": False},
            "diff_max_bytes": {"type": "int", "default": 104448},
        },
        supports_check_mode=True,
        # The arguments hold whole files: not logged on the host.
        no_log=True,
    )
    for f in module.params["files"]:
        try:
            int(f["mode"], 8)
        except ValueError:
            module.fail_json(msg="%s: mode %r is not an octal number" % (f["dest"], f["mode"]))

    applier = Applier(module)
    try:
        applier.directories(module.params["directories"])
    except (OSError, ValueError) as exc:
        module.fail_json(msg="cannot create directories: %s" % to_text(exc), created_directories=applier.created)

    results = []
    failures = []
    changed_services = []
    for f in module.params["files"]:
        try:
            entry = applier.file(f)
        except (OSError, ValueError) as exc:
            failures.append("%s: %s" % (f["dest"], to_text(exc)))
            entry = {"dest": f["dest"], "changed": False, "content_changed": False, "failed": True}
        results.append(entry)
        service = f.get("service")
        if entry["changed"] and service and service not in changed_services:
            changed_services.append(service)

    out = {
        "changed": bool(applier.created) or any(e["changed"] for e in results),
        "files": results,
        "changed_services": changed_services,
        "created_directories": applier.created,
    }
    if applier.diffs:
        out["diff"] = applier.diffs
    if failures:
        module.fail_json(msg="cannot write " + "; ".join(failures), **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
