#!/usr/bin/env bash
# Day-2 operations on the lab: rolling upgrade A -> B with health watched from inside the lab,
# the upgrade again (changed=0), --rollback to A, an upgrade whose new carrier exits at start
# (rolled back automatically), reload after one fighter's port changed, scale-in of a data host,
# backup -> cleanup -> deploy -> restore. The example organisation plus a fourth, data-only host.
set -uo pipefail
. "$(dirname "$0")/../e2e/lib.sh"
here=tests/day2
echo "== day2: building the stand-in bundles A, B and B with a broken carrier"
tests/standins/build "$work/bundle-a" --version 1.0.0-a >"$work/logs/bundle.log" 2>&1 \
  && tests/standins/build "$work/bundle-b" --version 1.1.0-b >>"$work/logs/bundle.log" 2>&1 || { show_tail "$work/logs/bundle.log"; exit 1; }
broken="$work/bundle-broken"
cp -r "$work/bundle-b" "$broken"
printf '#!/bin/sh\necho "stand-in carrier (broken on purpose by the day2 test): fatal: cannot start" >&2\nexit 1\n' >"$broken/carrier"
echo "1.2.0-broken" >"$broken/VERSION"
(cd "$broken" && grep -v -e '  VERSION$' -e '  carrier$' SHA256SUMS >S && sha256sum carrier VERSION >>S && mv S SHA256SUMS)
echo "== day2: lab up (4 hosts)"
lab_up --hosts 4

inv=$work/inventory.ini
sed -e 's/^data_port = \[8700, 8701\]/data_port = [8700, 8701, 8702]/' inventory.ini \
  | awk '{print} /^\[data\]/{d=1} d && /^198.51.100.12$/{print "198.51.100.14"; d=0}' >"$inv"
grep -A4 '^\[data\]' "$inv" | grep -q 198.51.100.14 || { echo "inventory with a fourth data host not made"; exit 1; }

versions() { lx python3 "$here/versions.py" "$1" "$bin" 2>&1; }
all_on() { # INVENTORY VERSION: every instance reports VERSION
  local out; out=$(versions "$1")
  echo "$out" >"$work/logs/versions-$2.txt"
  [ -n "$out" ] && ! echo "$out" | grep -v " $2\$" | grep -q . || { echo "$out" | grep -v " $2\$" | sed 's/^/    not on '"$2"': /'; return 1; }
}
healthy() { lx "$bin" health "$1" >"$work/logs/health-$2.txt" 2>&1 || { tail -20 "$work/logs/health-$2.txt" | sed 's/^/    /'; return 1; }; }
admin_sql() { on 198.51.100.13 "sudo mariadb -N datum_admin -e \"$1\""; }
p2p_key() { on 198.51.100.12 "sudo sha256sum /opt/metis/carrier/config/p2p.key" | cut -d' ' -f1; }
node_id() { lx python3 -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen("http://198.51.100.12:10034/carrier/v1/yarn/nodeInfo", timeout=3))["information"]["nodeId"])' 2>/dev/null; }

# ---- A deployed and started
for step in "prepare local_prepare -e offline_bundle=$work/bundle-a" "deploy deploy" "start start"; do
  set -- $step
  if play "$1" "$inv" "${@:2}"; then pass "$1 (A)"; else fail "$1 (A)"; show_tail "$work/logs/$1.log" 60; fi
done
expect_ok "every instance reports version A" all_on "$inv" 1.0.0-a
admin_sql "INSERT INTO t_sys_config (config_key, config_value) VALUES ('day2_marker', 'kept')"
key_a=$(p2p_key); id_a=$(node_id)

