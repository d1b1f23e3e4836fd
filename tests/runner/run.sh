#!/usr/bin/env bash
# The runner on the lab: `metis-deploy up / status / replay / runs / destroy` with the example
# organisation (inventory.ini) on three pretend hosts and the stand-in bundle. Needs root; run it
# under the lab session lock. Every command aimed at the lab runs inside its namespace (lx).
set -uo pipefail
. "$(dirname "$0")/../e2e/lib.sh"
echo "== runner: building the stand-in bundle"
build_bundle
echo "== runner: lab up (3 hosts)"
lab_up --hosts 3

cp inventory.ini "$work/inventory.ini"
inv=$work/inventory.ini
state=$work/.metis-deploy/lab
# md ARGS...: metis-deploy in the lab, with the repository's playbooks; output in logs/NAME.log.
md() {
  local name=$1; shift
  local start=$(date +%s%N)
  lx "$bin" "$@" >"$work/logs/$name.log" 2>&1
  local rc=$?
  timings+=("$(printf '%-22s %6.1f s' "$name" "$(( ($(date +%s%N) - start) / 1000000 ))e-3")")
  return $rc
}
upargs=(--playbooks "$repo/playbooks" -y)
bundle=(-- -e "offline_bundle=$work/bundle")
last_run() { ls -1 "$state/runs" | tail -1; }
# field RUN PYTHON-EXPRESSION: a value of the run's state.json (as `s`).
field() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print($2)" "$state/runs/$1/state.json"; }

# ---- a port taken on one host: up stops at bootstrap, naming host and port
on 198.51.100.12 "sudo systemd-run --unit=runner-squatter python3 -m http.server 8701 --bind 198.51.100.12" >/dev/null
sleep 1
md up-squatted up "$inv" "${upargs[@]}" "${bundle[@]}"; rc=$?
failed_run=$(last_run)
if [ "$rc" = 1 ] && grep -q "198.51.100.12.*port 8701/tcp" "$work/logs/up-squatted.log" \
   && [ "$(field "$failed_run" "[x['status'] for x in s['steps']]")" = "['succeeded', 'failed', 'pending', 'pending', 'pending']" ] \
   && grep -q "resume:   metis-deploy replay $failed_run" "$work/logs/up-squatted.log"; then
  pass "up with a taken port: stops at bootstrap naming host and port, exit 1, the command to resume"
else fail "up with a taken port stops at bootstrap (exit $rc)"; show_tail "$work/logs/up-squatted.log"; fi
on 198.51.100.12 "sudo systemctl stop runner-squatter"

# ---- replay after freeing the port: completes without redoing local_prepare
md replay replay "$failed_run" -i "$inv" "${upargs[@]}"; rc=$?
replay_run=$(last_run)
if [ "$rc" = 0 ] && [ "$replay_run" != "$failed_run" ] \
   && [ "$(field "$replay_run" "[x['status'] for x in s['steps']]")" = "['skipped', 'succeeded', 'succeeded', 'succeeded', 'succeeded']" ] \
   && [ "$(field "$replay_run" "s['replay_of']")" = "$failed_run" ] && [ ! -e "$state/runs/$replay_run/01-local_prepare.log" ]; then
  pass "replay after freeing the port: bootstrap, deploy, start, status on fresh hosts; local_prepare not redone"
else fail "replay completes (exit $rc)"; show_tail "$work/logs/replay.log" 60; fi

# ---- status: every service healthy, units active
planned=$("$bin" plan "$inv" --format json | python3 -c 'import json,sys; print(sum(len(h["services"]) for h in json.load(sys.stdin)["hosts"]))')
if md status-json status "$inv" --playbooks "$repo/playbooks" --format json; then
  sed -n '/^{/,$p' "$work/logs/status-json.log" >"$work/status.json"
  bad=$(python3 - "$work/status.json" "$planned" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
bad = [f"{r['host']} {r['service']}: unit {r['unit_state']}, health {r['health']}" for r in s["services"]
       if not r["unit_state"].startswith("active") or r["health"] != "ok" or not r["since"]]
if len(s["services"]) != int(sys.argv[2]):
    bad.append(f"{len(s['services'])} services in the table, {sys.argv[2]} planned")
if not s["healthy"]:
    bad.append("not healthy")
print("\n".join(bad))
PY
)
  if [ -z "$bad" ]; then pass "status: the $planned planned services, every unit active with its start time, every check healthy (exit 0)"
  else fail "status: every service healthy"; echo "$bad" | sed 's/^/    /'; fi
