# Copyright: metis-deploy contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filter metis.node.preflight_report: one line per problem of every host of a preflight run."""

from __future__ import annotations

from collections.abc import Mapping


def preflight_report(hosts, hostvars, result_var="preflight"):
    """Lines ``<host>: <problem>`` for every host of ``hosts``, from the result of
    metis.node.preflight each registered as ``result_var``; hosts without a result, unreachable
    ones and ones where the checks could not run (sudo) are problems too."""
    lines = []
    for host in hosts:
        result = hostvars[host].get(result_var) if host in hostvars else None
        if not isinstance(result, Mapping) or not result or result.get("skipped"):
            lines.append(f"{host}: not checked: it failed or was unreachable before the checks (see above)")
        elif result.get("unreachable"):
            lines.append(f"{host}: unreachable: {str(result.get('msg', '')).strip()}")
        elif result.get("failed"):
            lines.append(
                f"{host}: the checks could not run (is sudo allowed without a password, or ansible_become_password set?): "
                f"{str(result.get('msg', '')).strip()}"
            )
        else:
            lines.extend(f"{host}: {problem}" for problem in result.get("problems") or [])
    return lines


class FilterModule:
    """metis.node filters."""

    def filters(self):
        return {"preflight_report": preflight_report}