# ---- upgrade A -> B, health watched from inside the lab
play prepare-b "$inv" local_prepare -e "offline_bundle=$work/bundle-b" || { fail "local_prepare B"; show_tail "$work/logs/prepare-b.log"; }
rm -f "$work/monitor.stop"
lx python3 "$here/monitor.py" "$inv" "$bin" "$work/monitor.jsonl" "$work/monitor.stop" >"$work/logs/monitor.log" 2>&1 &
monitor=$!
sleep 3
play upgrade "$inv" upgrade; rc=$?
sleep 3; touch "$work/monitor.stop"; wait "$monitor"
if [ $rc = 0 ]; then pass "upgrade A -> B"; else fail "upgrade A -> B"; show_tail "$work/logs/upgrade.log" 60; fi
expect_ok "every instance reports version B after the upgrade" all_on "$inv" 1.1.0-b
expect_ok "healthy after the upgrade" healthy "$inv" upgrade
watch_report() {
  python3 - "$work/monitor.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
worst = max(rows, key=lambda r: len(r["unhealthy"]))
seen = sorted({u for r in rows for u in r["unhealthy"]})
print(f"    {len(rows)} samples; instances seen unhealthy: {', '.join(seen) or 'none'}; worst sample: {worst['unhealthy']}")
for r in rows:
    if len(r["unhealthy"]) > 1:
        print(f"    at {r['t']}: {r['unhealthy']}: {r.get('failed')}")
# Honest: the watch must have seen instances restart (else it watched nothing), never two at once.
sys.exit(0 if len(rows) >= 10 and len(seen) >= 5 and len(worst["unhealthy"]) <= 1 and ["?"] not in [r["unhealthy"] for r in rows] else 1)
PY
}
expect_ok "during the upgrade never more than one instance was unhealthy at a time" watch_report
[ "$(p2p_key)" = "$key_a" ] && [ "$(node_id)" = "$id_a" ] && [ "$(admin_sql "SELECT config_value FROM t_sys_config WHERE config_key='day2_marker'")" = kept ] \
  && pass "the p2p key (carrier identity) and the admin database survived the upgrade" || fail "p2p key and admin database survive the upgrade"
play upgrade-again "$inv" upgrade && [ "$(changed_total "$work/logs/upgrade-again.log")" = 0 ] \
  && pass "upgrade to the version already running: changed=0" || { fail "upgrade again: changed=0 (changed=$(changed_total "$work/logs/upgrade-again.log"))"; grep -E '^changed:' "$work/logs/upgrade-again.log" | head | sed 's/^/    /'; }

# ---- --rollback returns every instance to A
if play rollback "$inv" upgrade -e upgrade_rollback=true; then pass "upgrade --rollback"; else fail "upgrade --rollback"; show_tail "$work/logs/rollback.log" 60; fi
expect_ok "every instance reports version A after the rollback" all_on "$inv" 1.0.0-a
[ "$(readlink "$work/.metis-deploy/lab/bundles/current")" = 1.0.0-a ] && pass "rollback: the controller's current bundle is A again" || fail "rollback: current bundle is A"
play rollback-again "$inv" upgrade -e upgrade_rollback=true && [ "$(changed_total "$work/logs/rollback-again.log")" = 0 ] \
  && pass "rollback again: changed=0" || fail "rollback again: changed=0 (changed=$(changed_total "$work/logs/rollback-again.log"))"

# ---- an upgrade whose new carrier exits at start is rolled back automatically
play prepare-broken "$inv" local_prepare -e "offline_bundle=$broken" || fail "local_prepare of the broken bundle"
# --tags carrier: the groups before it are not upgraded to the broken bundle (the push play runs anyway).
if play broken "$inv" upgrade --tags carrier -e '{"start_timeout": 20}'; then fail "an upgrade whose carrier exits at start fails"
elif grep -q "upgrade of carrier on 198.51.100.12 from 1.0.0-a to 1.2.0-broken failed; it runs 1.0.0-a again and is healthy" "$work/logs/broken.log" \
     && grep -q "broken on purpose" "$work/logs/broken.log"; then
  pass "a new carrier that exits at start: the upgrade stops naming it and the reason (its log)"
