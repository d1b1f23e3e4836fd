# Copyright: metis-deploy contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin of metis.node.validate_inventory (documentation in plugins/modules)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.utils.display import Display

from ansible_collections.metis.node.plugins.plugin_utils.metis import (
    ControllerAction,
    call,
    inventory_argument,
    listing,
    require_metis_deploy,
)

display = Display()


class ActionModule(ControllerAction):
    """Validates the organisation inventory on the controller."""

    ARGUMENT_SPEC = {"strict": {"type": "bool", "default": False}}

    def run_with(self, args, task_vars, result):
        md = require_metis_deploy()
        inventory = inventory_argument(args, task_vars, self)
        diags = call(md.validate, inventory)

        errors = [d for d in diags if d.is_error]
        warnings = [d for d in diags if not d.is_error]
        for w in warnings:
            display.warning(str(w))
        result.update(
            changed=False,
            diagnostics=[d.to_dict() for d in diags],
            error_count=len(errors),
            warning_count=len(warnings),
        )
        failing = errors + (warnings if args["strict"] else [])
        if failing:
            header = f"the inventory has {len(errors)} error(s) and {len(warnings)} warning(s):"
            raise AnsibleActionFail(listing(header, failing), result=result)
        result["msg"] = f"the inventory is valid ({len(warnings)} warning(s))"
        return result
