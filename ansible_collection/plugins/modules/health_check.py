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
  - Fails when a check fails, showing metis-core's table of every check (grouped by host and
    service, with a summary line); returns the whole report.
options:
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
      - With O(wait), seconds to keep retrying failing checks in total. Must be positive.
      - Each attempt of a check is bounded by 3 seconds, or by O(timeout) when shorter.
    type: int
    default: 60
extends_documentation_fragment:
  - metis.node.metis
  - metis.node.metis.read_only
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
  description: Whether every check passed (RV(report.healthy)).
  returned: always
  type: bool
  sample: true
report:
  description: The health report of metis-core.
  returned: always
  type: dict
  contains:
    healthy:
      description: Whether every check passed.
      type: bool
      returned: always
    checks:
      description: One entry per check run.
      type: list
      elements: dict
      returned: always
      contains:
        host:
          description: Inventory host name.
          type: str
          returned: always
        address:
          description: IPv4 address the check reached.
          type: str
          returned: always
        service:
          description: Service checked.
          type: str
          returned: always
        check:
          description: Name of the check within its service (for example C(http api), C(leader)).
          type: str
          returned: always
        ok:
          description: Whether the check passed.
          type: bool
          returned: always
        outcome:
          description: C(ok), or why it failed (C(refused), C(timeout), C(wrong-protocol), C(http-status), C(unexpected) or C(error)).
          type: str
          returned: always
        detail:
          description: What was found, in words.
          type: str
          returned: always
        elapsed_ms:
          description: Duration of the last attempt, in milliseconds.
          type: int
          returned: always
        attempts:
          description: Attempts made (more than one with O(wait)).
          type: int
          returned: always
    table:
      description: The report as a text table, one row per check, and a summary line.
      type: str
      returned: always
  sample:
    healthy: false
    checks:
      - host: 127.0.1.1
        address: 127.0.1.1
        service: consul
        check: http api
        ok: false
        outcome: refused
        detail: connection refused
        elapsed_ms: 0
        attempts: 1
    table: "Host       Service  Check     Status   Time  Detail\n..."
"""