else fail "a broken carrier's upgrade names the reason"; show_tail "$work/logs/broken.log" 40; fi
carrier_v=$(versions "$inv" | grep '^carrier@'); admin_v=$(versions "$inv" | grep '^admin@')
[ "$carrier_v" = "carrier@198.51.100.12 1.0.0-a" ] && lx "$bin" health "$inv" --service carrier >/dev/null && [ "$admin_v" = "admin@198.51.100.13 1.0.0-a" ] \
  && pass "after the failed upgrade the carrier runs its previous version and is healthy; later instances untouched" \
  || fail "carrier back on its previous version and healthy ($carrier_v; $admin_v)"

# ---- reload after one fighter's port changed: that fighter only restarts
# The organisation runs A again: the controller's current bundle too (what reload pushes).
play prepare-a "$inv" local_prepare -e "offline_bundle=$work/bundle-a" >/dev/null
day2_hosts=(198.51.100.11 198.51.100.12 198.51.100.13 198.51.100.14)
invocations "$inv" "${day2_hosts[@]}" >"$work/inv-before"
inv2=$work/inventory-port.ini
sed 's/^data_port = \[8700, 8701, 8702\]/data_port = [8700, 8711, 8702]/' "$inv" >"$inv2"
play reload-check "$inv2" reload --check --diff --tags data && grep -q "8711" "$work/logs/reload-check.log" && no_secret_in "$work/logs/reload-check.log" \
  && pass "reload --check --diff shows the change, no secret" || { fail "reload --check --diff"; show_tail "$work/logs/reload-check.log"; }
if play reload "$inv2" reload; then
  invocations "$inv2" "${day2_hosts[@]}" >"$work/inv-after"
  d=$(diff "$work/inv-before" "$work/inv-after" | grep '^>' || true)
  if [ "$(echo "$d" | grep -c .)" = 1 ] && echo "$d" | grep -q '198.51.100.12 metis-data.service' && healthy "$inv2" reload; then
    pass "reload after one fighter's port changed: only that fighter restarted, healthy"
  else fail "reload restarts that fighter only"; echo "$d" | sed 's/^/    /'; fi
else fail "reload"; show_tail "$work/logs/reload.log" 40; fi

# ---- scale-in: refusals, then a data host leaves
registered_14() { lx python3 -c 'import json,urllib.request; print(sum(1 for s in json.load(urllib.request.urlopen("http://198.51.100.11:8500/v1/agent/services", timeout=3)).values() if s["Address"] == "198.51.100.14"))'; }
[ "$(registered_14)" = 1 ] || fail "the data host is registered before the scale-in"
refusals=0
play scale-noconfirm "$inv2" scale_in -e scale_in_host=198.51.100.14 && refusals=1
grep -q "run again with -e confirm_scale_in=198.51.100.14" "$work/logs/scale-noconfirm.log" || refusals=1
play scale-unknown "$inv2" scale_in -e scale_in_host=198.51.100.99 -e confirm_scale_in=198.51.100.99 && refusals=1
grep -q "is not a host of the inventory" "$work/logs/scale-unknown.log" || refusals=1
play scale-carrier "$inv2" scale_in -e scale_in_host=198.51.100.12 -e confirm_scale_in=198.51.100.12 && refusals=1
grep -q "runs the organisation's only carrier" "$work/logs/scale-carrier.log" || refusals=1
play scale-first "$inv2" scale_in -e scale_in_host=198.51.100.11 -e confirm_scale_in=198.51.100.11 && refusals=1
grep -q "runs the organisation's only ice_via" "$work/logs/scale-first.log" || refusals=1
[ $refusals = 0 ] && on 198.51.100.14 "sudo test -d /opt/metis/data" && pass "scale-in refused without confirmation, for an unknown host, the only carrier, the only ice_via; nothing removed" \
  || fail "scale-in refusals"
if play scale-in "$inv2" scale_in -e scale_in_host=198.51.100.14 -e confirm_scale_in=198.51.100.14 \
   && [ "$(registered_14)" = 0 ] && on 198.51.100.14 "sudo test ! -e /opt/metis"; then
  pass "scale-in of a data host: stopped, no consul registration left, cleaned"
