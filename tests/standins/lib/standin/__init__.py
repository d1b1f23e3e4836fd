"""metis-deploy STAND-INS: shared support of the programs that stand in for consul, the carrier,
keytool and the fighters in tests and in the lab. None of them is the real program."""

from __future__ import annotations

try:  # written by tests/standins/build into each artifact
    from ._build import VERSION
except ImportError:  # pragma: no cover - only when run from the source tree
    VERSION = "0.0.0-standin-dev"

STANDIN_NOTE = "metis-deploy stand-in, not the real program"
