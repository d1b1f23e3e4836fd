#!/usr/bin/python
# Copyright: metis-deploy contributors
# Apache License 2.0 or, at your option, GNU General Public License v3.0+
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later
# (see https://www.apache.org/licenses/LICENSE-2.0 and https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: directories
short_description: Create a set of directories and keep their owner, group and mode, in one run
version_added: 0.2.0
description:
  - Does for every entry of O(directories) what M(ansible.builtin.file) with C(state=directory)
    does for one path, in one module run instead of one per directory (a host plan lists 10 to
    30 of them).
  - Creates a missing directory, its missing parents first, each with the entry's owner, group
    and mode; fixes the owner, group and mode of an existing one where they differ.
  - A path that exists and is not a directory fails, naming it; a symbolic link to a directory
    is followed, as M(ansible.builtin.file) follows it.
options:
  directories:
    description: The directories, typically a host plan's C(directories) (parents before children).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      mode:
        description: Mode, as an octal string (for example C("0750")).
        type: str
        required: true
      owner:
        description: Owner (user name); not changed when not set.
        type: str
      group:
        description: Group; not changed when not set.
        type: str
attributes:
  check_mode:
    support: full
    description: Reports what would be created or fixed without changing anything.
  diff_mode:
    support: full
    description: Shows, per created or fixed directory, its mode, owner and group before and after.
  platform:
    support: full
    platforms: posix
    description: Runs on POSIX hosts (user and group names, C(chown), C(chmod)).
seealso:
  - module: ansible.builtin.file
  - module: metis.node.render_config
author:
  - metis-deploy contributors (@metis-deploy)
"""

EXAMPLES = r"""
- name: Create the directories of the host's services
  metis.node.directories:
    directories: "{{ metis_plan.directories }}"

- name: Two directories
  metis.node.directories:
    directories:
      - {path: /opt/metis, mode: "0755", owner: metis, group: metis}
      - {path: /opt/metis/consul/data, mode: "0750", owner: metis, group: metis}
"""

RETURN = r"""
changed_paths:
  description: Directories created or fixed (or that would be, in check mode), in the order of O(directories).
  returned: always
  type: list
  elements: str
  sample: [/opt/metis/consul/data]
"""

import errno
import os
import re
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.metis.node.plugins.module_utils.accounts import exists, gid_of, group_name, uid_of, user_name


class Refused(Exception):
    """A directory that cannot be made what the entry says."""


def _owner(lookup, name):
    try:
        return lookup(name)
    except ValueError as e:
        raise Refused("%s (the bootstrap playbook creates the service user and group)" % e) from None


def _describe(mode, owner, group):
    return "mode=%04o owner=%s group=%s\n" % (mode, owner, group)


def _mode(entry):
    text = entry["mode"]
    if not re.fullmatch(r"[0-7]{3,4}", text or ""):
        raise Refused("mode %r of %s is not an octal mode like \"0750\"" % (text, entry["path"]))
    return int(text, 8)


def apply(entry, check_mode):
    """Makes one directory what the entry says; returns (created_or_fixed, diff or None)."""
    path = entry["path"]
    if not os.path.isabs(path):
        raise Refused("%s is not an absolute path" % path)
    path = os.path.normpath(path)
    mode = _mode(entry)
    try:
        st = os.stat(path)  # follows a link to a directory, as the file module does
    except (FileNotFoundError, NotADirectoryError):
        st = None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise Refused("%s exists and is not a directory" % path)
    if st is None:
        if os.path.lexists(path):
            raise Refused("%s is a symbolic link to nothing" % path)
        parent = os.path.dirname(path)
        if parent != path and os.path.lexists(parent) and not os.path.isdir(parent):
            raise Refused("%s cannot be created: %s exists and is not a directory" % (path, parent))
        after = _describe(mode, entry.get("owner") or "(unchanged)", entry.get("group") or "(unchanged)")
        if not check_mode:
            uid = _owner(uid_of, entry["owner"]) if entry.get("owner") else -1
            gid = _owner(gid_of, entry["group"]) if entry.get("group") else -1
            if parent != path and not os.path.isdir(parent):
                apply(dict(entry, path=parent), check_mode)
            os.mkdir(path, 0o700)
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        return True, {"before_header": path, "after_header": path, "before": "absent\n", "after": after}
    if check_mode and ((entry.get("owner") and not exists(uid_of, entry["owner"]))
                       or (entry.get("group") and not exists(gid_of, entry["group"]))):
        # The user comes with the same run (bootstrap); it would be set then.
        return True, None
    uid = _owner(uid_of, entry["owner"]) if entry.get("owner") else st.st_uid
    gid = _owner(gid_of, entry["group"]) if entry.get("group") else st.st_gid
    if (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (mode, uid, gid):
        return False, None
    diff = {"before_header": path, "after_header": path,
            "before": _describe(stat.S_IMODE(st.st_mode), user_name(st.st_uid), group_name(st.st_gid)),
            "after": _describe(mode, user_name(uid), group_name(gid))}
    if not check_mode:
        if (st.st_uid, st.st_gid) != (uid, gid):
            os.chown(path, uid, gid)
        if stat.S_IMODE(st.st_mode) != mode:
            os.chmod(path, mode)
    return True, diff


def main():
    module = AnsibleModule(
        argument_spec=dict(
            directories=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    path=dict(type="path", required=True),
                    mode=dict(type="str", required=True),
                    owner=dict(type="str"),
                    group=dict(type="str"),
                ),
            ),
        ),
        supports_check_mode=True,
    )
    changed_paths = []
    diffs = []
    for entry in module.params["directories"]:
        try:
            changed, diff = apply(entry, module.check_mode)
        except Refused as e:
            module.fail_json(msg="directory %s: %s" % (entry["path"], e), changed=bool(changed_paths), changed_paths=changed_paths)
        except OSError as e:
            hint = " (run with become)" if e.errno in (errno.EACCES, errno.EPERM) else ""
            msg = "directory %s: %s: %s%s" % (entry["path"], e.filename or entry["path"], e.strerror or e, hint)
            module.fail_json(msg=msg, changed=bool(changed_paths), changed_paths=changed_paths)
        if changed and entry["path"] not in changed_paths:
            changed_paths.append(entry["path"])
            if diff is not None:
                diffs.append(diff)
    result = dict(changed=bool(changed_paths), changed_paths=changed_paths)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
