"""Fixtures of the stand-in tests and their time limit (helpers: standins_support)."""

from __future__ import annotations

import signal
import zipfile
from pathlib import Path

import pytest

from standins_support import Consul, Proc, build_bundle

DEFAULT_TIMEOUT = 120


# ---------------------------------------------------------------------------- time limits

def pytest_configure(config):
    config.addinivalue_line("markers", "time_limit(seconds): time limit of the test body (default 120 s)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("time_limit")
    limit = int(marker.args[0]) if marker else DEFAULT_TIMEOUT

    def expired(signum, frame):
        raise TimeoutError(f"{item.name} exceeded its time limit of {limit} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def procs():
    """Starts programs for one test; stops them all afterwards."""
    started: list[Proc] = []

    def start(argv, log, cwd=None, env=None) -> Proc:
        p = Proc([str(a) for a in argv], Path(log), cwd, env)
        started.append(p)
        return p

    yield start
    for p in reversed(started):
        p.stop()


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    return build_bundle(tmp_path_factory.mktemp("bundle") / "b")


@pytest.fixture(scope="session")
def bins(bundle, tmp_path_factory) -> dict[str, Path]:
    """The executables, as the deploy installs them: consul unzipped, carrier/keytool as is."""
    d = tmp_path_factory.mktemp("bin")
    with zipfile.ZipFile(bundle / "consul.zip") as z:
        z.extract("consul", d)
    (d / "consul").chmod(0o755)
    return {"consul": d / "consul", "carrier": bundle / "carrier", "keytool": bundle / "keytool",
            "admin": bundle / "admin.jar"}


@pytest.fixture
def single_consul(bins, tmp_path, procs) -> Consul:
    """One bootstrapped consul server on 127.0.2.4 (services register with it)."""
    c = Consul(bins["consul"], tmp_path, ["127.0.2.4"], procs, expect=1)
    c.start(0)
    c.wait_leader()
    return c
