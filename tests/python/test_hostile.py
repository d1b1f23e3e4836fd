"""Hostile input through the Python package: no crash, no secret in an exception, only
metis_deploy errors."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

import metis_deploy as md

SECRET = "S3cretXyz"


def write(tmp_path: pathlib.Path, name: str, text: str) -> pathlib.Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "value",
    ["-" * 100_000 + "1", "+-" * 50_000 + "1", "1" + "+1" * 100_000, "[" + "-" * 100_000 + "1]"],
)
def test_long_chains_of_signs_are_a_located_diagnostic(tmp_path: pathlib.Path, value: str) -> None:
    path = write(tmp_path, "deep.ini", f"[g]\n10.0.0.1 x={value}\n[all:vars]\ny = {value}\n")
    diags = md.validate(path)
    assert [(d.code, d.line) for d in diags if d.is_error] == [("syntax", 2)]
    assert "nested more than" in diags[0].message
    with pytest.raises(md.InventoryError) as e:
        md.parse_inventory(path)
    assert "nested more than" in str(e.value)


@pytest.mark.parametrize(
    "line",
    [
        f'127.0.1.3 admin_password="{SECRET}',
        f"127.0.1.3 admin_password= {SECRET}",
        f'127.0.1.3 admin_password={{"{SECRET}", []}}',
        f'127.0.1.3 ansible_become_passwd={{"a", "{SECRET} x"}}',
        f"127.0.1.3 mysql_root_password={'-' * 2000}{SECRET}",
    ],
)
def test_no_exception_or_diagnostic_shows_a_secret(tmp_path: pathlib.Path, line: str) -> None:
    path = write(tmp_path, "secret.ini", f"[admin]\n{line}\n")
    diags = md.validate(path)
    assert diags and diags[0].code == "syntax"
    for d in diags:
        assert SECRET not in str(d) and SECRET not in repr(d) and SECRET not in str(d.to_dict())
    for call in (md.parse_inventory, lambda p: md.render(p, "127.0.1.3")):
        with pytest.raises(md.InventoryError) as e:
            call(path)
        assert SECRET not in str(e.value)
        assert SECRET not in repr(e.value)
        assert all(SECRET not in str(d) for d in e.value.diagnostics)


class FailingList(list):  # noqa: FURB189
    def __iter__(self) -> Iterator[object]:
        raise RuntimeError("boom")


class FailingDict(dict):  # noqa: FURB189
    def items(self):  # type: ignore[override]
        raise KeyError("gone")


class FailingItems(dict):  # noqa: FURB189
    def items(self):  # type: ignore[override]
        return [("a",)]


@pytest.mark.parametrize(
    "inventory",
    [
        {"groups": {"all": ["h"]}, "hostvars": {"h": {"x": FailingList([1])}}},
        {"groups": {"all": ["h"]}, "hostvars": {"h": {"x": FailingDict(a=1)}}},
        {"groups": {"all": ["h"]}, "hostvars": FailingDict(h={})},
        {"groups": FailingDict(all=["h"]), "hostvars": {}},
        {"groups": {"all": FailingList(["h"])}, "hostvars": {}},
        {"groups": {"all": ["h"]}, "hostvars": {"h": FailingItems(a=1)}},
    ],
)
def test_containers_that_raise_give_metis_deploy_errors(inventory: dict[str, object]) -> None:
    with pytest.raises(md.InvalidValueError) as e:
        md.validate(inventory)
    assert isinstance(e.value, md.Error)
    assert "raised" in str(e.value)


def test_secret_paths_hide_what_their_container_raised() -> None:
    class Leaky(list):  # noqa: FURB189
        def __iter__(self) -> Iterator[object]:
            raise ValueError(SECRET)

    inventory = {"groups": {"all": ["h"]}, "hostvars": {"h": {"admin_password": Leaky([1])}}}
    with pytest.raises(md.InvalidValueError) as e:
        md.validate(inventory)
    assert SECRET not in str(e.value)


def test_from_json_loops_and_infinity(tmp_path: pathlib.Path) -> None:
    loop = write(tmp_path, "loop.json", '{"a": {"children": ["b"]}, "b": {"children": ["a"]}}')
    with pytest.raises(md.UnreadableInventoryError) as e:
        md.validate(loop, from_json=True)
    assert "'a' -> 'b' -> 'a'" in str(e.value)
    inf = write(
        tmp_path,
        "inf.json",
        '{"_meta": {"hostvars": {"h": {"x": Infinity, "t": "\\u0001bigint:1"}}}, "ungrouped": {"hosts": ["h"]}}',
    )
    inv = md.parse_inventory(inf, from_json=True)
    assert inv["hostvars"]["h"]["t"] == "\x01bigint:1"
    assert inv["hostvars"]["h"]["x"] == float("inf")
