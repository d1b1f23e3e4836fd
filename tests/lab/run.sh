#!/usr/bin/env bash
# End-to-end test of `metis-deploy lab` (root, Linux): boots 3 hosts with systemd and one with sshd
# only, checks each from inside the lab's namespace (systemd running, ssh as deploy, sudo, Ansible
# ping with an inventory of bare addresses), checks that the machine's own namespace holds nothing
# of the lab but the unreachable guard route, that a second `up` only reports, that `down` leaves
# nothing but the image cache, and that an `up` from the cache takes seconds. The lab is always
# torn down at the end, whatever failed. The first run on a machine builds the image (1-4 min).
#
# LAB_DIR (default /var/lib/metis-lab, the image cache shared with `metis-deploy lab`) and
# PYTHON (default python3, the interpreter Ansible runs under) may be set.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${LAB_DIR:-/var/lib/metis-lab}
py=${PYTHON:-python3}
range=198.51.100
hosts=(198.51.100.11 198.51.100.12 198.51.100.13)
plain=198.51.100.14

if [ "$(id -u)" != 0 ]; then
  if [ "${CI:-}" = true ]; then echo "FAIL lab: the lab test needs root"; exit 1; fi
  echo "SKIP lab: the lab test needs root (sudo tests/lab/run.sh)"; exit 0
fi

cargo build -q --locked -p metis-deploy --manifest-path "$repo/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$repo/target}/debug/metis-deploy"
lab() { "$bin" lab --dir "$dir" "$@"; }

