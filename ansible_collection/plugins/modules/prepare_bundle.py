#!/usr/bin/python
# Copyright: metis-deploy contributors
# Apache License 2.0 or, at your option, GNU General Public License v3.0+
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later
# (see https://www.apache.org/licenses/LICENSE-2.0 and https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: prepare_bundle
short_description: Get and verify the Metis artifact bundle on the controller
version_added: 0.2.0
description:
  - Gets the artifact bundle (carrier, keytool, admin.jar, admin.tar, admin.sql, consul.zip, the
    fighter wheels) from an HTTPS server or from a bundle carried by hand (a directory or a
    .tar.gz), verifies every file against the bundle's C(SHA256SUMS) and keeps it under
    O(dest)/<VERSION>, with O(dest)/current pointing at it.
  - Downloads always check certificates; O(ca_path) names a private certificate authority.
  - A bundle already verified (same C(SHA256SUMS)) is neither fetched nor verified again.
  - A missing or corrupt file fails the task naming the file and both checksums, and nothing of
    that bundle is kept.
options:
  download_url:
    description:
      - HTTPS address of the bundle directory (it serves C(VERSION), C(SHA256SUMS) and the files).
    type: str
  offline_bundle:
    description:
      - A bundle directory or .tar.gz archive on the controller, instead of O(download_url).
    type: path
  dest:
    description:
      - Directory on the controller that keeps verified bundles, one directory per version.
    type: path
    required: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for O(download_url).
    type: path
  retries:
    description:
      - How many times a failed download is tried again.
    type: int
    default: 3
  delay:
    description:
      - Seconds between download attempts.
    type: float
    default: 3.0
  timeout:
    description:
      - Seconds a download attempt may wait for the server.
    type: int
    default: 30
attributes:
  action:
    support: full
    description: Runs as an action plugin on the controller.
  check_mode:
    support: full
    description: Reports whether the bundle would be fetched; writes nothing.
  diff_mode:
    support: none
    description: No diff.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller.
author:
  - metis-deploy contributors (@metis-deploy)
"""

EXAMPLES = r"""
- name: Verify a bundle carried by hand
  metis.node.prepare_bundle:
    offline_bundle: /media/usb/metis-bundle-0.5.1.tar.gz
    dest: "{{ inventory_dir }}/.metis-deploy/bundles"
  run_once: true

- name: Download a bundle from a server with a private certificate authority
  metis.node.prepare_bundle:
    download_url: https://artifacts.example.org/datum/0.5.1/
    ca_path: /etc/ssl/private-ca.pem
    dest: "{{ inventory_dir }}/.metis-deploy/bundles"
  run_once: true
"""

RETURN = r"""
version:
  description: The bundle's version (its VERSION file).
  returned: success
  type: str
  sample: 0.5.1
path:
  description: Directory of the verified bundle on the controller.
  returned: success
  type: str
files:
  description: Number of files SHA256SUMS lists.
  returned: success
  type: int
"""
