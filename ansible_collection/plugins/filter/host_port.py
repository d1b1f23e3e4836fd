# Copyright: metis-deploy contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters of metis.node (documentation in the .yml file of the same name)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError


def host_port(ports, group_hosts, host):
    """The entry of a per-host list (``consul_http_port``, ``data_port``...) that belongs to
    ``host``: the list is indexed by the host's position in its group."""
    if isinstance(ports, (str, bytes, Mapping)) or not isinstance(ports, Sequence):
        raise AnsibleFilterError(f"host_port: expected a list of ports, got {type(ports).__name__}")
    if isinstance(group_hosts, (str, bytes, Mapping)) or not isinstance(group_hosts, Sequence):
        raise AnsibleFilterError(
            f"host_port: expected the group's host list (groups['name']), got {type(group_hosts).__name__}"
        )
    hosts = [str(h) for h in group_hosts]
    if str(host) not in hosts:
        raise AnsibleFilterError(f"host_port: host {host} is not in the group ({', '.join(hosts) or 'empty'})")
    if len(ports) != len(hosts):
        raise AnsibleFilterError(
            f"host_port: the list has {len(ports)} entries but the group has {len(hosts)} hosts: "
            "give one entry per host, in the group's order"
        )
    return ports[hosts.index(str(host))]


class FilterModule:
    """metis.node filters."""

    def filters(self):
        return {"host_port": host_port}
