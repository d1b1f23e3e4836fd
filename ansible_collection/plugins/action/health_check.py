# Copyright: metis-deploy contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin of metis.node.health_check (documentation in plugins/modules)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.metis.node.plugins.plugin_utils.metis import (
    ControllerAction,
    call,
    inventory_argument,
    require_metis_deploy,
)


class ActionModule(ControllerAction):
    """Checks the organisation's services from the controller, at protocol level."""

    ARGUMENT_SPEC = {
        "hosts": {"type": "list", "elements": "str"},
        "services": {"type": "list", "elements": "str"},
        "wait": {"type": "bool", "default": False},
        "timeout": {"type": "int", "default": 60},
    }

    def run_with(self, args, task_vars, result):
        md = require_metis_deploy()
        inventory = inventory_argument(args, task_vars, self)
        report = call(
            md.health,
            inventory,
            args["hosts"],
            args["services"],
            wait=args["wait"],
            timeout=float(args["timeout"]),
        )
        checks = report["checks"]
        result.update(changed=False, report=report, healthy=report["healthy"])
        if not report["healthy"]:
            bad = sum(1 for c in checks if not c["ok"])
            raise AnsibleActionFail(f"{bad} of {len(checks)} check(s) unhealthy:\n{report['table']}", result=result)
        result["msg"] = f"all {len(checks)} check(s) healthy"
        return result
