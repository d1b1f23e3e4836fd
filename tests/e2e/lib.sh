# Shared by the lab suites (tests/e2e/*.sh and the others that deploy into the lab): paths, the
# example's secrets, Ansible's settings, and helpers that run playbooks and commands in the lab.
# Source it from a script under tests/ with `set -uo pipefail`; it cds to the repository.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
bin=${METIS_DEPLOY:-$repo/target/debug/metis-deploy}
[ -x "$bin" ] || cargo build -q -p metis-deploy
work=${E2E_WORK:-$(mktemp -d /tmp/metis-e2e.XXXXXX)}
labdir=${METIS_LAB_DIR:-/var/lib/metis-lab}
mkdir -p "$work/logs"
set -a; . tests/fixtures/sandbox-secrets.env; set +a
secrets=("$METIS_MYSQL_ROOT_PASSWORD" "$METIS_ADMIN_DB_PASSWORD" "$METIS_PINATA_TOKEN")
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_FORCE_COLOR=0 ANSIBLE_DEPRECATION_WARNINGS=0 \
  ANSIBLE_LOCAL_TEMP="$work/ansible-tmp" ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_PYTHON_INTERPRETER=auto_silent
passed=0 failed=0 failures=()
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); failures+=("$1"); }
lab() { "$bin" lab "$@" --dir "$labdir"; }
lx() { "$bin" lab exec --dir "$labdir" -- "$@"; }
# on HOST 'COMMAND': runs a shell command line on a lab host as deploy (ssh joins its words).
on() { "$bin" lab ssh --dir "$labdir" "$1" -- "$2" </dev/null; }
# has_secret: reads text on stdin; true when it holds one of the secrets (matched here, on the
# controller: a secret never goes on a command line of a host, where sudo would log it).
has_secret() { local args=() s; for s in "${secrets[@]}"; do args+=(-e "$s"); done; grep -qF "${args[@]}"; }
t0=$(date +%s)
timings=()
# play NAME INVENTORY PLAYBOOK [ARGS...]: runs a playbook in the lab, output in logs/NAME.log.
play() {
  local name=$1 inv=$2 pb=$3; shift 3
  local start=$(date +%s%N)
  lx ansible-playbook -i "$inv" "playbooks/$pb.yml" "$@" >"$work/logs/$name.log" 2>&1
  local rc=$?
  timings+=("$(printf '%-22s %6.1f s' "$name" "$(( ($(date +%s%N) - start) / 1000000 ))e-3")")
  return $rc
}
changed_total() { # sum of changed= in the PLAY RECAP of a log
  awk '/PLAY RECAP/{r=1} r && /changed=/{for(i=1;i<=NF;i++) if($i ~ /^changed=/){split($i,a,"="); s+=a[2]}} END{print s+0}' "$1"
}
no_secret_in() { # files...
  local f s
  for f in "$@"; do for s in "${secrets[@]}"; do
    if grep -qF -- "$s" "$f" 2>/dev/null; then echo "    secret found in $f"; return 1; fi
  done; done
  return 0
}
expect_ok() { # name, command...
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}
show_tail() { tail -n "${2:-40}" "$1" | sed 's/^/    /'; }

invocations() { # INVENTORY HOST...: "host unit invocation-id" of every unit planned on the hosts
  local plan_inv=$1 h units
  shift
  for h in "$@"; do
    units=$(lx "$bin" plan "$plan_inv" --host "$h" --format json | python3 -c 'import json,sys; print(" ".join(s["unit"] for s in json.load(sys.stdin)["services"]))')
    [ -n "$units" ] || continue
    on "$h" "systemctl show -p Id -p InvocationID $units" | awk -v h="$h" 'BEGIN{RS=""} {id=""; iv=""
      for (i = 1; i <= NF; i++) { if ($i ~ /^Id=/) id = substr($i, 4); if ($i ~ /^InvocationID=/) iv = substr($i, 14) }
      print h, id, iv}'
  done
}
cleanup_lab() { lab down >/dev/null 2>&1 || true; }


# build_bundle: the stand-in artifact bundle at $work/bundle.
build_bundle() {
  tests/standins/build "$work/bundle" >"$work/logs/bundle.log" 2>&1 || { show_tail "$work/logs/bundle.log"; exit 1; }
}
# lab_up ARGS...: a fresh lab (`metis-deploy lab up ARGS`), brought down when the script exits.
lab_up() {
  trap cleanup_lab EXIT
  lab down >/dev/null 2>&1
  lab up "$@" >"$work/logs/lab-up.log" 2>&1 || { show_tail "$work/logs/lab-up.log"; exit 1; }
}
# deploy_org INVENTORY: local_prepare (offline bundle), bootstrap, deploy, start; one PASS/FAIL each.
deploy_org() {
  local step
  play prepare "$1" local_prepare -e "offline_bundle=$work/bundle" && pass "local_prepare (offline bundle)" \
    || { fail "local_prepare (offline bundle)"; show_tail "$work/logs/prepare.log"; }
  for step in bootstrap deploy start; do
    if play "$step" "$1" "$step"; then pass "$step"; else fail "$step"; show_tail "$work/logs/$step.log" 60; fi
  done
}
# finish SUITE: prints the timings and the count; exits non-zero when a case failed.
finish() {
  echo
  echo "== $1 timings"; printf '  %s\n' "${timings[@]}"
  echo "$1: $passed passed, $failed failed ($(( $(date +%s) - t0 )) s)"
  [ "$failed" = 0 ]
}
