"""validate / render / health / parse_inventory: good input and every kind of bad input."""

from __future__ import annotations

import pathlib

import pytest

import metis_deploy as md

API_WITH_INVENTORY = [
    lambda inv: md.validate(inv),
    lambda inv: md.render(inv, "198.51.100.11"),
    lambda inv: md.health(inv),
]
IDS = ["validate", "render", "health"]


@pytest.mark.parametrize("call", API_WITH_INVENTORY, ids=IDS)
@pytest.mark.parametrize("bad", [None, 42, 1.5, ["inventory.ini"], b"\xff", object()])
def test_inventory_of_wrong_type(call, bad) -> None:
    with pytest.raises(md.InvalidTypeError, match="inventory must be a path"):
        call(bad)


@pytest.mark.parametrize("call", API_WITH_INVENTORY + [md.parse_inventory], ids=[*IDS, "parse"])
def test_missing_path(call, tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "nope.ini"
    with pytest.raises(md.UnreadableInventoryError) as info:
        call(missing)
    e = info.value
    assert e.code == "unreadable-input"
    assert e.file == str(missing)
    assert "No such file" in str(e)
    assert [d.code for d in e.diagnostics] == ["unreadable-input"]


@pytest.mark.parametrize("call", API_WITH_INVENTORY + [md.parse_inventory], ids=[*IDS, "parse"])
def test_not_utf8(call, tmp_path: pathlib.Path) -> None:
    f = tmp_path / "latin1.ini"
    f.write_bytes(b"[consul]\n10.0.0.1 comment=caf\xe9\n")
    with pytest.raises(md.UnreadableInventoryError, match="not UTF-8"):
        call(str(f))


def test_directory_is_unreadable(tmp_path: pathlib.Path) -> None:
    with pytest.raises(md.UnreadableInventoryError):
        md.validate(tmp_path)


def test_nul_in_path_is_refused() -> None:
    with pytest.raises(md.Error):
        md.validate("inv\0.ini")


@pytest.mark.parametrize(
    ("data", "exc", "match"),
    [
        ({}, md.InvalidValueError, 'no "groups" key'),
        ({"groups": {}}, md.InvalidValueError, 'no "hostvars" key'),
        ({"groups": [], "hostvars": {}}, md.InvalidTypeError, "groups must be a dict"),
        ({"groups": {"a": "h1"}, "hostvars": {}}, md.InvalidTypeError, "list of host names"),
        ({"groups": {"a": [1]}, "hostvars": {}}, md.InvalidTypeError, "a host name must be a str"),
        ({"groups": {1: []}, "hostvars": {}}, md.InvalidTypeError, "a group name must be a str"),
        ({"groups": {}, "hostvars": {"h": 1}}, md.InvalidTypeError, r"hostvars\[\"h\"\] must be a dict"),
        ({"groups": {}, "hostvars": {"h": {"x": object()}}}, md.InvalidTypeError, r"hostvars\[\"h\"\]\[\"x\"\]"),
    ],
)
def test_bad_resolved_data(data, exc, match) -> None:
    with pytest.raises(exc, match=match):
        md.validate(data)


def test_parse_inventory_wants_a_path() -> None:
    with pytest.raises(md.InvalidTypeError):
        md.parse_inventory({"groups": {}, "hostvars": {}})  # type: ignore[arg-type]
    with pytest.raises(md.InvalidTypeError):
        md.parse_inventory(3)  # type: ignore[arg-type]


def test_render_host_must_be_str(example: pathlib.Path) -> None:
    with pytest.raises(md.InvalidTypeError, match="host must be a str"):
        md.render(example, 7)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"timeout": -1}, md.InvalidValueError),
        ({"timeout": float("nan")}, md.InvalidValueError),
        ({"check_timeout": 0}, md.InvalidValueError),
        ({"services": ["nosuch"]}, md.InvalidValueError),
        ({"hosts": 5}, md.InvalidTypeError),
        ({"services": [1]}, md.InvalidTypeError),
    ],
)
def test_health_bad_arguments(example: pathlib.Path, kwargs, exc) -> None:
    with pytest.raises(exc):
        md.health(example, **kwargs)


# ---- behaviour that needs the parts of metis-core landing on main --------------------------


