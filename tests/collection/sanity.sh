#!/usr/bin/env bash
# Static checks of the metis.node collection: ansible-test sanity (from a copy at
# <tmp>/ansible_collections/metis/node, as ansible-test requires) and ansible-lint's production
# profile. No sanity ignores. Needs ansible-core and ansible-lint; PyPI must be reachable (ansible-test
# installs each test's requirements into its own virtual environments, cached in ~/.ansible/test).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
py=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ansible-test bootstraps pip in those environments with get-pip.py from ci-files.testing.ansible.com,
# which is not reachable here: give it a stand-in that uses the interpreter's bundled pip instead.
at_dir=$("$py" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
pip_version=$(grep -oP "pip='\K[0-9.]+" "$at_dir/_internal/python_requirements.py" | head -1)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -e "$cache" ]; then
  mkdir -p "$(dirname "$cache")"
  cp "$here/get_pip_offline.py" "$cache"
fi

mkdir -p "$work/ansible_collections/metis"
cp -r "$repo/ansible_collection" "$work/ansible_collections/metis/node"
(cd "$work/ansible_collections/metis/node" && ansible-test sanity --local --python 3.11)
# Lint the copy, where Ansible finds the collection itself (its playbooks use metis.node.*); the
# collections it depends on (community.mysql) come from the `ansible` package on PyPI.
(cd "$work/ansible_collections/metis/node" && ANSIBLE_COLLECTIONS_PATH="$work" ansible-lint --offline --profile production)
