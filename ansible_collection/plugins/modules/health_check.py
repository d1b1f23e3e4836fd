#!/usr/bin/python
# Copyright: metis-deploy contributors
# Apache License 2.0 or, at your option, GNU General Public License v3.0+
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later
# (see https://www.apache.org/licenses/LICENSE-2.0 and https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: health_check
short_description: Check the health of a Metis organisation's services
version_added: 0.1.0
description:
  - Runs metis-core's health checks from the controller, concurrently and at protocol level
    (consul leader and KV, carrier gateway, admin health endpoint, Ice validate-connection,
    fighter gRPC ports).
  - Fails with a table of the unhealthy checks; returns the whole report.
requirements:
  - metis-deploy (Python package, on the controller)
options:
  path:
    description:
      - An inventory file (Ansible INI) to read instead of the play's inventory.
    type: path
  hosts:
    description:
      - Only check services on these inventory hosts. All hosts when not set.
    type: list
    elements: str
  services:
    description:
      - Only check these services (C(consul), C(icegrid), C(glacier2), C(carrier), C(mysql),
        C(admin), C(nginx), C(data), C(compute)). All when not set.
    type: list
    elements: str
  wait:
    description:
      - Retry until every check passes or O(timeout) runs out (after starting services).
    type: bool
    default: false
  timeout:
    description:
      - With O(wait), seconds to keep retrying failing checks in total.
      - Each attempt of a check is bounded by 3 seconds, or by O(timeout) when shorter.
    type: int
    default: 60
attributes:
  action:
    support: full
    description: Runs as an action plugin on the controller.
  check_mode:
    support: full
    description: Only reads; behaves the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller.
seealso:
  - module: metis.node.render_config
author:
  - metis-deploy contributors (@metis-deploy)
"""

EXAMPLES = r"""
- name: Wait until the whole organisation is healthy
  metis.node.health_check:
    wait: true
    timeout: 120
  run_once: true

- name: Check consul only
  metis.node.health_check:
    services: [consul]
  run_once: true
"""

RETURN = r"""
healthy:
  description: Whether every check passed.
  returned: always
  type: bool
  sample: true
report:
  description: The health report of metis-core, with one entry per check in RV(report.checks).
  returned: always
  type: dict
  contains:
    checks:
      description: The checks run.
      type: list
      elements: dict
      returned: always
  sample:
    checks:
      - host: 127.0.1.1
        service: consul
        check: http
        healthy: true
        detail: leader 127.0.1.1:8200
"""
