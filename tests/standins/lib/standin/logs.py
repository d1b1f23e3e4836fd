"""metis-deploy STAND-IN support: logging to a file (appended) and to stdout."""

from __future__ import annotations

import logging
import os
import sys
import time


class _UTC(logging.Formatter):
    converter = time.gmtime


def setup(name: str, log_file: str | None, fmt: str, datefmt: str | None = None, level=logging.INFO):
    """A logger writing `fmt` lines to stdout and, when given, appending them to `log_file`
    (its directory is created). Raises OSError when the file cannot be opened."""
    logger = logging.getLogger(name)
    logger.handlers.clear()
    logger.setLevel(level)
    logger.propagate = False
    formatter = _UTC(fmt, datefmt)
    out = logging.StreamHandler(sys.stdout)
    out.setFormatter(formatter)
    logger.addHandler(out)
    if log_file:
        d = os.path.dirname(log_file)
        if d:
            os.makedirs(d, exist_ok=True)
        fh = logging.FileHandler(log_file, encoding="utf-8")
        fh.setFormatter(formatter)
        logger.addHandler(fh)
    return logger
