#!/usr/bin/python
# Copyright: metis-deploy contributors
# Apache License 2.0 or, at your option, GNU General Public License v3.0+
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later
# (see https://www.apache.org/licenses/LICENSE-2.0 and https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: render_config
short_description: Render and write a Metis host's config files
version_added: 0.1.0
description:
  - Renders every config file of the current host (consul, carrier, admin, nginx, mysql, ice_via,
    fighter configs and service units) with metis-core on the controller, from the inventory the
    play runs with or from O(path).
  - Applies all of the host's files in one run of M(metis.node.apply_files) on the host. The
    contents, modes, owners and the directories they need travel once; the host compares each
    file's SHA-256 and writes only what differs, through a temporary file in the same directory
    renamed over the destination (a new inode, never a half-written file).
  - A symbolic link at a destination is replaced by the file, never written through.
  - A file whose content is right but whose mode, owner or group drifted is fixed (and counts
    as a change).
  - Each file gets the owner and group metis-core gives it, not one for all files. Files under
    C(deploy_dir), which the services read, belong to the service user (C(service_user)); system
    files (systemd units, the nginx site, MariaDB settings), which root-run daemons load, to C(root).
  - Parent directories that do not exist are created with O(directory_mode), owned by the
    file's owner below C(deploy_dir) (itself included) and by C(root) elsewhere. Existing
    directories are never changed (no chmod, no chown).
  - Files holding secrets (passwords, tokens, keys) are written C(0600), never diffed and never
    logged; in diff mode they show only that they changed. Their contents reach the host in a
    C(no_log) argument of M(metis.node.apply_files).
  - Returns RV(changed_services) so handlers restart only the services whose files changed.
options:
  host:
    description:
      - Inventory host to render for. Defaults to the current host (C(inventory_hostname)).
    type: str
  services:
    description:
      - Only write the files of these services (for example C(consul), C(carrier)).
      - All services of the host when not set.
    type: list
    elements: str
  root:
    description:
      - Directory prepended to every destination path (a staging tree, or a test directory).
    type: path
    default: /
  set_owner:
    description:
      - Give every file and created directory the owner and group described above.
      - Set V(false) only where the files may not be chowned, for example when the connection
        user is not root and writes into a staging tree (O(root)); files and directories then
        belong to the connection user. There is no option to give all files one owner, since
        that would hand root-loaded units to the service user.
    type: bool
    default: true
  directory_mode:
    description:
      - Mode of the directories created for the files. Existing directories keep theirs.
    type: raw
    default: "0755"
  backup:
    description:
      - Keep a timestamped backup of each file replaced.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports what would change without writing.
  diff_mode:
    support: full
    description: Shows the changes of every file except secret files, which only report a change.
notes:
  - The task is changed when a file changed (content, mode or owner) or a directory was created
    (or would be, in check mode).
  - Until version 0.2.0 the files were written with M(ansible.builtin.copy), several module runs
    per file; the option C(follow) is gone with it (links are always replaced).
extends_documentation_fragment:
  - metis.node.metis
seealso:
  - module: metis.node.validate_inventory
  - module: metis.node.apply_files
author:
  - metis-deploy contributors (@metis-deploy)
"""

EXAMPLES = r"""
- name: Write this host's config files
  metis.node.render_config:
    backup: true
  register: rendered
  notify: Restart changed services

- name: Restart what changed (handler)
  ansible.builtin.systemd_service:
    name: "metis-{{ item }}"
    state: restarted
  loop: "{{ rendered.changed_services }}"

- name: Only consul's files, into a staging tree, as an unprivileged user
  metis.node.render_config:
    services: [consul]
    root: /tmp/staging
    set_owner: false
"""

RETURN = r"""
changed_services:
  description: Services whose files changed (or would change in check mode), in start order.
  returned: always
  type: list
  elements: str
  sample: [consul, carrier]
created_directories:
  description: Directories created (or that would be, in check mode), parents first, O(root) prepended.
  returned: always
  type: list
  elements: str
  sample: [/opt/metis/consul, /opt/metis/consul/config]
files:
  description: One entry per file written.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Path of the file on the host, as rendered.
      type: str
      returned: always
    dest:
      description: Where it was written (O(root) prepended).
      type: str
      returned: always
    service:
      description: Service the file belongs to.
      type: str
      returned: always
    mode:
      description: File mode, octal.
      type: str
      returned: always
    owner:
      description: Owner metis-core gives the file (applied unless O(set_owner=false)).
      type: str
      returned: always
    group:
      description: Group metis-core gives the file (applied unless O(set_owner=false)).
      type: str
      returned: always
    secret:
      description: Whether the file holds secrets.
      type: bool
      returned: always
    changed:
      description: Whether the file changed (content, mode or owner), or would in check mode.
      type: bool
      returned: always
    backup_file:
      description: Backup of the replaced file.
      type: str
      returned: when O(backup=true) and the file changed
  sample:
    - path: /opt/metis/consul/config/consul.json
      dest: /opt/metis/consul/config/consul.json
      service: consul
      mode: "0644"
      owner: metis
      group: metis
      secret: false
      changed: true
"""
