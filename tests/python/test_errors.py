"""Exceptions and result classes."""

from __future__ import annotations

import pytest

import metis_deploy as md


def test_exception_hierarchy() -> None:
    assert issubclass(md.InventoryError, md.Error)
    assert issubclass(md.UnreadableInventoryError, md.InventoryError)
    assert issubclass(md.InvalidTypeError, TypeError)
    assert issubclass(md.InvalidValueError, ValueError)
    assert issubclass(md.UnknownHostError, LookupError)
    for cls in (md.InvalidTypeError, md.InvalidValueError, md.UnknownHostError):
        assert issubclass(cls, md.Error)


def test_inventory_error_fields_come_from_first_error() -> None:
    warn = md.Diagnostic("warning", "weak-secret", "weak", "inv.ini", 3, 1)
    err = md.Diagnostic("error", "port-conflict", "clash", "inv.ini", 7, 5, "change one")
    e = md.InventoryError("bad", [warn, err])
    assert (e.code, e.file, e.line) == ("port-conflict", "inv.ini", 7)
    assert e.diagnostics == [warn, err]
    assert e.errors == [err]
    assert str(e) == "bad"


def test_diagnostic_is_plain_frozen_data() -> None:
    d = md.Diagnostic("error", "list-length", "too short", "inv.ini", 4, 2, "add one")
    assert d.is_error
    assert d.location == "inv.ini:4:2"
    assert str(d) == "inv.ini:4:2: error[list-length]: too short (hint: add one)"
    assert "list-length" in repr(d)
    assert d.to_dict() == {
        "severity": "error",
        "code": "list-length",
        "message": "too short",
        "file": "inv.ini",
        "line": 4,
        "column": 2,
        "hint": "add one",
    }
    assert d == md.Diagnostic("error", "list-length", "too short", "inv.ini", 4, 2, "add one")
    assert d != md.Diagnostic("warning", "list-length", "too short")
    with pytest.raises(AttributeError):
        d.code = "other"  # type: ignore[misc]


def test_diagnostic_without_location() -> None:
    d = md.Diagnostic("warning", "multiple-admins", "two admins")
    assert not d.is_error
    assert d.location is None
    assert str(d) == "warning[multiple-admins]: two admins"


def test_diagnostic_codes() -> None:
    codes = md.diagnostic_codes()
    assert "syntax" in codes and "port-conflict" in codes
    assert all(isinstance(v, str) and v for v in codes.values())


def test_version() -> None:
    assert md.__version__.count(".") == 2
