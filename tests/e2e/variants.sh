#!/usr/bin/env bash
# Variants of the lifecycle on the lab, on one organisation deployed once: TLS (nginx on 443,
# Glacier2 over ssl) with certificates from a private certificate authority made here and pushed by
# the roles; local_prepare over HTTPS from a local server of that authority; a host unreachable in
# the middle of a deploy; scale-out of a data host with --limit; a compute fighter on a host
# without systemd (start-stop-daemon). Five hosts: lab1-3 the organisation, lab4 the scale-out,
# lab5 without systemd, where `metis-deploy status` reads the fighter's state from its pid file. Needs root.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
echo "== variants: building the stand-in bundle"
build_bundle
echo "== variants: lab up (5 hosts, host 5 without systemd)"
lab_up --hosts 5 --without-systemd 5
org=(198.51.100.11 198.51.100.12 198.51.100.13)
lab4=198.51.100.14 lab5=198.51.100.15

# ---- a private certificate authority and the certificates it signs (openssl)
pki=$work/pki
mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=metis e2e private CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$pki/ca.key" -out "$pki/ca.pem" >"$work/logs/pki.log" 2>&1
issue() { # NAME SUBJECT_ALT_NAME
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$pki/$1.key" -out "$pki/$1.csr" >>"$work/logs/pki.log" 2>&1 &&
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n' "$2" >"$pki/$1.ext" &&
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
    -extfile "$pki/$1.ext" -out "$pki/$1.crt" >>"$work/logs/pki.log" 2>&1
}
issue admin "DNS:admin.lab.test" && issue glacier2 "IP:198.51.100.11" && issue bundles "IP:127.0.0.1,DNS:localhost" \
  || { show_tail "$work/logs/pki.log"; exit 1; }
# Lines of the private keys: none may show up in Ansible's output.
key_lines=$(cat "$pki/admin.key" "$pki/glacier2.key" | grep -v -- '-----' | head -c 100000)

# ---- the TLS organisation: the example with enable_tls and ice_protocol = ssl, certificates and
# keys named as controller files (relative to the inventory), the bundle from download_url
inv=$work/inventory.ini
sed -e 's/^enable_tls = False/enable_tls = True/' -e 's/^ice_protocol = tcp/ice_protocol = ssl/' inventory.ini >"$inv"
cat >>"$inv" <<'EOF'

# TLS from the test's private certificate authority (controller files, pushed by deploy)
admin_ssl_certificate_src = pki/admin.crt
admin_ssl_certificate_key_src = pki/admin.key
ice_ssl_ca_src = pki/ca.pem
ice_ssl_cert_src = pki/glacier2.crt
ice_ssl_key_src = pki/glacier2.key
download_url = https://127.0.0.1:8443/
EOF

# TLS on without its certificate: a located error saying how to fix it
grep -v '^admin_ssl_certificate' "$inv" >"$work/no-cert.ini"
if "$bin" validate "$work/no-cert.ini" >"$work/logs/no-cert.log" 2>&1; then fail "enable_tls without certificates is refused"
elif grep -q "error\[tls-settings\]: \`enable_tls\` is True but admin_ssl_certificate_src, admin_ssl_certificate_key_src are not set" "$work/logs/no-cert.log" \
     && grep -q "no-cert.ini:[0-9]*:1" "$work/logs/no-cert.log" && grep -q "hint: set admin_server_name, and admin_ssl_certificate_src" "$work/logs/no-cert.log"; then
  pass "enable_tls without certificates: a located tls-settings error with the fix"
else fail "enable_tls without certificates: located error"; show_tail "$work/logs/no-cert.log"; fi

# ---- local_prepare over HTTPS from a local server whose certificate the private CA signed
cat >"$work/serve.py" <<'PY'
import functools, http.server, os, ssl, sys
root, cert, key, log, pid_file = sys.argv[1:6]
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        with open(log, "a") as f:
            f.write(self.path + "\n")