work=$(mktemp -d)
started=0
cleanup() {
  local rc=$?
  ip netns del metislab-rangetest 2>/dev/null || true
  if [ "$started" = 1 ]; then
    echo "-- tearing the lab down"
    lab down || { echo "FAIL lab down in the cleanup"; rc=1; }
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if lab status >/dev/null 2>&1 || [ -e /run/netns/metislab ]; then
  msg="a lab is already running on this machine ($(lab status 2>&1 | head -1)); the test does not touch it: stop it with \`metis-deploy lab down\` and run again"
  if [ "${CI:-}" = true ]; then echo "FAIL lab: $msg"; exit 1; fi
  echo "SKIP lab: $msg"; exit 0
fi

passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
check() { # name, command...: passes when the command succeeds
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then pass "$name"; else fail "$name"; sed 's/^/    /' "$work/out" | tail -30; fi
}
expect_error() { # name, text the error must contain, command...: passes when it fails saying so
  local name=$1 text=$2; shift 2
  if "$@" >"$work/out" 2>&1; then fail "$name (it succeeded)"; sed 's/^/    /' "$work/out" | tail -10
  elif grep -qF -- "$text" "$work/out"; then pass "$name"
  else fail "$name (no \"$text\" in the error)"; sed 's/^/    /' "$work/out" | tail -10; fi
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# --- Refusals, before anything is created.
expect_error "not root: refused with the fix" "run \`sudo metis-deploy lab up\`" \
  setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" lab --dir "$work/nobody" up
expect_error "bad --without-systemd: refused" "--without-systemd 5" lab up --hosts 4 --without-systemd 5
ip netns add metislab
expect_error "namespace metislab made by something else: refused" "ip netns del metislab" lab up
ip netns del metislab
# A lab address in the namespace `up` runs in (a scratch namespace standing in for the machine's).
ip netns add metislab-rangetest
ip -n metislab-rangetest link add d0 type bridge
ip -n metislab-rangetest addr add "$range.5/24" dev d0
expect_error "lab range in use by the machine: refused" "address $range.5/24 on d0" \
  ip netns exec metislab-rangetest "$bin" lab --dir "$work/range" up
ip netns del metislab-rangetest

# --- Boot: 3 hosts with systemd, host 4 without.
started=1
t0=$(now)
if timeout 900 "$bin" lab --dir "$dir" up --hosts 4 --without-systemd 4 >"$work/up" 2>&1; then
  pass "lab up (4 hosts, host 4 without systemd) in $(secs "$t0" "$(now)") s"
  sed 's/^/    /' "$work/up"
else
  fail "lab up"; sed 's/^/    /' "$work/up"; exit 1
fi

# Each host, from inside the namespace, with only what `lab exec` exports.
in_lab_ssh() { # address, remote command
  lab exec -- sh -c 'exec ssh -F /dev/null -i "$ANSIBLE_PRIVATE_KEY_FILE" $ANSIBLE_SSH_COMMON_ARGS \
    -o BatchMode=yes -o ConnectTimeout=5 "$ANSIBLE_REMOTE_USER@$0" "$1"' "$1" "$2"
}
for ip in "${hosts[@]}"; do
  check "$ip: systemd is running" test "$(in_lab_ssh "$ip" 'systemctl is-system-running')" = running
  check "$ip: ssh as deploy" test "$(in_lab_ssh "$ip" 'id -un')" = deploy
  check "$ip: sudo -n true" in_lab_ssh "$ip" 'sudo -n true'
  check "$ip: mariadb and nginx installed, not enabled" in_lab_ssh "$ip" \
    '! systemctl is-enabled -q mariadb nginx && test -x /usr/sbin/mariadbd && test -x /usr/sbin/nginx'
done
check "$plain: ssh as deploy, sudo, PID 1 is not systemd" in_lab_ssh "$plain" \
  'test "$(id -un)" = deploy && sudo -n true && test "$(cat /proc/1/comm)" != systemd'
check "$plain: start-stop-daemon starts and stops a daemon" in_lab_ssh "$plain" \
  'sudo start-stop-daemon --start --background --make-pidfile --pidfile /run/t.pid --exec /bin/sleep -- 300 &&
   sleep 0.3 && sudo kill -0 "$(cat /run/t.pid)" &&
   sudo start-stop-daemon --stop --retry 5 --remove-pidfile --pidfile /run/t.pid'
check "lab ssh by name runs a command" test "$(lab ssh lab2 hostname)" = lab2

# Ansible: an inventory of bare addresses, no variables.
printf '%s\n' "${hosts[@]}" "$plain" >"$work/inventory.ini"
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCAL_TEMP="$work/ansible-tmp"
t0=$(now)
check "ansible -m ping, 4 hosts" timeout 120 "$bin" lab --dir "$dir" exec -- \
  "$py" -m ansible adhoc -i "$work/inventory.ini" all -m ansible.builtin.ping
echo "    ansible ping took $(secs "$t0" "$(now)") s"
check "ansible facts: service manager systemd, default IPv4 on the lab" sh -c '
  out=$("$0" lab --dir "$1" exec -- "$2" -m ansible adhoc -i "$3" '"${hosts[0]}"' -m ansible.builtin.setup \
        -a "filter=ansible_service_mgr,ansible_default_ipv4")
  echo "$out"; echo "$out" | grep -q "\"ansible_service_mgr\": \"systemd\"" &&
  echo "$out" | grep -q "\"address\": \"'"${hosts[0]}"'\""' "$bin" "$dir" "$py" "$work/inventory.ini"
check "ansible apt state=present on installed packages: ok, not changed" sh -c '
  out=$("$0" lab --dir "$1" exec -- "$2" -m ansible adhoc -i '"${hosts[0]}"', all -b -m ansible.builtin.apt \
        -a "name=nginx,mariadb-server,python3-pymysql state=present")
  echo "$out"; echo "$out" | grep -q "SUCCESS" && echo "$out" | grep -q "\"changed\": false"' "$bin" "$dir" "$py"

# The machine's own namespace: no lab address, no lab route but the guard.
check "no lab address in the machine's namespace" sh -c "! ip -4 -o addr show | grep -F ' $range.'"
check "the only route to the lab range is the unreachable guard" sh -c \
  "test \"\$(ip -4 route show table all | grep -F '$range.' | sed 's/ *\$//')\" = 'unreachable $range.0/24'"
check "no bridge br0 and no host veth (vb-*) in the machine's namespace" sh -c \
  '! ip link show br0 2>/dev/null && ! ip -o link show | grep -q " vb-"'
check "lab status --format json: 4 hosts up" sh -c '"$0" lab --dir "$1" status --format json |
  "$2" -c "import json,sys; s=json.load(sys.stdin); assert s[\"condition\"]==\"running\"; assert [h[\"state\"] for h in s[\"hosts\"]]==[\"up\"]*4, s"' \
  "$bin" "$dir" "$py"
check "a lab address is unreachable from the machine's namespace" sh -c "! ip route get ${hosts[0]}"

# A second `up` reports the running lab, quickly.
t0=$(now)
check "lab up again: already running" sh -c '"$0" lab --dir "$1" up --hosts 4 --without-systemd 4 | grep -q "already running"' "$bin" "$dir"
t=$(secs "$t0" "$(now)")
check "lab up again took ${t} s (under 3 s)" awk -v t="$t" 'BEGIN { exit !(t < 3) }'
check "lab status: running" lab status
expect_error "lab up with another shape: refused" "lab down" lab up --hosts 2

# --- Down: nothing left but the image cache, the deploy key and the guard route.
down_and_check() { # label
  local t0 t
  t0=$(now)
  check "lab down ($1)" lab down
  t=$(secs "$t0" "$(now)")
  echo "    down took $t s"
  check "after down ($1): no mount under $dir" sh -c "! grep -F ' $dir/' /proc/self/mountinfo"
  check "after down ($1): no namespace metislab" test ! -e /run/netns/metislab
  check "after down ($1): no systemd-nspawn process" sh -c \
    "! ps -eo stat=,comm= | awk '\$2 == \"systemd-nspawn\" && \$1 !~ /^Z/' | grep -q ."
  check "after down ($1): no lab cgroup" sh -c '! ls -d /sys/fs/cgroup/metislab /sys/fs/cgroup/*/metislab 2>/dev/null | grep -q .'
  check "after down ($1): no state, hosts, known_hosts, control sockets" sh -c \
    "test ! -e '$dir/state.json' -a ! -e '$dir/hosts' -a ! -e '$dir/known_hosts' -a ! -e '$dir/cp'"
  check "after down ($1): image cache and guard route kept" sh -c \
    "ls -d '$dir'/images/*/rootfs/usr/sbin/sshd >/dev/null && ip route show | grep -qx 'unreachable $range.0/24 *'"
  check "lab status after down: down" sh -c '"$0" lab --dir "$1" status | grep -q ": down"' "$bin" "$dir"
}
down_and_check "first"
started=0

# --- Up from the cache: seconds. Ansible reaches the new hosts at the same addresses (no stale
# ssh master of the first lab in the way).
started=1
t0=$(now)
check "lab up from the cache" timeout 300 "$bin" lab --dir "$dir" up
t=$(secs "$t0" "$(now)")
echo "    up from the cache took $t s"
check "up from the cache took under 60 s" awk -v t="$t" 'BEGIN { exit !(t < 60) }'
printf '%s\n' "${hosts[@]}" >"$work/inventory3.ini"
check "ansible -m ping on the new lab (fresh host keys, no stale ssh master)" timeout 120 \
  "$bin" lab --dir "$dir" exec -- "$py" -m ansible adhoc -i "$work/inventory3.ini" all -m ansible.builtin.ping
down_and_check "second"
started=0

echo "lab: $passed passed, $failed failed"
[ "$failed" = 0 ]