else fail "status --format json (exit 1)"; show_tail "$work/logs/status-json.log"; fi
md status-table status "$inv" --playbooks "$repo/playbooks" && grep -q "^Host *Service *Ports *Unit *Health *Since" "$work/logs/status-table.log" \
  && grep -q "^$planned service(s), all healthy" "$work/logs/status-table.log" \
  && pass "status: the table (host, service, ports, unit, health, since)" || { fail "status table"; show_tail "$work/logs/status-table.log"; }

# ---- a second up changes nothing
md up-again up "$inv" "${upargs[@]}" "${bundle[@]}"; rc=$?
again=$(last_run)
changed=$(field "$again" "sum(c['changed'] for x in s['steps'] for c in x['hosts'].values())")
if [ "$rc" = 0 ] && [ "$changed" = 0 ] && [ "$(field "$again" "s['outcome']")" = succeeded ]; then
  pass "a second up: every step succeeds with changed=0"
else fail "a second up changes nothing (exit $rc, changed=$changed)"; grep -E '^changed:' "$state/runs/$again"/*.log | head -20 | sed 's/^/    /'; fi

# ---- Ctrl-C during deploy: SIGINT to the runner stops ansible-playbook, the run is interrupted, exit 130
# exec: the signal goes to metis-deploy itself (lab exec and ip netns exec exec it in turn).
(exec "$bin" lab exec --dir "$labdir" -- "$bin" up "$inv" "${upargs[@]}" --from deploy >"$work/logs/up-interrupted.log" 2>&1) &
pid=$!
for _ in $(seq 1 100); do
  run=$(last_run)
  [ "$run" != "$again" ] && grep -q '"task_start"' "$state/runs/$run/03-deploy.events.jsonl" 2>/dev/null && break
  sleep 0.2
done
sleep 3
kill -INT "$pid"
wait "$pid"; rc=$?
run=$(last_run)
left=$(pgrep -f "ansible-playbook -i $inv" || true)
if [ "$rc" = 130 ] && [ "$(field "$run" "s['outcome']")" = interrupted ] \
   && [ "$(field "$run" "[x['status'] for x in s['steps']][2]")" = interrupted ] && [ -z "$left" ] \
   && grep -q "run=$run outcome=interrupted" "$state/audit.log"; then
  pass "Ctrl-C during deploy: ansible-playbook stopped, run recorded as interrupted, exit 130"
else fail "Ctrl-C during deploy (exit $rc, left: $left)"; show_tail "$work/logs/up-interrupted.log"; fi

# ---- destroy without the right name removes nothing
runs_before=$(ls "$state/runs" | wc -l)
md destroy-wrong destroy "$inv" --playbooks "$repo/playbooks" --confirm other; rc1=$?
md destroy-none destroy "$inv" --playbooks "$repo/playbooks" </dev/null; rc2=$?
if [ "$rc1" = 2 ] && [ "$rc2" = 2 ] && grep -q "nothing was removed; run again with --confirm lab" "$work/logs/destroy-wrong.log" \
   && [ "$(ls "$state/runs" | wc -l)" = "$runs_before" ] && on 198.51.100.13 "sudo test -d /opt/metis/admin" \
   && on 198.51.100.12 "systemctl is-active metis-carrier" >/dev/null; then
  pass "destroy without (or with a wrong) name: refused (exit 2), nothing run, nothing removed"
else fail "destroy without the right name (exit $rc1/$rc2)"; show_tail "$work/logs/destroy-wrong.log"; fi

# ---- runs, records: modes, audit, no secret
md runs runs "$inv" && [ "$(grep -c -- '-up ' "$work/logs/runs.log")" = 4 ] \
  && pass "runs: lists the 4 runs" || { fail "runs lists the runs"; show_tail "$work/logs/runs.log"; }
records_ok() {
  local bad
  bad=$(find "$state/runs" "$state/audit.log" \( -type d ! -perm 0700 \) -o \( -type f ! -perm 0600 \))
  [ -z "$bad" ] || { echo "    not private: $bad"; return 1; }
  [ "$(wc -l <"$state/audit.log")" = 4 ] || { echo "    audit.log: $(wc -l <"$state/audit.log") lines"; return 1; }
  no_secret_in "$state"/audit.log "$state"/runs/*/* "$work"/logs/*.log
}
expect_ok "run records: dirs 0700, files 0600, one audit line per run, no secret in them" records_ok

finish runner
