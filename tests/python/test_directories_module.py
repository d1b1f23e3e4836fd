"""The collection's metis.node.directories module, run by Ansible on this machine (local
connection): creates, keeps and fixes a set of directories in one run, check and diff modes,
and refuses what it cannot make a directory."""

from __future__ import annotations

import json
import os
import pathlib
import pwd
import shutil
import stat
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "playbooks" / "collections"

pytestmark = pytest.mark.skipif(shutil.which("ansible") is None, reason="ansible-core is not installed")


def run_module(dirs: list[dict], *extra: str) -> tuple[int, dict]:
    """`ansible localhost -m metis.node.directories` with DIRS; returns (exit code, result)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_STDOUT_CALLBACK="json",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_PYTHON_INTERPRETER="auto_silent",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    r = subprocess.run(["ansible", "localhost", "-c", "local", "-m", "metis.node.directories",
                        "-a", json.dumps({"directories": dirs}), *extra],
                       capture_output=True, text=True, env=env, timeout=120)
    out = json.loads(r.stdout)
    return r.returncode, out["plays"][0]["tasks"][0]["hosts"]["localhost"]


def me() -> tuple[str, str]:
    p = pwd.getpwuid(os.getuid())
    import grp
    return p.pw_name, grp.getgrgid(os.getgid()).gr_name


def mode_of(p: pathlib.Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_creates_keeps_and_fixes(tmp_path: pathlib.Path):
    user, group = me()
    top, data = tmp_path / "opt" / "metis", tmp_path / "opt" / "metis" / "consul" / "data"
    dirs = [{"path": str(top), "mode": "0755", "owner": user, "group": group},
            {"path": str(data), "mode": "0750", "owner": user, "group": group}]
    rc, res = run_module(dirs)
    assert rc == 0, res
    assert res["changed"] and res["changed_paths"] == [str(top), str(data)]
    assert mode_of(top) == 0o755 and mode_of(data) == 0o750
    # The missing parent of data (consul/) got data's owner and mode, as the file module does.
    assert mode_of(data.parent) == 0o750
    # Again: nothing to do.
    rc, res = run_module(dirs)
    assert rc == 0 and not res["changed"] and res["changed_paths"] == [], res
    # Drift is fixed, and shown in check mode first without being fixed.
    data.chmod(0o777)
    rc, res = run_module(dirs, "--check", "--diff")
    assert rc == 0 and res["changed"] and res["changed_paths"] == [str(data)], res
    assert mode_of(data) == 0o777
    assert res["diff"] == [{"before_header": str(data), "after_header": str(data),
                            "before": f"mode=0777 owner={user} group={group}\n",
                            "after": f"mode=0750 owner={user} group={group}\n"}]
    rc, res = run_module(dirs)
    assert rc == 0 and res["changed_paths"] == [str(data)] and mode_of(data) == 0o750


def test_check_mode_creates_nothing(tmp_path: pathlib.Path):
    user, group = me()
    new = tmp_path / "new"
    rc, res = run_module([{"path": str(new), "mode": "0700", "owner": user, "group": group}], "--check")
    assert rc == 0 and res["changed"] and res["changed_paths"] == [str(new)], res
    assert not new.exists()


def test_a_link_to_a_directory_is_followed(tmp_path: pathlib.Path):
    user, group = me()
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    rc, res = run_module([{"path": str(link), "mode": "0755", "owner": user, "group": group}])
    assert rc == 0, res
    assert link.is_symlink() and mode_of(real) == 0o755


@pytest.mark.parametrize("case", ["file", "dangling", "user", "mode"])
def test_what_cannot_be_a_directory_is_refused_by_name(tmp_path: pathlib.Path, case: str):
    user, group = me()
    path = tmp_path / "x"
    entry = {"path": str(path), "mode": "0750", "owner": user, "group": group}
    if case == "file":
        path.write_text("")
        want = f"directory {path}: {path} exists and is not a directory"
    elif case == "dangling":
        path.symlink_to(tmp_path / "nowhere")
        want = "is a symbolic link to nothing"
    elif case == "user":
        entry["owner"] = "no-such-user-here"
        want = "no user 'no-such-user-here' on this host"
    else:
        entry["mode"] = "rwx"
        want = "mode 'rwx' of"
    rc, res = run_module([entry])
    assert rc != 0 and res.get("failed"), res
    assert want in res["msg"], res["msg"]


def test_a_file_in_the_way_of_a_parent_is_named(tmp_path: pathlib.Path):
    user, group = me()
    blocker = tmp_path / "opt"
    blocker.write_text("")
    want = tmp_path / "opt" / "metis"
    rc, res = run_module([{"path": str(want) + "/", "mode": "0755", "owner": user, "group": group}])
    assert rc != 0, res
    assert res["msg"] == f"directory {want}/: {want} cannot be created: {blocker} exists and is not a directory", res
