"""Shared fixtures."""

from __future__ import annotations

import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventory.ini"
SANDBOX_SECRETS = REPO / "tests" / "fixtures" / "sandbox-secrets.env"


def sandbox_secrets() -> dict[str, str]:
    """The example inventory's test-only secrets, which it reads with lookup('env', ...)."""
    pairs = (line.split("=", 1) for line in SANDBOX_SECRETS.read_text().splitlines() if line and not line.startswith("#"))
    return dict(pairs)


@pytest.fixture(autouse=True)
def sandbox_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Exports the sandbox secrets, as a user of the example inventory would."""
    secrets = sandbox_secrets()
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    return secrets


@pytest.fixture
def example() -> pathlib.Path:
    return EXAMPLE