server = http.server.ThreadingHTTPServer(("127.0.0.1", 8443), functools.partial(Handler, directory=root))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(pid_file, "w") as f:
    f.write(str(os.getpid()))
server.serve_forever()
PY
: >"$work/requests.log"
lx python3 "$work/serve.py" "$work/bundle" "$pki/bundles.crt" "$pki/bundles.key" "$work/requests.log" "$work/serve.pid" \
  >"$work/logs/serve.log" 2>&1 &
for _ in $(seq 50); do [ -s "$work/serve.pid" ] && break; sleep 0.1; done
stop_server() { [ -s "$work/serve.pid" ] && kill "$(cat "$work/serve.pid")" 2>/dev/null; cleanup_lab; }
trap stop_server EXIT

if play https-noca "$inv" local_prepare; then fail "local_prepare over HTTPS without bundle_ca_path fails"
elif grep -q "certificate verification failed for https://127.0.0.1:8443/" "$work/logs/https-noca.log" \
     && grep -q "CERTIFICATE_VERIFY_FAILED" "$work/logs/https-noca.log" && grep -q "set bundle_ca_path" "$work/logs/https-noca.log" \
     && [ ! -e "$work/.metis-deploy/lab/bundles/current" ]; then
  pass "local_prepare over HTTPS without bundle_ca_path: stops naming the certificate verification error, keeps nothing"
else fail "local_prepare over HTTPS without bundle_ca_path: the error is named"; show_tail "$work/logs/https-noca.log"; fi
: >"$work/requests.log"
if play https "$inv" local_prepare -e "bundle_ca_path=$pki/ca.pem" && [ -e "$work/.metis-deploy/lab/bundles/current/SHA256SUMS" ] \
   && grep -qx "/admin.jar" "$work/requests.log"; then
  pass "local_prepare over HTTPS with bundle_ca_path: bundle downloaded ($(wc -l <"$work/requests.log") requests) and verified"
else fail "local_prepare over HTTPS with bundle_ca_path"; show_tail "$work/logs/https.log"; fi
: >"$work/requests.log"
if play https2 "$inv" local_prepare -e "bundle_ca_path=$pki/ca.pem" && [ "$(changed_total "$work/logs/https2.log")" = 0 ] \
   && [ "$(sort "$work/requests.log" | tr '\n' ' ')" = "/SHA256SUMS /VERSION " ]; then
  pass "local_prepare over HTTPS again: only VERSION and SHA256SUMS read, no artifact downloaded, changed=0"
else fail "local_prepare over HTTPS again downloads nothing"; sed 's/^/    request /' "$work/requests.log" | head; fi

# ---- the TLS organisation: bootstrap, deploy, start
for step in bootstrap deploy start; do
  if play "$step" "$inv" "$step"; then pass "TLS organisation: $step"; else fail "TLS organisation: $step"; show_tail "$work/logs/$step.log" 60; fi
done
if lx "$bin" health "$inv" >"$work/logs/health.txt" 2>&1; then
  pass "TLS organisation: every health check passes (https on 443 and Glacier2's ssl among them)"
else fail "TLS organisation: health"; tail -30 "$work/logs/health.txt" | sed 's/^/    /'; fi

