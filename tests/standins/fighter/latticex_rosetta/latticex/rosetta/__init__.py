"""latticex.rosetta: metis-deploy STAND-IN for LatticeX Rosetta (privacy-preserving ML).
Importable, reports its version and which build it is (avx2 or no_avx2); implements nothing else.

Like the real avx2 build, the avx2 build cannot run on a CPU without avx2: its import fails."""

__version__ = "1.0.0"
STANDIN = True

try:  # written by tests/standins/build: BUILD is "avx2" or "no_avx2"
    from ._build import BUILD, VERSION as BUNDLE_VERSION
except ImportError:  # pragma: no cover
    BUILD, BUNDLE_VERSION = "no_avx2", "0.0.0-standin-dev"


def _cpu_has_avx2() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return any(line.startswith("flags") and " avx2" in line for line in f)
    except OSError:
        return False


if BUILD == "avx2" and not _cpu_has_avx2():
    raise ImportError(
        "latticex_rosetta (stand-in) avx2 build on a CPU without avx2: install the no_avx2 build"
    )
