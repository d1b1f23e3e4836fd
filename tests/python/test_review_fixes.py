"""Review findings F2, F5, F7-F12 of the binding: each test failed before its fix."""

from __future__ import annotations

import _thread
import pathlib
import pickle
import signal
import threading
import time

import pytest

import metis_deploy as md
from metis_deploy import _native

# ---- F2: rendered files carry their owner ------------------------------------------------------


def test_rendered_files_carry_owner_group_and_deploy_dir(example: pathlib.Path) -> None:
    host = md.parse_inventory(example)["groups"]["admin"][0]
    files = md.render(example, host)
    by_path = {f.path: f for f in files}
    units = [f for f in files if f.path.startswith("/etc/")]
    assert units, "the admin host has system files (units, nginx site, MariaDB settings)"
    for f in units:
        assert (f.owner, f.group) == ("root", "root"), f.path
    under = [f for f in files if f.path.startswith(f.deploy_dir.rstrip("/") + "/")]
    assert under
    for f in under:
        assert (f.owner, f.group) == ("metis", "metis"), f.path
    d = next(iter(by_path.values())).to_dict()
    assert {"owner", "group", "deploy_dir"} <= d.keys()
    assert 'owner="root"' in repr(units[0])


# ---- F5: vaulted / templated values of resolved data are not "plaintext" -----------------------


def _resolved(example: pathlib.Path) -> dict:
    data = md.parse_inventory(example)
    secrets = {"mysql_root_password": "Q7-rt-Vx9!long", "admin_password": "Zp4-db-Lm8!long", "pinata_token": "Tk2-Pn6-Hy3!long"}
    for vars_ in data["hostvars"].values():
        vars_.update(secrets)
    return data


def _codes(diags, name: str) -> list[str]:
    return [d.code for d in diags if f"`{name}`" in d.message]


def test_resolved_plaintext_secret_still_reported(example: pathlib.Path) -> None:
    assert "plaintext-secret" in _codes(md.validate(_resolved(example)), "admin_password")


def test_resolved_vaulted_and_templated_values_are_not_plaintext(example: pathlib.Path) -> None:
    data = _resolved(example)
    data["raw"] = {
        host: {
            "admin_password": "$ANSIBLE_VAULT;1.1;AES256\n6162",
            "mysql_root_password": "{{ lookup('ansible.builtin.env', 'ROOT_PW') }}",
        }
        for host in data["hostvars"]
    }
    diags = md.validate(data)
    assert _codes(diags, "admin_password") == []
    assert _codes(diags, "mysql_root_password") == []
    assert "plaintext-secret" in _codes(diags, "pinata_token")


def test_resolved_vaulted_values_are_still_checked(example: pathlib.Path) -> None:
    data = _resolved(example)
    for vars_ in data["hostvars"].values():
        vars_["admin_password"] = "has ${spring} placeholder"
    data["raw"] = {h: {"admin_password": "$ANSIBLE_VAULT;1.1;AES256\n6162"} for h in data["hostvars"]}
    assert "invalid-value" in _codes(md.validate(data), "admin_password")


def test_resolved_raw_must_be_text(example: pathlib.Path) -> None:
    data = _resolved(example)
    data["raw"] = {"h": {"admin_password": 5}}
    with pytest.raises(md.InvalidTypeError, match="raw"):
        md.validate(data)


def test_resolved_group_findings_once(example: pathlib.Path) -> None:
    """F6: a variable every host has (a group variable) is reported once, not once per host."""
    data = _resolved(example)
    found = [d for d in md.validate(data) if d.code == "plaintext-secret"]
    assert len(found) == len({d.message for d in found}) == 3
    assert all(d.file is None and d.line is None for d in found)


# ---- F7: an empty host list selects nothing ----------------------------------------------------


@pytest.mark.parametrize("arg", ["hosts", "services"])
def test_health_empty_list_refused(example: pathlib.Path, arg: str) -> None:
    with pytest.raises(md.InvalidValueError, match=f"{arg} is empty"):
        md.health(example, **{arg: []})


# ---- F8: bad argument types raise metis_deploy errors ------------------------------------------


