"""Exceptions raised by metis_deploy. Every one derives from :class:`Error`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from metis_deploy._native import Diagnostic


class Error(Exception):
    """Base class of every error raised by metis_deploy.

    ``code``, ``file`` and ``line`` are None unless the error is about a located problem of an
    inventory (:class:`InventoryError`), so ``except metis_deploy.Error as e: e.code`` always works.
    """

    code: str | None = None
    file: str | None = None
    line: int | None = None


class InventoryError(Error):
    """The inventory has errors: it cannot be read, parsed or turned into an organisation.

    ``diagnostics`` holds every problem found (errors and warnings); ``code``, ``file`` and
    ``line`` describe the first error, for callers that show one line.
    """

    def __init__(
        self,
        message: str,
        diagnostics: Iterable[Diagnostic] = (),
        *,
        code: str | None = None,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        first = next((d for d in self.diagnostics if d.severity == "error"), None)
        self.code = code if code is not None else (first.code if first else None)
        self.file = file if file is not None else (first.file if first else None)
        self.line = line if line is not None else (first.line if first else None)

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics of severity ``error``."""
        return [d for d in self.diagnostics if d.severity == "error"]


class UnreadableInventoryError(InventoryError):
    """The inventory could not be read at all: missing file, not UTF-8, not a file, bad JSON."""


class InvalidTypeError(Error, TypeError):
    """An argument (or a value inside Ansible's data) has a type metis_deploy cannot use."""


class InvalidValueError(Error, ValueError):
    """An argument has the right type but a value metis_deploy cannot use."""


class UnknownHostError(Error, LookupError):
    """The host named is not in the inventory."""
