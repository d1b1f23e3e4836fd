#!/usr/bin/python
# Copyright: metis-deploy contributors
# Apache License 2.0 or, at your option, GNU General Public License v3.0+
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later
# (see https://www.apache.org/licenses/LICENSE-2.0 and https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: validate_inventory
short_description: Validate a Metis organisation inventory
version_added: 0.1.0
description:
  - Checks the whole organisation described by the inventory before anything is deployed
    (topology, variables, per-host port lists, port conflicts, addresses, secrets) with metis-core.
  - Reads the inventory the play runs with (C(groups) and C(hostvars), templated as Ansible sees
    them), or the inventory file given in O(path).
  - Fails listing every error; warnings are shown and returned. With O(path), every diagnostic
    carries the file, line and column it is about. Read from the play's variables (already
    merged and templated by Ansible), diagnostics have no file or line; they name the variable
    (and the host where that matters), and a variable set for a group is reported once, not once
    per host.
  - From the play's variables, templated values (for example C(lookup('ansible.builtin.env', ...)))
    and Ansible Vault values are recognised as such and not reported as plaintext secrets; their
    values are still checked.
  - Runs on the controller; run it once (C(run_once=true)).
options:
  strict:
    description:
      - Fail on warnings too.
    type: bool
    default: false
extends_documentation_fragment:
  - metis.node.metis
  - metis.node.metis.read_only
seealso:
  - module: metis.node.render_config
  - module: metis.node.health_check
author:
  - metis-deploy contributors (@metis-deploy)
"""

EXAMPLES = r"""
- name: Validate the organisation before deploying
  metis.node.validate_inventory:
  run_once: true

- name: Validate an inventory file, failing on warnings too
  metis.node.validate_inventory:
    path: "{{ inventory_file }}"
    strict: true
  run_once: true
"""

RETURN = r"""
diagnostics:
  description: Every problem found, errors and warnings, sorted by location.
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: C(error) or C(warning).
      type: str
      returned: always
    code:
      description: Stable diagnostic code, for example C(port-conflict).
      type: str
      returned: always
    message:
      description: What is wrong.
      type: str
      returned: always
    file:
      description: Inventory file with O(path); null when read from the play's variables.
      type: str
      returned: always
    line:
      description: 1-based line with O(path); null when read from the play's variables.
      type: int
      returned: always
    column:
      description: 1-based column with O(path); null when read from the play's variables.
      type: int
      returned: always
    hint:
      description: How to fix it, when known.
      type: str
      returned: always
  sample:
    - severity: error
      code: list-length
      message: "`data_port` has 1 entry but group data has 2 hosts"
      file: inventory.ini
      line: 71
      column: 1
      hint: one entry per host of [data], in its order
error_count:
  description: Number of errors.
  returned: always
  type: int
  sample: 0
warning_count:
  description: Number of warnings.
  returned: always
  type: int
  sample: 1
"""
