# Copyright: metis-deploy contributors
# Apache License 2.0 or, at your option, GNU General Public License v3.0+
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later
# (see https://www.apache.org/licenses/LICENSE-2.0 and https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation shared by the metis.node plugins."""

from __future__ import annotations


class ModuleDocFragment:
    """The inventory option and the controller-side attributes every metis.node action shares."""

    DOCUMENTATION = r"""
requirements:
  - metis-deploy (Python package, on the controller)
options:
  path:
    description:
      - An inventory file (Ansible INI) to read instead of the play's inventory.
      - Diagnostics then carry file, line and column.
      - Without it, the play's inventory is read as Ansible templates it, once per task for all
        of the task's hosts (the first host's worker templates it, the others reuse it through
        an encrypted file in the run's C(ANSIBLE_LOCAL_TEMP) directory, whose key stays in the
        controller's memory).
    type: path
attributes:
  action:
    support: full
    description: Runs as an action plugin on the controller.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller.
"""

    # For the plugins that only read.
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    description: Only reads; behaves the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
"""