def test_syntax_errors_are_located(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "broken.ini"
    f.write_text("[consul\n10.0.0.1\n")
    diags = md.validate(f)
    assert diags and diags[0].code == "syntax"
    assert diags[0].file == str(f) and diags[0].line == 1
    with pytest.raises(md.InventoryError) as info:
        md.parse_inventory(f)
    assert info.value.code == "syntax" and info.value.line == 1
    assert not isinstance(info.value, md.UnreadableInventoryError)


def test_parse_inventory_example(example: pathlib.Path) -> None:
    data = md.parse_inventory(example)
    assert data["groups"]["consul"] == ["198.51.100.11", "198.51.100.12", "198.51.100.13"]
    assert data["hostvars"]["198.51.100.11"]["consul_http_port"] == [8500, 8501, 8502]
    assert data["hostvars"]["198.51.100.11"]["enable_tls"] is False


def test_example_is_valid(example: pathlib.Path) -> None:
    assert [d for d in md.validate(example) if d.is_error] == []


def test_validate_reports_located_errors(example: pathlib.Path, tmp_path) -> None:
    bad = tmp_path / "bad.ini"
    bad.write_text(example.read_text().replace("data_port = [8700, 8701]", "data_port = [8700]"))
    errors = [d for d in md.validate(bad) if d.is_error]
    assert any(d.code == "list-length" and d.file == str(bad) and d.line for d in errors), errors


def test_resolved_data_matches_file(example) -> None:
    data = md.parse_inventory(example)
    assert [d for d in md.validate(data) if d.is_error] == []
    assert md.validate({"groups": {"all": []}, "hostvars": {}})


def test_render_files(example: pathlib.Path) -> None:
    files = md.render(example, "198.51.100.12")
    assert files and all(f.host == "198.51.100.12" for f in files)
    assert all(f.path.startswith("/") for f in files)
    for f in files:
        if f.secret:
            assert f.mode & 0o077 == 0
            assert f.content not in repr(f)
    assert md.render(example, "198.51.100.12") == files


def test_render_unknown_host(example: pathlib.Path) -> None:
    with pytest.raises(md.UnknownHostError):
        md.render(example, "10.9.9.9")


def test_render_refuses_bad_inventory(example: pathlib.Path, tmp_path) -> None:
    bad = tmp_path / "bad.ini"
    bad.write_text(example.read_text().replace("data_port = [8700, 8701]", "data_port = [8700]"))
    with pytest.raises(md.InventoryError) as info:
        md.render(bad, "127.0.1.4")
    assert info.value.errors and info.value.line


def test_health_report(example: pathlib.Path) -> None:
    # Nothing runs on the sandbox addresses here: every check fails fast, none raises.
    report = md.health(example, services=["consul"], check_timeout=0.5, timeout=1)
    assert report["healthy"] is False
    assert report["checks"]
    for c in report["checks"]:
        assert c["service"] == "consul" and c["ok"] is False
        assert {"host", "address", "check", "outcome", "detail", "elapsed_ms", "attempts"} <= set(c)
    assert "consul" in report["table"]


def test_health_unknown_host(example: pathlib.Path) -> None:
    with pytest.raises(md.UnknownHostError):
        md.health(example, hosts=["10.9.9.9"])


def test_health_releases_the_gil(example: pathlib.Path) -> None:
    import threading
    import time

    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    try:
        md.health(example, services=["carrier"], check_timeout=0.3, timeout=0.6, wait=True)
    finally:
        done.set()
        t.join()
    assert ticks > 50


def test_render_from_a_file_reads_env_lookups(example: pathlib.Path, sandbox_env: dict[str, str], monkeypatch) -> None:
    admin = "198.51.100.13"
    files = md.render(example, admin)
    config = next(f for f in files if f.path.endswith("application-admin.yml"))
    assert sandbox_env["METIS_ADMIN_DB_PASSWORD"] in config.content and config.secret
    monkeypatch.delenv("METIS_ADMIN_DB_PASSWORD")
    with pytest.raises(md.InventoryError) as err:
        md.render(example, admin)
    assert "METIS_ADMIN_DB_PASSWORD, which is not set" in str(err.value)
    assert err.value.code == "template"
