"""Shared fixtures. Tests that need a part of metis-core not built yet skip, naming that part."""

from __future__ import annotations

import pathlib

import pytest

import metis_deploy

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory.ini"


def _ini_reader_built() -> bool:
    diags = metis_deploy.validate(str(EXAMPLE))
    return not any("not built yet" in d.message for d in diags)


def _resolved_reader_built() -> bool:
    try:
        metis_deploy.validate({"groups": {"all": []}, "hostvars": {}})
    except metis_deploy.NotAvailableError:
        return False
    return True


def _renderer_built() -> bool:
    try:
        metis_deploy.render(str(EXAMPLE), "127.0.1.1")
    except metis_deploy.NotAvailableError:
        return False
    except metis_deploy.Error:
        return True
    return True


@pytest.fixture
def needs_ini_reader() -> None:
    if not _ini_reader_built():
        pytest.skip("metis-core's INI reader (inventory::ini) is not built yet")


@pytest.fixture
def needs_resolved_reader() -> None:
    if not _resolved_reader_built():
        pytest.skip("metis-core's json::from_resolved is not built yet")


@pytest.fixture
def needs_renderer(needs_ini_reader: None) -> None:
    if not _renderer_built():
        pytest.skip("metis-core's renderer or model builder is not built yet")


@pytest.fixture
def example() -> pathlib.Path:
    return EXAMPLE
