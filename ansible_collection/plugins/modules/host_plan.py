#!/usr/bin/python
# Copyright: metis-deploy contributors
# Apache License 2.0 or, at your option, GNU General Public License v3.0+
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later
# (see https://www.apache.org/licenses/LICENSE-2.0 and https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_plan
short_description: Get what a Metis organisation node runs on the current host
version_added: 0.1.0
description:
  - Asks metis-core for the plan of the current host (or O(host)) and sets it as the fact
    C(metis_plan) of the current host, so that roles read every fact they apply from it and
    never re-derive one. The plan is what C(metis-deploy plan --format json --host) prints.
  - The plan lists the host's services of enabled groups in start order. For each service its
    unit (C(metis-<service>.service), or Debian's C(mariadb.service) and C(nginx.service)), the
    command line of its unit, working directory, user, environment, log and pid files, the
    Debian packages it needs, its directories (owner, mode), its rendered files (mode, owner,
    checksum; C(metis.node.render_config) writes them), the artifacts it needs from the bundle,
    its ports (and whether a started service must listen on them), its health checks, the consul
    KV entries it writes or needs at start, the consul services it registers, its Python
    environment and the secrets made once on the host.
  - A host of the inventory that runs no service of the organisation gets a plan without
    services. A host that is not in the inventory fails the task.
  - Reads the inventory the play runs with (C(groups) and C(hostvars), templated as Ansible sees
    them), or the inventory file given in O(path). Fails listing every error of an inventory with
    errors.
options:
  host:
    description:
      - The inventory host (name or address) to plan for. The current host when not set.
      - The fact is set on the current host either way.
    type: str
extends_documentation_fragment:
  - metis.node.metis
  - metis.node.metis.read_only
seealso:
  - module: metis.node.render_config
  - module: metis.node.health_check
author:
  - metis-deploy contributors (@metis-deploy)
notes:
  - Directory and file modes are 4-digit octal strings (C("0750")), ready for
    M(ansible.builtin.file) and M(ansible.builtin.copy).
"""

EXAMPLES = r"""
- name: Plan this host
  metis.node.host_plan:

- name: Install the packages the host's services need
  ansible.builtin.apt:
    name: "{{ metis_plan.packages }}"
    state: present
  become: true

- name: Create the services' directories
  ansible.builtin.file:
    path: "{{ item.path }}"
    state: directory
    owner: "{{ item.owner }}"
    group: "{{ item.group }}"
    mode: "{{ item.mode }}"
  loop: "{{ metis_plan.directories }}"
  loop_control:
    label: "{{ item.path }}"
  become: true

- name: Start the services in order and wait for their ports
  ansible.builtin.wait_for:
    host: "{{ metis_plan.ip }}"
    port: "{{ item.1.port }}"
    timeout: 60
  loop: "{{ metis_plan.services | subelements('ports') }}"
  when: item.1.wait
"""

RETURN = r"""
plan:
  description: The host's plan; also set as the fact C(metis_plan).
  returned: always
  type: dict
  contains:
    host:
      description: The inventory host name.
      type: str
      returned: always
    ip:
      description: The address its services bind to (empty for a host that runs no service).
      type: str
      returned: always
    cluster_name:
      description: The organisation's name.
      type: str
      returned: always
    deploy_dir:
      description: Where everything is installed (C(deploy_dir)).
      type: str
      returned: always
    service_user:
      description: The user the services run as.
      type: str
      returned: always
    service_group:
      description: The group of the service user.
      type: str
      returned: always
    service_manager:
      description: C(auto), C(systemd) or C(process).
      type: str
      returned: always
    packages:
      description: Debian packages all its services need, each once.
      type: list
      elements: str
      returned: always
    directories:
      description: Directories all its services need, parents first, each once.
      type: list
      elements: dict
      returned: always
      contains:
        path:
          description: Absolute path.
          type: str
          returned: always
        owner:
          description: Owner (the service user below C(deploy_dir)).
          type: str
          returned: always
        group:
          description: Group.
          type: str
          returned: always
        mode:
          description: Mode as a 4-digit octal string.
          type: str
          returned: always
    services:
      description: Its services of enabled groups, in start order (stop in reverse).
      type: list
      elements: dict
      returned: always
      contains:
        name:
          description: C(consul), C(icegrid), C(glacier2), C(carrier), C(mysql), C(admin), C(nginx), C(data) or C(compute).
          type: str
          returned: always
        group:
          description: Its inventory group.
          type: str
          returned: always
        order:
          description: Global start order.
          type: int
          returned: always
        unit:
          description: Its systemd unit, C(metis-<name>.service) or Debian's (C(mariadb.service), C(nginx.service)).
          type: str
          returned: always
        unit_file:
          description: Path of the unit metis-deploy renders; null for Debian's units and with C(service_manager=process).
          type: str
          returned: always
        command:
          description: The argv its unit runs (empty for Debian's units).
          type: list
          elements: str
          returned: always
        working_dir:
          description: Working directory (null for Debian's units).
          type: str
          returned: always
        user:
          description: The user it runs as (null for Debian's units).
          type: str
          returned: always
        environment:
          description: Non-secret environment of its command.
          type: dict
          returned: always
        pid_file:
          description: Pid file when started by start-stop-daemon (null for Debian's units).
          type: str
          returned: always
        log_file:
          description: The log a failed start shows the tail of (null when it logs to the journal).
          type: str
          returned: always
        stop_timeout_secs:
          description: How long a stop may take.
          type: int
          returned: always
        packages:
          description: Debian packages it needs.
          type: list
          elements: str
          returned: always
        directories:
          description: Directories it needs (same keys as RV(plan.directories)).
          type: list
          elements: dict
          returned: always
        files:
          description: Its rendered files (written by M(metis.node.render_config)), with C(path), C(mode), C(owner), C(group), C(secret) and C(sha256).
          type: list
          elements: dict
          returned: always
        artifacts:
          description:
            - Files of the artifact bundle it needs, with C(name), C(source) (relative to the bundle
              root), C(dest), C(mode), C(owner), C(group).
            - C(kind) is C(file) (copied to C(dest)), C(unzip) or C(untar) (unpacked into the
              directory C(dest)) or C(directory) (the bundle's directory copied into C(dest)).
            - C(cpu_flag) is C(avx2) or C(no_avx2) for an artifact only for hosts whose CPU has or lacks avx2, else null.
          type: list
          elements: dict
          returned: always
        ports:
          description:
            - Its ports, with C(port), C(last) (ranges), C(proto), C(purpose), C(wait) (a started
              service must listen on it) and C(variable) (the inventory variable that sets it, or null).
          type: list
          elements: dict
          returned: always
        health_checks:
          description: The checks M(metis.node.health_check) runs for it, with C(name), C(kind) and C(address).
          type: list
          elements: dict
          returned: always
        kv_writes:
          description: Consul KV entries (C(key), C(value)) to write once the cluster has a leader; only on the first consul host's consul.
          type: list
          elements: dict
          returned: always
        kv_reads:
          description: Consul keys it needs at start.
          type: list
          elements: str
          returned: always
        registrations:
          description: Consul services it registers (C(name), C(tag)), on the first consul agent.
          type: list
          elements: dict
          returned: always
        consul_http:
          description: C(ip:port) of the first consul agent's HTTP API.
          type: str
          returned: always
        python_env:
          description: The virtual environment it runs in (C(path), C(base_python), C(wheel_dir), C(deps_dir), C(requirements)), or null.
          type: dict
          returned: always
        secrets:
          description: Secrets made once on the host (C(name), C(path), C(mode), C(owner), C(group), C(command)); never regenerated by a deploy.
          type: list
          elements: dict
          returned: always
  sample:
    host: 127.0.1.4
    ip: 127.0.1.4
    cluster_name: sandbox
    deploy_dir: /opt/metis
    service_user: metis
    service_group: metis
    service_manager: auto
    packages: [python3-venv]
    directories:
      - {path: /opt/metis, owner: metis, group: metis, mode: "0755"}
    services:
      - name: data
        group: data
        order: 7
        unit: metis-data.service
        unit_file: /etc/systemd/system/metis-data.service
        command: [/opt/metis/data/venv/bin/python, -u, -m, fighter_project.data_svc.main, /opt/metis/data/config/data.yml]
        ports:
          - {port: 8700, last: 8700, proto: tcp, purpose: grpc, wait: true, variable: data_port}
"""