@pytest.mark.parametrize(
    ("call", "exc"),
    [
        (lambda inv: md.health(inv, timeout="5"), md.InvalidTypeError),
        (lambda inv: md.health(inv, check_timeout=[1]), md.InvalidTypeError),
        (lambda inv: md.health(inv, timeout=True), md.InvalidTypeError),
        (lambda inv: md.health(inv, timeout=10**400), md.InvalidValueError),
        (lambda inv: md.health(inv, wait="yes"), md.InvalidTypeError),
        (lambda inv: md.health(inv, from_json="yes"), md.InvalidTypeError),
        (lambda inv: md.validate(inv, from_json="yes"), md.InvalidTypeError),
        (lambda inv: md.validate(inv, from_json=1), md.InvalidTypeError),
        (lambda inv: md.render(inv, "h", from_json="yes"), md.InvalidTypeError),
        (lambda inv: md.parse_inventory(inv, from_json="yes"), md.InvalidTypeError),
    ],
)
def test_bad_argument_types_are_metis_errors(example: pathlib.Path, call, exc) -> None:
    with pytest.raises(exc):
        call(example)


def test_int_timeout_still_accepted(example: pathlib.Path) -> None:
    report = md.health(example, services=["consul"], timeout=1, check_timeout=1)
    assert report["healthy"] is False


# ---- F9: Ctrl-C interrupts health(wait=True) ---------------------------------------------------


def test_health_wait_is_interruptible(example: pathlib.Path) -> None:
    # Python's own Ctrl-C handler, even when the suite was started in the background (a shell
    # starts background jobs with SIGINT ignored, and then interrupt_main does nothing).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            md.health(example, services=["consul"], wait=True, timeout=30, check_timeout=0.5)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - start < 5


# ---- F10-F12: Diagnostic, Error, stub ----------------------------------------------------------


def test_diagnostic_hashable_and_picklable() -> None:
    d = md.Diagnostic("error", "list-length", "too short", "inv.ini", 4, 2, "add one")
    same = md.Diagnostic("error", "list-length", "too short", "inv.ini", 4, 2, "add one")
    assert hash(d) == hash(same) and len({d, same}) == 1
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(d, protocol=proto))
        assert back == d and type(back) is md.Diagnostic
    bare = md.Diagnostic("warning", "weak-secret", "weak")
    assert pickle.loads(pickle.dumps(bare)) == bare


@pytest.mark.parametrize(
    ("args", "exc"),
    [
        (("fatal", "c", "m"), md.InvalidValueError),
        ((1, "c", "m"), md.InvalidTypeError),
        (("error", "c", "m", None, 2**32), md.InvalidValueError),
        (("error", "c", "m", None, -1), md.InvalidValueError),
        (("error", "c", "m", None, 0), md.InvalidValueError),
        (("error", "c", "m", None, 1, 2**64), md.InvalidValueError),
        (("error", "c", "m", None, "3"), md.InvalidTypeError),
        (("error", "c", "m", 5), md.InvalidTypeError),
    ],
)
def test_diagnostic_constructor_validates(args, exc) -> None:
    with pytest.raises(exc):
        md.Diagnostic(*args)


def test_base_error_has_code_file_line() -> None:
    for cls in (md.Error, md.InvalidTypeError, md.InvalidValueError, md.UnknownHostError):
        e = cls("x")
        assert (e.code, e.file, e.line) == (None, None, None)


def test_stub_names_exist_at_runtime() -> None:
    stub = pathlib.Path(_native.__file__).with_name("_native.pyi")
    if not stub.exists():
        stub = pathlib.Path(__file__).resolve().parents[2] / "python" / "metis_deploy" / "_native.pyi"
    import ast

    tree = ast.parse(stub.read_text())
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
            if isinstance(node, ast.ClassDef):
                cls = getattr(_native, node.name)
                for item in node.body:
                    attr = getattr(item, "name", None) or getattr(getattr(item, "target", None), "id", None)
                    if attr and not attr.startswith("__"):
                        assert hasattr(cls, attr), f"{node.name}.{attr}"
        elif isinstance(node, (ast.AnnAssign, ast.Assign)):
            target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
            names.append(target.id)
    missing = [n for n in names if not hasattr(_native, n)]
    assert missing == []
