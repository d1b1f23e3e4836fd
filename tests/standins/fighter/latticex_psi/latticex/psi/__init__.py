"""latticex.psi: metis-deploy STAND-IN for LatticeX PSI (private set intersection).
Importable, reports its version; implements nothing else."""

__version__ = "1.0.0"
STANDIN = True

try:  # written by tests/standins/build
    from ._build import VERSION as BUNDLE_VERSION
except ImportError:  # pragma: no cover
    BUNDLE_VERSION = "0.0.0-standin-dev"
