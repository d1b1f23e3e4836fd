"""Stand-in for ansible-test's pip bootstrap script (get-pip.py from ci-files.testing.ansible.com,
which this test machine cannot reach): installs pip from the interpreter's bundled copy
(ensurepip), then runs pip with ansible-test's arguments (e.g. pip==24.2) against PyPI."""

import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
os.environ.pop("PIP_CONFIG_FILE", None)  # set by ensurepip; the machine's pip.conf must apply
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *args]))
