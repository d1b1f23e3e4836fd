#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian 12 machine. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real programs the rendered configs and the health checks are tested against.
apt_packages=(nginx mariadb-server zeroc-icegrid zeroc-glacier2 openssh-server sudo systemd openssl)
# The lab (metis-deploy lab): containers, the image builder, namespaces and veths.
apt_packages+=(systemd-container mmdebstrap iproute2 util-linux)
# The stand-ins (tests/standins): admin.jar is built with javac and reaches MariaDB through
# Debian's Connector/J; the fighters' venv comes from the system python3.
apt_packages+=(openjdk-17-jre-headless libmariadb-java python3-venv)
javac -version >/dev/null 2>&1 || apt_packages+=(openjdk-17-jdk-headless)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  # Tests start their own daemons on their own loopback addresses: packaged ones that a
  # post-install script may have started (nginx on *:80) would take their ports.
  for s in nginx mariadb; do service "$s" stop >/dev/null 2>&1 || true; done
fi

# Guard: packets to the lab's range (198.51.100.0/24) never leave this machine. The lab's
# addresses live only inside its network namespace; a command that forgot to enter it (an
# Ansible run or a health check aimed at a lab host) fails at once instead. `lab up` ensures it too.
if [ "$(id -u)" = 0 ] && [ -z "$(ip -4 route show 198.51.100.0/24)" ]; then
  ip route add unreachable 198.51.100.0/24
fi

python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r tests/requirements.txt
