#!/usr/bin/env bash
# End-to-end tests of the lifecycle playbooks on the lab: the example organisation (inventory.ini)
# deployed into three pretend hosts with systemd, with the stand-in artifact bundle. Needs root.
# Every command aimed at the lab runs inside its namespace (`metis-deploy lab exec`).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
echo "== e2e: building the stand-in bundle"
build_bundle
echo "== e2e: lab up (3 hosts)"
lab_up --hosts 3

cp inventory.ini "$work/inventory.ini"
inv=$work/inventory.ini
hosts=(198.51.100.11 198.51.100.12 198.51.100.13)

# ---- local_prepare: offline bundle, then again (nothing fetched or verified twice)
if play prepare "$inv" local_prepare -e "offline_bundle=$work/bundle"; then pass "local_prepare (offline bundle)"; else fail "local_prepare (offline bundle)"; show_tail "$work/logs/prepare.log"; fi
verified_before=$(stat -c %i "$work"/.metis-deploy/lab/bundles/*/.verified 2>/dev/null)
play prepare2 "$inv" local_prepare -e "offline_bundle=$work/bundle" && [ "$(changed_total "$work/logs/prepare2.log")" = 0 ] \
  && [ "$(stat -c %i "$work"/.metis-deploy/lab/bundles/*/.verified 2>/dev/null)" = "$verified_before" ] \
  && pass "local_prepare again: nothing fetched or verified again, changed=0" || { fail "local_prepare again: changed=0"; show_tail "$work/logs/prepare2.log"; }

# ---- bootstrap, deploy, start, status
for step in bootstrap deploy start status; do
  if play "$step" "$inv" "$step"; then pass "$step"; else fail "$step"; show_tail "$work/logs/$step.log" 60; fi
done

# ---- every service at protocol level, from inside the lab
if lx "$bin" health "$inv" --format json >"$work/logs/health.json" 2>"$work/logs/health.err"; then
  pass "health: every check of every service passes ($(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['checks']))" "$work/logs/health.json") checks)"
else fail "health: every check passes"; lx "$bin" health "$inv" | tail -30 | sed 's/^/    /'; fi

