"""fighter_project: metis-deploy STAND-IN for the Metis fighter (data and compute services).
Not the real fighter: it serves HTTP/2 without RPC methods and registers with consul."""

try:  # written by tests/standins/build
    from ._build import VERSION
except ImportError:  # pragma: no cover
    VERSION = "0.0.0-standin-dev"
