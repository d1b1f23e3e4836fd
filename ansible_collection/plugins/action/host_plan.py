# Copyright: metis-deploy contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin of metis.node.host_plan (documentation in plugins/modules)."""

from __future__ import annotations

import os

from ansible_collections.metis.node.plugins.plugin_utils.metis import (
    ControllerAction,
    call,
    inventory_argument,
    require_metis_deploy,
    task_host,
)


class ActionModule(ControllerAction):
    """Sets the fact metis_plan: what metis-core plans for the current host."""

    ARGUMENT_SPEC = {"host": {"type": "str"}}

    def run_with(self, args, task_vars, result):
        md = require_metis_deploy()
        host = task_host(args, task_vars, "plan")
        inventory = inventory_argument(args, task_vars, self)
        # The organisation's state on the controller (verified bundles, backups) lives next to
        # the inventory.
        if args.get("path"):
            inventory_dir = os.path.dirname(os.path.abspath(args["path"]))
        else:
            inventory_dir = str(task_vars.get("inventory_dir") or os.getcwd())
        plan = call(md.host_plan, inventory, host, inventory_dir=inventory_dir)
        names = ", ".join(s["name"] for s in plan["services"]) or "no service"
        result.update(
            changed=False,
            plan=plan,
            ansible_facts={"metis_plan": plan},
            msg=f"{plan['host']} runs {names}",
        )
        return result