# ---- on the hosts: units active and enabled, file modes, MariaDB privileges, no secret in logs
host_checks() {
  local ok=0 h units
  for h in "${hosts[@]}"; do
    units=$(lx "$bin" plan "$inv" --host "$h" --format json | python3 -c 'import json,sys; print(" ".join(s["unit"] for s in json.load(sys.stdin)["services"]))')
    for u in $units; do
      [ "$(on "$h" "systemctl is-active $u")" = active ] || { echo "    $h: $u not active"; ok=1; }
      [ "$(on "$h" "systemctl is-enabled $u")" = enabled ] || { echo "    $h: $u not enabled"; ok=1; }
    done
    # every rendered secret file is 0600 and owned as planned
    lx "$bin" plan "$inv" --host "$h" --format json | python3 -c '
import json,sys
for s in json.load(sys.stdin)["services"]:
    for f in s["files"]:
        print(f["path"], f["mode"], f["owner"], f["group"])' | while read -r path mode owner group; do
      got=$(on "$h" "sudo stat -c %a:%U:%G $path")
      [ "$got" = "$(printf '%o' "$((8#$mode))"):$owner:$group" ] || { echo "    $h: $path is '$got', planned $mode $owner $group"; exit 1; }
    done || ok=1
    if on "$h" "sudo find /opt/metis -name '*.log' -exec cat {} +" | has_secret; then echo "    $h: a secret is in a log under /opt/metis"; ok=1; fi
    if on "$h" "sudo journalctl --no-pager -q" | has_secret; then echo "    $h: a secret is in the journal"; ok=1; fi
  done
  return $ok
}
expect_ok "hosts: units active and enabled, files with planned modes and owners, no secret in logs" host_checks

db_checks() {
  local grants
  grants=$(on 198.51.100.13 "sudo mariadb -N -e \"SHOW GRANTS FOR 'datum_admin'@'198.51.100.13'\"") || return 1
  echo "$grants" | grep -q "ON \`datum_admin\`.\* TO" || { echo "    grants: $grants"; return 1; }
  echo "$grants" | grep -q "ON \*\.\* TO .*ALL PRIVILEGES" && { echo "    too broad: $grants"; return 1; }
  [ "$(on 198.51.100.13 "sudo mariadb -N -e \"SELECT COUNT(*) FROM mysql.user WHERE user='datum_admin'\"")" = 1 ] || { echo "    datum_admin exists for more than one host"; return 1; }
  on 198.51.100.13 "sudo mariadb -N -e 'SHOW TABLES FROM datum_admin'" | grep -q . || { echo "    datum_admin has no tables"; return 1; }
}
expect_ok "MariaDB: datum_admin imported; its user has privileges on it only, from the admin host only" db_checks
expect_ok "no secret in Ansible's output" no_secret_in "$work"/logs/*.log

# ---- idempotence: deploy again changes nothing; --check --diff reports no change, shows no secret
play redeploy "$inv" deploy && [ "$(changed_total "$work/logs/redeploy.log")" = 0 ] \
  && pass "deploy again: changed=0" || { fail "deploy again: changed=0 (changed=$(changed_total "$work/logs/redeploy.log"))"; grep -E '^changed:' "$work/logs/redeploy.log" | head -20 | sed 's/^/    /'; }
play start2 "$inv" start && [ "$(changed_total "$work/logs/start2.log")" = 0 ] \
  && pass "start again: changed=0" || { fail "start again: changed=0"; grep -E '^changed:' "$work/logs/start2.log" | head | sed 's/^/    /'; }
play checkdiff "$inv" deploy --check --diff && [ "$(changed_total "$work/logs/checkdiff.log")" = 0 ] && no_secret_in "$work/logs/checkdiff.log" \
  && pass "deploy --check --diff: no change, no secret" || { fail "deploy --check --diff"; show_tail "$work/logs/checkdiff.log"; }


# ---- change one port: only that service restarts
invocations "$inv" "${hosts[@]}" >"$work/inv-before"
sed 's/^data_port = \[8700, 8701\]/data_port = [8700, 8711]/' "$inv" >"$work/changed.ini"
if play port-change "$work/changed.ini" deploy && play port-change-start "$work/changed.ini" start; then
  invocations "$inv" "${hosts[@]}" >"$work/inv-after"
  diff_lines=$(diff "$work/inv-before" "$work/inv-after" | grep '^>' || true)
  if [ "$(echo "$diff_lines" | grep -c .)" = 1 ] && echo "$diff_lines" | grep -q '198.51.100.12 metis-data.service'; then
    pass "one fighter's port changed: only that fighter restarted"
  else fail "one fighter's port changed: only that fighter restarted"; echo "$diff_lines" | sed 's/^/    /'; fi
else fail "deploy after a port change"; show_tail "$work/logs/port-change.log"; fi
play port-back "$inv" deploy --tags data >/dev/null && play port-back-start "$inv" start --tags data >/dev/null || { fail "port change reverted"; show_tail "$work/logs/port-back.log"; }

# ---- stop: every port closed; start again: healthy
ports_closed() {
  lx python3 - "$inv" "$bin" <<'PY'
import json, socket, subprocess, sys
inv, binary = sys.argv[1], sys.argv[2]
plans = json.loads(subprocess.run([binary, "plan", inv, "--format", "json"], check=True, capture_output=True, text=True).stdout)["hosts"]
bad = []
for h in plans:
    for s in h["services"]:
        for p in s["ports"]:
            if p["proto"] != "tcp" or not p["wait"]:
                continue
            try:
                socket.create_connection((h["ip"], p["port"]), timeout=1).close()
                bad.append(f'{h["host"]}:{p["port"]} ({s["name"]})')
            except OSError:
                pass
print("\n".join("    still open: " + b for b in bad))
sys.exit(1 if bad else 0)
PY
}
if play stop "$inv" stop; then expect_ok "stop: every port of every service closed" ports_closed; else fail "stop"; show_tail "$work/logs/stop.log"; fi
play restart-after-stop "$inv" start && lx "$bin" health "$inv" >/dev/null \
  && pass "start after stop: healthy" || { fail "start after stop: healthy"; show_tail "$work/logs/restart-after-stop.log"; }

# ---- a carrier that exits at start: start stops at the carrier and shows its log
broken="$work/bundle-broken"
cp -r "$work/bundle" "$broken"
printf '#!/bin/sh\necho "stand-in carrier (broken on purpose by the e2e test): fatal: cannot start" >&2\nexit 1\n' >"$broken/carrier"
echo "0.0.0-broken-carrier" >"$broken/VERSION"
(cd "$broken" && grep -v '  VERSION$' SHA256SUMS | grep -v '  carrier$' >SHA256SUMS.new && sha256sum carrier VERSION >>SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS)
# Only the carrier changed: its tag deploys it alone (the full deploy is proven above).
play broken-prepare "$inv" local_prepare -e "offline_bundle=$broken" && play broken-deploy "$inv" deploy --tags carrier
if play broken-start "$inv" start -e '{"start_timeout": 30}'; then fail "a carrier that exits at start stops start"
elif grep -q "broken on purpose" "$work/logs/broken-start.log" && grep -q "198.51.100.12" "$work/logs/broken-start.log"; then
  pass "a carrier that exits at start: start stops, naming the host and showing the carrier's log"
else fail "a carrier that exits at start: its log is shown"; show_tail "$work/logs/broken-start.log"; fi
play good-prepare "$inv" local_prepare -e "offline_bundle=$work/bundle" && play good-deploy "$inv" deploy --tags carrier && play good-start "$inv" start \
  && pass "back to the good bundle: deploy and start" || { fail "back to the good bundle"; show_tail "$work/logs/good-start.log"; }

# ---- cleanup: refused without the right name, then removes and keeps backups
p2p_before=$(on 198.51.100.12 "sudo cat /opt/metis/carrier/config/p2p.key" 2>/dev/null)
if play cleanup-refused "$inv" cleanup || play cleanup-wrong "$inv" cleanup -e confirm_cleanup=other; then
  fail "cleanup without the right confirmation is refused"
elif on 198.51.100.13 "sudo test -d /opt/metis/admin" && grep -q "confirm_cleanup=lab" "$work/logs/cleanup-refused.log"; then
  pass "cleanup without (or with a wrong) confirmation: refused, nothing removed"
else fail "cleanup refused: nothing removed"; show_tail "$work/logs/cleanup-refused.log"; fi
if play cleanup "$inv" cleanup -e confirm_cleanup=lab; then
  gone=0
  for h in "${hosts[@]}"; do
    on "$h" "sudo test -e /opt/metis" && { echo "    $h: /opt/metis left"; gone=1; }
    on "$h" "ls /etc/systemd/system/metis-* 2>/dev/null" | grep -q . && { echo "    $h: units left"; gone=1; }
  done
  on 198.51.100.13 "sudo systemctl start mariadb"
  on 198.51.100.13 "sudo mariadb -N -e 'SHOW DATABASES'" | grep -qx datum_admin && { echo "    database left"; gone=1; }
  on 198.51.100.13 "sudo systemctl stop mariadb"
  backup=$(ls -d "$work"/.metis-deploy/lab/backups/*/ 2>/dev/null | tail -1)
  dump=$(ls "$backup"*datum_admin* 2>/dev/null | head -1)
  key=$(ls "$backup"*p2p* 2>/dev/null | head -1)
  if [ $gone = 0 ] && [ -n "$dump" ] && [ -n "$key" ] && [ "$(stat -c %a "$dump")" = 600 ] && [ "$(stat -c %a "$key")" = 600 ] \
     && grep -q "CREATE TABLE" "$dump" && [ "$(cat "$key")" = "$p2p_before" ]; then
    pass "cleanup with confirmation: removed from the hosts; database dump and p2p key kept on the controller (0600)"
  else fail "cleanup with confirmation"; echo "    backup=$backup dump=$dump key=$key gone=$gone"; fi
else fail "cleanup with confirmation"; show_tail "$work/logs/cleanup.log"; fi

# ---- bootstrap with a port already taken: stops, naming host, port and program
on 198.51.100.12 "sudo systemd-run --unit=e2e-squatter python3 -m http.server 8701 --bind 198.51.100.12" >/dev/null
sleep 1
if play squatted "$inv" bootstrap; then fail "bootstrap with a taken port fails"
elif grep -q "198.51.100.12: port 8701/tcp (data grpc) is taken by python3" "$work/logs/squatted.log"; then
  pass "bootstrap with a taken port: stops naming host, port and program"
else fail "bootstrap with a taken port names it"; show_tail "$work/logs/squatted.log"; fi
on 198.51.100.12 "sudo systemctl stop e2e-squatter"

# ---- a corrupt bundle file: local_prepare stops naming the file and both checksums
corrupt="$work/bundle-corrupt"
cp -r "$work/bundle" "$corrupt"
echo "0.0.0-corrupt" >"$corrupt/VERSION"
(cd "$corrupt" && grep -v '  VERSION$' SHA256SUMS >S && sha256sum VERSION >>S && mv S SHA256SUMS)
printf 'x' >>"$corrupt/admin.jar"
want=$(grep '  admin.jar$' "$corrupt/SHA256SUMS" | cut -d' ' -f1); got=$(sha256sum "$corrupt/admin.jar" | cut -d' ' -f1)
if play corrupt "$inv" local_prepare -e "offline_bundle=$corrupt"; then fail "a corrupt bundle is refused"
elif grep -q "admin.jar: corrupt: SHA256SUMS says $want, the file has $got" "$work/logs/corrupt.log" && [ ! -e "$work/.metis-deploy/lab/bundles/0.0.0-corrupt" ]; then
  pass "a corrupt bundle file: local_prepare stops naming it and both checksums, keeps nothing"
else fail "a corrupt bundle file is named with both checksums"; show_tail "$work/logs/corrupt.log"; fi

finish e2e
