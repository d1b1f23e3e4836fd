"""channel_sdk: metis-deploy STAND-IN for datum_network_channel_sdk (the fighters' data channel).
Importable, reports its version; implements nothing else."""

__version__ = "2.0.4"
STANDIN = True

try:  # written by tests/standins/build
    from ._build import VERSION as BUNDLE_VERSION
except ImportError:  # pragma: no cover
    BUNDLE_VERSION = "0.0.0-standin-dev"