else fail "scale-in of a data host"; show_tail "$work/logs/scale-in.log" 30; fi
inv3=$work/inventory-3.ini
grep -v '^198.51.100.14$' "$inv2" | sed 's/^data_port = \[8700, 8711, 8702\]/data_port = [8700, 8711]/' >"$inv3"
expect_ok "healthy without the data host (inventory without it)" healthy "$inv3" scale-in

# ---- backup -> cleanup -> deploy + start -> restore
lx curl -sf -X PUT --data day2 http://198.51.100.11:8500/v1/kv/datumnetwork/day2_marker >/dev/null
key_before=$(p2p_key); id_before=$(node_id)
if play backup "$inv3" backup; then
  archive=$(grep -o "backup of lab: [^\"']*" "$work/logs/backup.log" | head -1 | sed 's/backup of lab: //')
  if [ -f "$archive" ] && [ "$(stat -c %a "$archive")" = 600 ] && tar -tzf "$archive" | grep -q datum_admin.sql \
     && tar -tzf "$archive" | grep -q p2p.key && tar -tzf "$archive" | grep -q kv.json && no_secret_in "$work/logs/backup.log"; then
    pass "backup: one archive, 0600, with the database dump, the p2p key and the KV keys ($archive)"
  else fail "backup archive"; ls -l "$archive"; tar -tzf "$archive"; fi
else fail "backup"; show_tail "$work/logs/backup.log" 40; fi
play cleanup "$inv3" cleanup -e confirm_cleanup=lab || { fail "cleanup"; show_tail "$work/logs/cleanup.log"; }
play redeploy "$inv3" deploy && play restart "$inv3" start || { fail "deploy and start after cleanup"; show_tail "$work/logs/restart.log"; }
[ "$(p2p_key)" != "$key_before" ] && [ -z "$(admin_sql "SELECT config_value FROM t_sys_config WHERE config_key='day2_marker'")" ] \
  && pass "the fresh organisation has a new identity and no marker row (what restore must bring back)" || fail "fresh organisation differs before restore"
fresh_key=$(p2p_key)
if play restore-refused "$inv3" restore -e "restore_file=$archive"; then fail "restore without the organisation's name is refused"
elif grep -q "confirm_restore=lab" "$work/logs/restore-refused.log" && [ "$(p2p_key)" = "$fresh_key" ]; then
  pass "restore without the organisation's name: refused, nothing restored"
else fail "restore refused: nothing restored"; show_tail "$work/logs/restore-refused.log"; fi
archives_before=$(ls "$(dirname "$archive")"/lab-*.tar.gz | wc -l)
if play restore "$inv3" restore -e "restore_file=$archive" -e confirm_restore=lab; then
  [ "$(ls "$(dirname "$archive")"/lab-*.tar.gz | wc -l)" = $((archives_before + 1)) ] || echo "    no backup was made before the restore"
  [ "$(ls "$(dirname "$archive")"/lab-*.tar.gz | wc -l)" = $((archives_before + 1)) ] && [ "$(p2p_key)" = "$key_before" ] && [ "$(node_id)" = "$id_before" ] \
    && [ "$(admin_sql "SELECT config_value FROM t_sys_config WHERE config_key='day2_marker'")" = kept ] \
    && [ "$(lx curl -sf "http://198.51.100.11:8500/v1/kv/datumnetwork/day2_marker?raw")" = day2 ] && healthy "$inv3" restore && no_secret_in "$work/logs/restore.log" \
    && pass "restore: a backup of what it replaces first; then same admin rows, same p2p key and carrier identity, KV keys back, healthy" || fail "restore brings everything back"
else fail "restore"; show_tail "$work/logs/restore.log" 40; fi
expect_ok "no secret in Ansible's output" no_secret_in "$work"/logs/*.log

finish day2
