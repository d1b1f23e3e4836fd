"""The collection's metis.node.service_states module: how it tells whether a service runs.

The pid-file logic runs against real processes spawned here (running, ended, zombie) and pid files
in a temporary directory; systemd's and the init scripts' answers through a stand-in module.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
MODULE = REPO / "ansible_collection" / "plugins" / "modules" / "service_states.py"


def _load():
    spec = importlib.util.spec_from_file_location("metis_service_states", MODULE)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ss = _load()


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait()


def _write_pid(path: pathlib.Path, pid: int) -> str:
    path.write_text(f"{pid}\n")
    return str(path)


def _since_epoch(since: str) -> float:
    return time.mktime(time.strptime(since, "%a %Y-%m-%d %H:%M:%S %Z"))


def test_since_is_written_as_systemd_writes_timestamps(utc):
    assert ss.format_since(0) == "Thu 1970-01-01 00:00:00 UTC"
    assert ss.format_since(1796320800) == "Thu 2026-12-03 18:00:00 UTC"


def test_a_running_process_is_active_since_its_start(tmp_path, sleeper, utc):
    started = time.time()
    pid_file = _write_pid(tmp_path / "compute.pid", sleeper.pid)
    st = ss.pid_file_state(pid_file)
    assert (st["state"], st["sub"], st["pid"], st["reason"]) == ("active", "running", sleeper.pid, None)
    # /proc/PID/stat's starttime after /proc/stat's btime: within a few seconds of the spawn.
    assert abs(_since_epoch(st["since"]) - started) < 3, st


def test_no_pid_file_is_inactive(tmp_path):
    st = ss.pid_file_state(str(tmp_path / "missing.pid"))
    assert (st["state"], st["sub"], st["since"], st["pid"]) == ("inactive", "dead", None, None)


def test_a_stale_pid_file_is_failed(tmp_path):
    proc = subprocess.Popen(["true"])
    proc.wait()  # ended and reaped: its pid is free
    st = ss.pid_file_state(_write_pid(tmp_path / "data.pid", proc.pid))
    assert (st["state"], st["sub"], st["pid"]) == ("failed", "dead", None)
    assert f"pid {proc.pid} of {tmp_path}/data.pid is not running" in st["reason"]


def test_a_zombie_is_not_running(tmp_path):
    proc = subprocess.Popen(["true"])
    try:
        # Not reaped (no wait): the child stays a zombie once it has exited.
        for _ in range(200):
            with open(f"/proc/{proc.pid}/stat", encoding="utf-8") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.01)
        else:
            pytest.fail(f"pid {proc.pid} did not become a zombie")
        st = ss.pid_file_state(_write_pid(tmp_path / "carrier.pid", proc.pid))
        assert (st["state"], st["sub"]) == ("failed", "dead")
        assert "zombie" in st["reason"]
    finally:
        proc.wait()


def test_a_pid_file_from_before_the_boot_is_stale(tmp_path, sleeper):
    # Written before the host started: whatever has its pid now is another process.
    pid_file = _write_pid(tmp_path / "consul.pid", sleeper.pid)
    before_boot = ss.boot_time() - 60
    os.utime(pid_file, (before_boot, before_boot))
    st = ss.pid_file_state(pid_file)
    assert (st["state"], st["sub"]) == ("failed", "dead"), st
    assert "written before the host started" in st["reason"]


def test_a_process_started_after_its_pid_file_is_not_claimed(tmp_path, sleeper):
    # Written an hour before this process started, in this boot: another process that got the
    # pid, or a clock that stepped forward; neither running nor dead is certain.
    pid_file = _write_pid(tmp_path / "consul.pid", sleeper.pid)
    earlier = max(time.time() - 3600, ss.boot_time() + 1)
    os.utime(pid_file, (earlier, earlier))
    st = ss.pid_file_state(pid_file)
    if earlier + ss.START_SLACK_SECS >= time.time() - 1:
        pytest.skip("the machine booted less than a few seconds ago")
    assert st["state"] == "unknown", st
    assert "or the clock stepped" in st["reason"]


@pytest.mark.parametrize("content", ["", "abc", "-5", "0", "12 34", "\u00b2", "1" * 100])
def test_a_pid_file_without_a_pid_is_unknown(tmp_path, content):
    path = tmp_path / "x.pid"
    path.write_text(content)
    st = ss.pid_file_state(str(path))
    assert st["state"] == "unknown"
    assert "does not hold a pid" in st["reason"]


def test_an_unreadable_pid_file_is_unknown(tmp_path):
    # A directory where the pid file should be: unreadable even for root (who reads a mode 0 file).
    path = tmp_path / "x.pid"
    path.mkdir()
    st = ss.pid_file_state(str(path))
    assert st["state"] == "unknown" and "cannot read" in st["reason"], st


def test_stat_with_parentheses_in_the_command_name(tmp_path, utc):
    # A command name may hold spaces and ')': the fields are read after the last ')'.
    proc = tmp_path / "proc"
    (proc / "4242").mkdir(parents=True)
    (proc / "stat").write_text("cpu  1 2 3\nbtime 1796320000\nprocesses 9\n")
    fields = ["S", "1"] + ["0"] * 17 + [str(300 * os.sysconf("SC_CLK_TCK"))] + ["0"] * 10
    (proc / "4242" / "stat").write_text("4242 (odd) name (x) " + " ".join(fields) + "\n")
    assert ss.read_stat(4242, str(proc)) == ("S", 300 * os.sysconf("SC_CLK_TCK"))
    pid_file = _write_pid(tmp_path / "odd.pid", 4242)
    st = ss.pid_file_state(pid_file, str(proc))
    assert (st["state"], st["since"]) == ("active", "Thu 2026-12-03 17:51:40 UTC"), st
    (proc / "4242" / "stat").write_text("4242 (odd) Z " + " ".join(fields[1:]) + "\n")
    assert ss.pid_file_state(pid_file, str(proc))["state"] == "failed"


class FakeModule:
    """get_bin_path and run_command of AnsibleModule, with canned answers."""

    def __init__(self, answers=None, bins=("systemctl", "service")):
        self.answers = answers or {}
        self.bins = bins
        self.ran = []

    def get_bin_path(self, name):
        return f"/usr/bin/{name}" if name in self.bins else None

    def run_command(self, argv):
        self.ran.append(argv)
        return self.answers[argv[1]]


SHOW = (
    "Id=metis-consul.service\nLoadState=loaded\nActiveState=active\nSubState=running\n"
    "ActiveEnterTimestamp=Thu 2026-12-03 18:00:00 UTC\n\n"
    "Id=mariadb.service\nLoadState=loaded\nActiveState=failed\nSubState=failed\nActiveEnterTimestamp=\n\n"
    "Id=nginx.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nActiveEnterTimestamp=\n"
)


def test_systemd_states_from_systemctl_show():
    units = ["metis-consul.service", "mariadb.service", "nginx.service"]
    m = FakeModule({"show": (0, SHOW, "")})
    got = ss.states(m, [{"unit": u, "pid_file": None} for u in units], "systemd")
    assert m.ran == [["/usr/bin/systemctl", "show", "--no-pager", "--property=" + ss.SYSTEMD_PROPERTIES, "--"] + units]
    assert got["metis-consul.service"] == {
        "state": "active",
        "sub": "running",
        "since": "Thu 2026-12-03 18:00:00 UTC",
        "pid": None,
        "reason": None,
    }
    assert (got["mariadb.service"]["state"], got["mariadb.service"]["since"]) == ("failed", None)
    assert got["nginx.service"]["state"] == "not-found"
    # systemctl failing (no systemd running here) is unknown, with its message.
    m = FakeModule({"show": (1, "", "System has not been booted with systemd as init system (PID 1).\n")})
    got = ss.states(m, [{"unit": "metis-consul.service", "pid_file": "/x.pid"}], "systemd")
    assert got["metis-consul.service"]["state"] == "unknown"
    assert "System has not been booted with systemd" in got["metis-consul.service"]["reason"]
    assert ss.states(FakeModule(bins=()), [{"unit": "a.service"}], "systemd")["a.service"]["state"] == "unknown"


@pytest.mark.parametrize(
    "rc, state",
    [(0, "active"), (3, "inactive"), (1, "failed"), (2, "failed"), (4, "unknown"), (127, "unknown")],
)
def test_distribution_services_without_systemd_ask_their_init_script(tmp_path, monkeypatch, rc, state):
    monkeypatch.setattr(ss.os, "geteuid", lambda: 0)
    (tmp_path / "nginx").write_text("#!/bin/sh\n")
    m = FakeModule({"nginx": (rc, "nginx is running.\n" if rc == 0 else "nginx is not running ... failed!\n", "")})
    st = ss.init_script_state(m, "nginx.service", str(tmp_path))
    assert m.ran == [["/usr/bin/service", "nginx", "status"]]
    assert st["state"] == state
    assert st["since"] is None and st["pid"] is None
    assert st["reason"]
    missing = ss.init_script_state(m, "mariadb.service", str(tmp_path))
    assert missing["state"] == "not-found" and f"{tmp_path}/mariadb" in missing["reason"]


def test_without_root_only_a_running_init_script_is_believed(tmp_path, monkeypatch):
    monkeypatch.setattr(ss.os, "geteuid", lambda: 1000)
    (tmp_path / "mariadb").write_text("#!/bin/sh\n")
    said = {0: "MariaDB is running", 3: "MariaDB is stopped.."}
    for rc, state in ((0, "active"), (3, "unknown"), (1, "unknown")):
        st = ss.init_script_state(FakeModule({"mariadb": (rc, said.get(rc, "") + "\n", "")}), "mariadb.service", str(tmp_path))
        assert st["state"] == state, (rc, st)
        if state == "unknown":
            assert "without root" in st["reason"] and "become" in st["reason"]


def test_process_hosts_use_pid_files_for_own_services(tmp_path, sleeper):
    pid_file = _write_pid(tmp_path / "compute.pid", sleeper.pid)
    services = [
        {"unit": "metis-compute.service", "pid_file": pid_file},
        {"unit": "metis-data.service", "pid_file": str(tmp_path / "data.pid")},
        {"unit": "metis-compute.service", "pid_file": pid_file},
    ]
    m = FakeModule()
    got = ss.states(m, services, "process")
    assert sorted(got) == ["metis-compute.service", "metis-data.service"]
    assert got["metis-compute.service"]["state"] == "active"
    assert got["metis-data.service"]["state"] == "inactive"
    assert m.ran == [], "no command for services with pid files"


class RealModule(FakeModule):
    def get_bin_path(self, name):
        return shutil.which(name)

    def run_command(self, args, use_unsafe_shell=False):
        res = subprocess.run(args, shell=use_unsafe_shell, capture_output=True, text=True, check=False)
        return res.returncode, res.stdout, res.stderr


def test_the_manager_follows_the_plan_and_auto_follows_the_service_mgr_fact():
    m = RealModule()
    assert ss.host_manager(m, "systemd") == "systemd"
    assert ss.host_manager(m, "process") == "process"
    with open("/proc/1/comm", encoding="utf-8") as f:
        init = f.read().strip()
    # Ansible's service_mgr fact names PID 1 (unless it is `init` or a shell).
    if init == "systemd":
        assert ss.host_manager(m, "auto") == "systemd"
    elif init != "init" and not init.endswith("sh"):
        assert ss.host_manager(m, "auto") == "process"
