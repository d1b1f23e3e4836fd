"""Python values as Ansible holds them -> metis-core Value -> Python."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import pytest

import metis_deploy as md
from metis_deploy._native import _convert_value as roundtrip


class UnsafeText(str):
    """Stands in for Ansible's AnsibleUnsafeText (a str subclass)."""


class LazyDict(dict):  # noqa: FURB189 - imitates Ansible's lazy templating dict
    """A dict whose items() differ from its stored values, like Ansible's lazy containers."""

    def items(self):  # type: ignore[override]
        return [(k, f"templated:{v}") for k, v in dict.items(self)]


class LazyList(list):  # noqa: FURB189
    def __iter__(self) -> Iterator[object]:
        return (f"templated:{v}" for v in list.__iter__(self))


class View(Mapping[str, int]):
    def __getitem__(self, key: str) -> int:
        return {"a": 1}[key]

    def __iter__(self) -> Iterator[str]:
        return iter(["a"])

    def __len__(self) -> int:
        return 1


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2**63,
        -(2**200),
        1.5,
        -0.0,
        "",
        "é ✓",
        [1, [2, [3]]],
        (1, "a"),
        {"a": {"b": [None]}},
        {1: "int key", (1, 2): "tuple key"},
        {1, "x"},
    ],
)
def test_roundtrip(value: object) -> None:
    out = roundtrip(value)
    assert out == value
    assert type(out) is type(value)


def test_bool_is_not_int() -> None:
    assert roundtrip(True) is True
    assert roundtrip(1) == 1 and roundtrip(1) is not True


def test_special_floats() -> None:
    assert math.isnan(roundtrip(float("nan")))
    assert roundtrip(float("inf")) == float("inf")


def test_frozenset_becomes_set() -> None:
    assert roundtrip(frozenset({1})) == {1}


def test_str_subclass_becomes_str() -> None:
    out = roundtrip(UnsafeText("secret"))
    assert out == "secret" and type(out) is str


def test_real_ansible_unsafe_text() -> None:
    unsafe = pytest.importorskip("ansible.utils.unsafe_proxy")
    value = unsafe.wrap_var({"k": ["v", "{{ not templated }}"]})
    assert roundtrip(value) == {"k": ["v", "{{ not templated }}"]}


def test_subclassed_containers_are_read_through_their_methods() -> None:
    assert roundtrip(LazyDict(a=1)) == {"a": "templated:1"}
    assert roundtrip(LazyList([1])) == ["templated:1"]
    assert roundtrip(View()) == {"a": 1}


def test_utf8_bytes_become_str() -> None:
    assert roundtrip(b"abc") == "abc"


def test_non_utf8_bytes_are_refused() -> None:
    with pytest.raises(md.InvalidValueError, match="not UTF-8"):
        roundtrip({"k": [b"\xff"]})


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(md.InvalidValueError, match="Unicode"):
        roundtrip("a\udcff")


@pytest.mark.parametrize("bad", [object(), 1j, print, type])
def test_unsupported_types_name_the_place(bad: object) -> None:
    with pytest.raises(md.InvalidTypeError, match=r"value\['k'\]\[0\]: cannot use a value of type"):
        roundtrip({"k": [bad]})


def test_self_referencing_container_is_refused() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(md.InvalidValueError, match="nested more than"):
        roundtrip(loop)
