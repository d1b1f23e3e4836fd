#!/usr/bin/env bash
# Plugin tests of the metis.node collection: builds and installs the collection into a temporary
# directory, then runs real playbooks against the fixture hosts with the local connection. Files are
# only written below a temporary directory. Ansible runs as `$PYTHON -m ansible` (PYTHON defaults
# to python3): the interpreter metis_deploy is installed for.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=${PYTHON:-python3}

"$py" -m ansible galaxy collection build "$repo/ansible_collection" --output-path "$work" >/dev/null
"$py" -m ansible galaxy collection install --no-deps "$work"/metis-node-*.tar.gz -p "$work/collections" >/dev/null 2>&1
mkdir -p "$work/tmp"
export ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_LOCAL_TEMP="$work/tmp" \
  ANSIBLE_REMOTE_TMP="$work/tmp" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
  ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_DEPRECATION_WARNINGS=0
inv="$here/fixtures/inventory.ini"
bad="$here/fixtures/bad.ini"
secrets=(Fixture-Root-7Hq2mZ Fixture-Db-4Kp9wX Fixture-Token-8Jr3vN)

passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
play() { "$py" -m ansible playbook -i "$inv" "$@" >"$work/out.log" 2>&1; }
run() { # name, playbook args...
  local name=$1; shift
  if play "$@"; then pass "$name"; else fail "$name"; sed 's/^/    /' "$work/out.log" | tail -40; fi
}

run "host_plan (file): every host's plan as a fact" "$here/playbooks/host_plan.yml" -e "metis_inventory_path=$inv"
run "host_plan (play): every host's plan as a fact" "$here/playbooks/host_plan.yml"
mkdir -p "$work/fake/metis_deploy"
echo 'raise ImportError("metis_deploy hidden for the test")' >"$work/fake/metis_deploy/__init__.py"
PYTHONPATH="$work/fake" run "missing metis_deploy: one-line install hint" "$here/playbooks/missing_package.yml"
run "unreadable inventory path" "$here/playbooks/unreadable.yml"
# Hostile files: a value of 100,000 signs (a crash of the worker before), a secret without its quote.
{ printf '[admin]\n127.0.1.3 x='; head -c 100000 /dev/zero | tr '\0' '-'; printf '1\n'; } >"$work/deep.ini"
printf '[admin]\n127.0.1.3 admin_password="Unclosed-Secret-2Wd8\n' >"$work/secret.ini"
run "hostile inventories: located failures, no crash, no secret" "$here/playbooks/hostile.yml" \
  -e "deep_inventory=$work/deep.ini" -e "secret_inventory=$work/secret.ini"

# Secrets as the play holds them: a vaulted value and one from the environment (group_vars).
vdir="$work/vaulted"
mkdir -p "$vdir/group_vars" "$vdir/out"
cp "$inv" "$vdir/inventory.ini"
echo "fixture-vault-password" >"$work/vault-pass"
{
  "$py" -m ansible vault encrypt_string --vault-password-file "$work/vault-pass" --name admin_password \
    'Vaulted-Db-5Rt8qY' 2>/dev/null
  echo "mysql_root_password: \"{{ lookup('ansible.builtin.env', 'METIS_FIXTURE_ROOT_PW') }}\""
} >"$vdir/group_vars/all.yml"
if METIS_FIXTURE_ROOT_PW=Env-Root-3Wq7zP "$py" -m ansible playbook -i "$vdir/inventory.ini" \
  --vault-password-file "$work/vault-pass" -e "out=$vdir/out" "$here/playbooks/validate_secrets.yml" >"$work/out.log" 2>&1; then
  pass "validate (play): vaulted and env values are not plaintext, group findings once"
else
  fail "validate (play): vaulted and env values are not plaintext, group findings once"
  sed 's/^/    /' "$work/out.log" | tail -40
fi

