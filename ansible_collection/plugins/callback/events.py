# Copyright: metis-deploy contributors
# Apache License 2.0 or, at your option, GNU General Public License v3.0+
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later
# (see https://www.apache.org/licenses/LICENSE-2.0 and https://www.gnu.org/licenses/gpl-3.0.txt)
"""Notification callback metis.node.events: a JSON line per playbook event, for metis-deploy's runner."""

from __future__ import annotations

DOCUMENTATION = r"""
name: events
type: notification
short_description: Writes a JSON line per playbook event to a file, for metis-deploy's runner
description:
  - Appends one JSON object per line to the file given by O(path), which the runner of
    C(metis-deploy up) sets with E(METIS_EVENTS_FILE). The events are the starts of the playbook,
    its plays and tasks, every host's result (ok, changed, failed, unreachable, skipped) and the
    final per-host counts.
  - A failed or unreachable result carries its message, unless the task is C(no_log). Task
    arguments and results are never written.
  - A notification callback, so the stdout callback (the human log) is unchanged.
  - Does nothing when O(path) is not set.
version_added: 0.2.0
author:
  - metis-deploy contributors (@metis-deploy)
requirements:
  - enabled with ANSIBLE_CALLBACKS_ENABLED=metis.node.events
options:
  path:
    description: The file the events are appended to (created with mode 0600).
    type: path
    env:
      - name: METIS_EVENTS_FILE
  stdout:
    description:
      - Also write the C(stdout) of each successful result of a task that is not C(no_log), and
        the C(manager) and C(units) that M(metis.node.service_states) returns (for the runner's
        ad-hoc query of unit states).
    type: bool
    default: false
    env:
      - name: METIS_EVENTS_STDOUT
"""

import json
import os

from ansible.plugins.callback import CallbackBase

# A message longer than this is cut (the full text is in the human log).
MAX_MSG = 4000
HIDDEN = "(hidden: the task is no_log)"
# What a successful result of an ad-hoc query passes on with the stdout option.
QUERY_KEYS = ("stdout", "manager", "units")


def _cut(text):
    text = str(text)
    return text if len(text) <= MAX_MSG else text[:MAX_MSG] + "..."


class CallbackModule(CallbackBase):
    """Writes a JSON line per playbook event."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "metis.node.events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._out = None
        self._stdout = False

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        path = self.get_option("path")
        self._stdout = bool(self.get_option("stdout"))
        if path and self._out is None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._out = os.fdopen(fd, "a", encoding="utf-8")

    def _emit(self, event, **fields):
        if self._out is None:
            return
        fields["event"] = event
        self._out.write(json.dumps(fields, sort_keys=True, default=str) + "\n")
        self._out.flush()

    @staticmethod
    def _hidden(result):
        task = getattr(result, "_task", None)
        return bool(result._result.get("_ansible_no_log")) or bool(getattr(task, "no_log", False))

    @staticmethod
    def _message(res):
        msg = res.get("msg") or res.get("reason") or ""
        if not msg and res.get("stderr"):
            msg = res.get("stderr")
        items = res.get("results")
        if isinstance(items, list):
            failed = [r for r in items if isinstance(r, dict) and r.get("failed")]
            parts = [str(r.get("msg") or r.get("stderr") or "failed") for r in failed if not r.get("_ansible_no_log")]
            if parts:
                msg = "; ".join(parts)
        return _cut(msg)

    def _result(self, result, status, ignored=False):
        fields = {
            "host": result._host.get_name(),
            "task": result._task.get_name(),
            "status": status,
        }
        if ignored:
            fields["ignored"] = True
        res = result._result
        if status in ("failed", "unreachable"):
            fields["msg"] = HIDDEN if self._hidden(result) else self._message(res)
        elif self._stdout and not self._hidden(result):
            for key in QUERY_KEYS:
                if key in res:
                    fields[key] = _cut(res.get(key)) if key == "stdout" else res.get(key)
        self._emit("host_result", **fields)

    # --- playbook, play, task

    def v2_playbook_on_start(self, playbook):
        self._emit("playbook_start", playbook=os.path.basename(str(playbook._file_name)))

    def v2_playbook_on_play_start(self, play):
        self._emit("play_start", play=play.get_name())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit("task_start", task=task.get_name())

    def v2_playbook_on_handler_task_start(self, task):
        self._emit("task_start", task=task.get_name(), handler=True)

    def v2_playbook_on_no_hosts_matched(self):
        self._emit("no_hosts_matched")

    # --- per-host results

    def v2_runner_on_ok(self, result):
        self._result(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed", ignored=ignore_errors)

    def v2_runner_on_unreachable(self, result):
        self._result(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._result(result, "skipped")

    # --- the end

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for host in sorted(stats.processed.keys()):
            s = stats.summarize(host)
            hosts[host] = {k: s.get(k, 0) for k in ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")}
        self._emit("stats", hosts=hosts)