https_get() { # a real HTTPS request, the certificate checked against the test's CA and the name
  local code
  code=$(lx curl -sS -o /dev/null -w '%{http_code}' --cacert "$pki/ca.pem" --resolve admin.lab.test:443:198.51.100.13 \
    https://admin.lab.test/datum-admin/health 2>&1) || { echo "    curl: $code"; return 1; }
  [ "$code" = 200 ] || { echo "    HTTP $code"; return 1; }
}
expect_ok "nginx answers a verified HTTPS GET on 443 (certificate of the private CA, name admin.lab.test)" https_get

glacier2_ssl() { # the TLS handshake with Glacier2, its certificate verified against the CA
  lx python3 - "$pki/ca.pem" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
with socket.create_connection(("198.51.100.11", 20031), timeout=5) as raw:
    with ctx.wrap_socket(raw, server_hostname="198.51.100.11") as tls:
        subject = dict(x[0] for x in tls.getpeercert()["subject"])
        print(f"    Glacier2: {tls.version()}, certificate {subject['commonName']}")
PY
}
expect_ok "Glacier2 completes an ssl handshake on its client port, certificate verified" glacier2_ssl

key_files() {
  local got ok=0
  got=$(on 198.51.100.13 "sudo stat -c %a:%U:%G /opt/metis/admin/certs/admin.key /opt/metis/admin/certs/admin.crt" | tr '\n' ' ')
  [ "$got" = "600:root:root 644:root:root " ] || { echo "    admin's key and certificate: $got"; ok=1; }
  got=$(on 198.51.100.11 "sudo stat -c %a:%U:%G /opt/metis/ice_via/certs/server.key /opt/metis/ice_via/certs/server.pem /opt/metis/ice_via/certs/ca.pem" | tr '\n' ' ')
  [ "$got" = "600:metis:metis 644:metis:metis 644:metis:metis " ] || { echo "    Glacier2's key and certificates: $got"; ok=1; }
  on 198.51.100.13 "sudo cat /opt/metis/admin/certs/admin.key" | cmp -s - "$pki/admin.key" || { echo "    admin.key differs"; ok=1; }
  return $ok
}
expect_ok "keys pushed 0600 (nginx's owned by root, Glacier2's by the service user), certificates 0644" key_files
no_key_in_logs() {
  if grep -qF -f <(printf '%s\n' "$key_lines") "$work"/logs/*.log; then
    grep -lF -f <(printf '%s\n' "$key_lines") "$work"/logs/*.log | sed 's/^/    a private key in /'; return 1
  fi
}
expect_ok "no private key in Ansible's output" no_key_in_logs
expect_ok "no secret in Ansible's output (passwords, token)" no_secret_in "$work"/logs/*.log

play redeploy "$inv" deploy && [ "$(changed_total "$work/logs/redeploy.log")" = 0 ] \
  && pass "TLS organisation: deploy again changed=0" || { fail "TLS organisation: deploy again changed=0 (changed=$(changed_total "$work/logs/redeploy.log"))"; grep -E '^changed:' "$work/logs/redeploy.log" | head -20 | sed 's/^/    /'; }

# ---- scale-out: lab4 a third data host, lab5 a third compute host (without systemd)
inv2=$work/scaled.ini
sed -e 's/^data_port = \[8700, 8701\]/data_port = [8700, 8701, 8702]/' \
  -e 's/^compute_port = \[8800, 8801\]/compute_port = [8800, 8801, 8802]/' "$inv" >"$inv2"
# the new hosts last in their groups (a host's port is its position's entry of data_port)
python3 - "$inv2" "$lab4" "$lab5" <<'PY'
import sys
path, *new = sys.argv[1:]
lines, out, group = open(path).read().splitlines(), [], None
for l in lines:
    if l.startswith("["):
        group = l
    if group in ("[data]", "[compute]") and l.strip() == "" and out and out[-1].strip():
        out.append(new[0] if group == "[data]" else new[1])
    out.append(l)
open(path, "w").write("\n".join(out) + "\n")
PY
invocations "$inv" "${org[@]}" >"$work/inv-before"
play bootstrap-new "$inv2" bootstrap --limit "$lab4,$lab5" && pass "bootstrap --limit the new hosts" \
  || { fail "bootstrap --limit the new hosts"; show_tail "$work/logs/bootstrap-new.log" 40; }

# ---- a host unreachable in the middle of its deploy: sshd stopped and its sessions ended, back
# by itself 40 s later; the deploy stops naming it, the rerun completes
log4=$work/logs/deploy-cut.log
start4=$(date +%s%N)
lx ansible-playbook -i "$inv2" playbooks/deploy.yml --limit "$lab4" >"$log4" 2>&1 &
deploy_pid=$!
for _ in $(seq 600); do grep -q "PLAY \[Deploy the data fighters\]" "$log4" && break; sleep 0.1; done
on "$lab4" "sudo systemd-run -q --unit=e2e-restore-ssh --on-active=40 systemctl start ssh.service; sudo systemd-run -q --unit=e2e-cut-ssh sh -c 'systemctl stop ssh.service; loginctl terminate-user deploy'" >/dev/null 2>&1
wait "$deploy_pid"; rc=$?
timings+=("$(printf '%-22s %6.1f s' deploy-cut "$(( ($(date +%s%N) - start4) / 1000000 ))e-3")")
if [ "$rc" = 0 ]; then fail "a host unreachable mid-deploy stops the deploy"; show_tail "$log4"
elif grep -q "fatal: \[$lab4\]: UNREACHABLE!" "$log4" && grep -Eq "^$lab4 +: .*unreachable=1" "$log4"; then
  pass "a host unreachable mid-deploy: deploy stops, naming it unreachable"
else fail "a host unreachable mid-deploy is named"; show_tail "$log4"; fi
for _ in $(seq 90); do on "$lab4" true >/dev/null 2>&1 && break; sleep 1; done

if play deploy-new "$inv2" deploy --limit "$lab4" && play start-new "$inv2" start --limit "$lab4"; then
  pass "scale-out: the rerun of deploy, then start, with --limit $lab4 complete"
else fail "scale-out: deploy and start --limit $lab4"; show_tail "$work/logs/deploy-new.log" 40; show_tail "$work/logs/start-new.log" 40; fi

# ---- lab5 without systemd: the compute fighter under start-stop-daemon, with its pid file
if play deploy-nosd "$inv2" deploy --limit "$lab5" && play start-nosd "$inv2" start --limit "$lab5"; then
  pass "host without systemd: deploy and start --limit $lab5"
else fail "host without systemd: deploy and start"; show_tail "$work/logs/deploy-nosd.log" 40; show_tail "$work/logs/start-nosd.log" 40; fi

invocations "$inv" "${org[@]}" >"$work/inv-after"
if diff "$work/inv-before" "$work/inv-after" >"$work/logs/inv.diff"; then
  pass "scale-out: no unit of the organisation's other hosts restarted ($(wc -l <"$work/inv-before") units compared)"
else fail "scale-out: nothing else restarted"; sed 's/^/    /' "$work/logs/inv.diff"; fi
if lx "$bin" health "$inv2" >"$work/logs/health2.txt" 2>&1; then
  pass "scaled organisation: every health check passes ($lab4 data, $lab5 compute included)"
else fail "scaled organisation: health"; tail -30 "$work/logs/health2.txt" | sed 's/^/    /'; fi

read -r pid_file log_file port < <(lx "$bin" plan "$inv2" --host "$lab5" --format json | python3 -c '
import json,sys
s = [s for s in json.load(sys.stdin)["services"] if s["name"] == "compute"][0]
print(s["pid_file"], s["log_file"], s["ports"][0]["port"])')
runs_with_pid_file() {
  local pid user
  pid=$(on "$lab5" "sudo cat $pid_file") || { echo "    no pid file $pid_file"; return 1; }
  user=$(on "$lab5" "ps -o user= -p $pid") || { echo "    pid $pid from $pid_file does not run"; return 1; }
  [ "$user" = metis ] || { echo "    pid $pid runs as $user"; return 1; }
  on "$lab5" "test ! -d /run/systemd/system" || { echo "    $lab5 runs systemd"; return 1; }
  echo "    compute runs as pid $pid (user $user), from $pid_file"
}
expect_ok "host without systemd: the fighter runs as the service user, its pid in the plan's pid file" runs_with_pid_file
# status_shows NAME STATE: `metis-deploy status` (one ad-hoc query of every host) shows lab5's fighter
# in STATE (`active (running)` since its process started, with the pid of its pid file, or
# `inactive (dead)`), managed as a process, and every unit of the systemd hosts active under systemd.
status_shows() {
  local pid
  pid=$(on "$lab5" "sudo cat $pid_file 2>/dev/null || true")
  # Its exit status is the health's (a stopped fighter fails its checks): the JSON is what counts.
  lx "$bin" status "$inv2" --playbooks "$repo/playbooks" --format json >"$work/$1.json" 2>"$work/logs/$1.log"
  python3 - "$work/$1.json" "$lab5" "$2" "$pid" <<'PY'
import json, re, sys
path, lab5, want, pid = sys.argv[1:]
try:
    s = json.load(open(path))
except ValueError as e:
    sys.exit(f"    no JSON from status: {e}")
bad = [f"{h}: unit states not read: {why}" for h, why in s["unreachable"].items()]
rows = [r for r in s["services"] if r["host"] == lab5]
if [r["service"] for r in rows] != ["compute"]:
    bad.append(f"{lab5}'s rows: {rows}")
for r in rows:
    got = (r["unit_state"], r["manager"])
    if got != (want, "process"):
        bad.append(f"{lab5} compute: {got}, not ({want!r}, 'process'); {r['unit_reason']}")
    if want.startswith("active"):
        if not re.fullmatch(r"\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+", r["since"] or ""):
            bad.append(f"{lab5} compute: since {r['since']!r}")
        if str(r["pid"]) != pid:
            bad.append(f"{lab5} compute: pid {r['pid']}, the pid file says {pid!r}")
    elif r["since"] is not None or r["pid"] is not None:
        bad.append(f"{lab5} compute stopped: since {r['since']!r}, pid {r['pid']}")
others = [r for r in s["services"] if r["host"] != lab5]
for r in others:
    if not r["unit_state"].startswith("active") or r["manager"] != "systemd" or not r["since"]:
        bad.append(f"{r['host']} {r['service']}: {r['unit_state']} ({r['manager']}) since {r['since']}")
if bad:
    sys.exit("\n".join("    " + b for b in bad))
print(f"    {lab5} compute: {rows[0]['unit_state']} since {rows[0]['since']} (pid {rows[0]['pid']}); {len(others)} units on systemd hosts active")
PY
}
expect_ok "status on a host without systemd: the fighter active (running) since its start, from its pid file; the systemd hosts' units active, in one query" \
  status_shows status-nosd "active (running)"
play start-nosd2 "$inv2" start --limit "$lab5" && [ "$(changed_total "$work/logs/start-nosd2.log")" = 0 ] \
  && pass "host without systemd: start again changed=0" || { fail "host without systemd: start again changed=0"; grep -E '^changed:' "$work/logs/start-nosd2.log" | sed 's/^/    /'; }
stopped_gracefully() {
  on "$lab5" "test ! -e $pid_file" || { echo "    $pid_file left"; return 1; }
  lx python3 -c "import socket,sys; socket.create_connection(('$lab5', $port), timeout=1)" 2>/dev/null && { echo "    port $port still open"; return 1; }
  on "$lab5" "sudo tail -n 20 $log_file" | grep -q "stopping: deregistering" || { echo "    no graceful stop in $log_file"; return 1; }
}
if play stop-nosd "$inv2" stop --limit "$lab5"; then
  expect_ok "host without systemd: stop ends the fighter gracefully (SIGTERM: it deregistered), pid file removed, port closed" stopped_gracefully
  expect_ok "status on a host without systemd after stop: the fighter inactive (dead)" status_shows status-nosd-stopped "inactive (dead)"
else fail "host without systemd: stop"; show_tail "$work/logs/stop-nosd.log"; fi
play start-nosd3 "$inv2" start --limit "$lab5" && play start-nosd4 "$inv2" start --limit "$lab5" \
  && [ "$(changed_total "$work/logs/start-nosd4.log")" = 0 ] && lx "$bin" health "$inv2" --host "$lab5" >/dev/null \
  && pass "host without systemd: start after stop healthy, start again changed=0" \
  || { fail "host without systemd: start after stop"; show_tail "$work/logs/start-nosd3.log"; }

finish variants