# The plugins read the inventory from a file (`path`) or from the play itself.
for src in file play; do
  extra=()
  [ "$src" = file ] && extra=(-e "metis_inventory_path=$inv")
  run "validate ($src): good passes, bad fails with located errors" \
    "$here/playbooks/validate.yml" -e "bad_inventory=$bad" "${extra[@]}"
  run "health ($src): unhealthy services fail with a table" "$here/playbooks/health.yml" "${extra[@]}"
  out="$work/render-$src"
  mkdir -p "$out"
  run "render ($src): check mode writes nothing, changed then unchanged, backup" \
    "$here/playbooks/render.yml" -e "out=$out" "${extra[@]}"
  out="$work/owners-$src"
  mkdir -p "$out"
  run "render ($src): each file its owner, existing directories untouched, links replaced" \
    "$here/playbooks/owners.yml" -e "out=$out" "${extra[@]}"
  out="$work/drift-$src"
  mkdir -p "$out"
  run "render ($src): mode and owner drift fixed, links replaced never followed, new inodes, then nothing" \
    "$here/playbooks/drift.yml" -e "out=$out" "${extra[@]}"
  out="$work/diff-$src"
  mkdir -p "$out"
  if play "$here/playbooks/render_once.yml" --diff -e "out=$out" "${extra[@]}" -vvv; then
    leaked=0
    for s in "${secrets[@]}"; do grep -qF -- "$s" "$work/out.log" && leaked=1; done
    if [ $leaked = 0 ] && grep -q "content not shown" "$work/out.log" && grep -q '^+++ after' "$work/out.log"; then
      pass "render ($src) --diff: shows changes, never the secret values"
    else
      fail "render ($src) --diff: shows changes, never the secret values"
      grep -n -F -e "${secrets[0]}" -e "${secrets[1]}" -e "${secrets[2]}" "$work/out.log" | head -5 | sed 's/^/    /'
    fi
  else
    fail "render ($src) --diff"; tail -30 "$work/out.log" | sed 's/^/    /'
  fi
  # A second run of the play over the same files: every host ok, none changed.
  if play "$here/playbooks/render_once.yml" -e "out=$out" "${extra[@]}" &&
    [ "$(grep -c ' changed=0 .*failed=0' "$work/out.log")" = 5 ]; then
    pass "render ($src): a second run of the play changes nothing (changed=0 on every host)"
  else
    fail "render ($src): a second run of the play changes nothing (changed=0 on every host)"
    grep -A8 'PLAY RECAP' "$work/out.log" | sed 's/^/    /'
  fi
done

# The play's inventory is templated once per task, by one host's worker; the others reuse it.
out="$work/once"
mkdir -p "$out"
if play "$here/playbooks/render_once.yml" -e "out=$out" -vvv &&
  [ "$(grep -c "^metis: templated the play's inventory (5 hosts)" "$work/out.log")" = 1 ] &&
  [ "$(grep -c "^metis: reused the play's inventory" "$work/out.log")" = 4 ]; then
  pass "render (play): the inventory is templated once for the task's 5 hosts"
else
  fail "render (play): the inventory is templated once for the task's 5 hosts"
  grep "^metis:" "$work/out.log" | sed 's/^/    /'
fi

# service_states through the ad-hoc call `metis-deploy status` makes (check mode here): a process
# started here with its pid file is active since its start, a missing pid file inactive, and the
# events callback passes the module's units and manager on.
sleep 300 &
sleeper=$!
echo "$sleeper" >"$work/sleeper.pid"
args=$(printf '{"service_manager": "process", "services": [{"unit": "metis-data.service", "pid_file": "%s"}, {"unit": "metis-compute.service", "pid_file": "%s"}]}' \
  "$work/sleeper.pid" "$work/missing.pid")
if ANSIBLE_CALLBACKS_ENABLED=metis.node.events ANSIBLE_LOAD_CALLBACK_PLUGINS=1 METIS_EVENTS_FILE="$work/states.jsonl" \
  METIS_EVENTS_STDOUT=1 "$py" -m ansible adhoc localhost --check -m metis.node.service_states -a "$args" >"$work/out.log" 2>&1 &&
  "$py" - "$work/states.jsonl" "$sleeper" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
r = [e for e in events if e["event"] == "host_result"][0]
data, compute = r["units"]["metis-data.service"], r["units"]["metis-compute.service"]
assert r["status"] == "ok" and r["manager"] == "process", r
assert (data["state"], data["sub"], data["pid"]) == ("active", "running", int(sys.argv[2])) and data["since"], data
assert (compute["state"], compute["sub"], compute["since"]) == ("inactive", "dead", None), compute
PY
then
  pass "service_states (ad-hoc, check mode): a live pid file is active with its start time, none is inactive; the events carry the units"
else
  fail "service_states (ad-hoc, check mode)"; tail -30 "$work/out.log" | sed 's/^/    /'; cat "$work/states.jsonl" 2>/dev/null | sed 's/^/    /'  || true
fi
kill "$sleeper" 2>/dev/null || true; wait "$sleeper" 2>/dev/null || true

echo "collection tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
