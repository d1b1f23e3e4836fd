#!/usr/bin/env bash
# The example organisation (inventory.ini) deployed into the lab, from a fresh Debian 12 machine:
# installs what is missing, builds metis-deploy, boots three pretend hosts with systemd
# (metis-deploy lab up), builds the stand-in artifact bundle, then deploys with one command inside
# the lab (`metis-deploy up -y`: local_prepare, bootstrap, deploy, start, status, with a run record
# under .metis-deploy/lab/runs/) and shows the status table of every service.
# Run as root (the lab needs it). Safe to run again: a second run changes nothing.
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (sudo ./demo.sh): the lab boots containers" >&2; exit 2; }

echo "== installing what is missing (Debian packages, Python tools)"
tests/setup.sh
echo "== building metis-deploy and its Python package"
cargo build -q --release -p metis-deploy
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-build-isolation --no-deps .
bin=$PWD/target/release/metis-deploy

echo "== the lab: three hosts at 198.51.100.11-13 (the first run builds its image: a few minutes)"
"$bin" lab up --hosts 3
echo "== the artifact bundle (stand-ins for carrier, keytool, admin.jar, consul and the fighter wheels)"
tests/standins/build .metis-deploy/demo-bundle

# The example's test-only secrets (inventory.ini reads them from the environment).
set -a; . tests/fixtures/sandbox-secrets.env; set +a
export ANSIBLE_PYTHON_INTERPRETER=auto_silent
echo "== metis-deploy up inventory.ini (inside the lab's network namespace)"
"$bin" lab exec -- "$bin" up inventory.ini -y -- -e "offline_bundle=$PWD/.metis-deploy/demo-bundle"
echo "== metis-deploy status inventory.ini"
"$bin" lab exec -- "$bin" status inventory.ini
echo
echo "The example organisation runs in the lab. Try:"
echo "  $bin lab exec -- $bin runs inventory.ini"
echo "  $bin lab ssh lab2 -- systemctl status metis-carrier"
echo "  $bin lab exec -- $bin down inventory.ini -y"
echo "  $bin lab down"
