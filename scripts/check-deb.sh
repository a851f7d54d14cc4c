#!/usr/bin/env bash
# Installs the Debian package on this machine and checks it as a town's operator would use
# it (docs/debian.md): the files, user and permissions; `ivr check` refusing a town hall
# without staff account, then passing; the service's own command (the unit's ExecStart, as
# its user, in its folder) answering SIPp calls and the portal; a drain on SIGTERM; an
# upgrade that keeps the edited configuration and the data; removal and purge, which keep
# the data. For a CI machine: it installs and removes the package `ivr` and, at the end,
# deletes /var/lib/ivr and the ivr user; it refuses to run where ivr is already installed.
#
#   scripts/check-deb.sh PACKAGE.deb [UPGRADE.deb]
#
# Run as root, with sipp (sip-tester) and python3. The calls stay on 127.0.0.1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
deb="$(realpath "${1:?usage: check-deb.sh PACKAGE.deb [UPGRADE.deb]}")"
upgrade="$(realpath "${2:-$1}")"
fail() { echo "check-deb: $*" >&2; exit 1; }
step() { echo "== check-deb: $*"; }

[[ "$(id -u)" == 0 ]] || fail "run as root (it installs a package)"
if dpkg-query -W -f='${Status}' ivr 2>/dev/null | grep -q "installed" || [[ -e /var/lib/ivr ]]; then
  fail "ivr is already installed here (or /var/lib/ivr exists): this check is for a CI machine"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  dpkg --purge ivr >/dev/null 2>&1 || true
  rm -rf /var/lib/ivr "$work"
  if getent passwd ivr >/dev/null; then deluser --system --quiet ivr >/dev/null 2>&1 || true; fi
  if getent group ivr >/dev/null; then delgroup --system --quiet ivr >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

as_ivr() { (cd /var/lib/ivr && runuser -u ivr -- "$@"); }
http_get() { # URL: prints the body, fails on a status other than 200
  python3 - "$1" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    sys.stdout.write(r.read().decode())
PY
}
metric() { awk -v n="$1" '$1 == n { print $2 }' <<<"$2"; }

step "install $(basename "$deb")"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "the package did not install"; }

step "files, user and permissions"
[[ -x /usr/bin/ivr ]] || fail "/usr/bin/ivr missing"
getent passwd ivr >/dev/null || fail "no ivr system user"
[[ "$(stat -c '%U:%G %a' /var/lib/ivr)" == "ivr:ivr 750" ]] || fail "/var/lib/ivr: $(stat -c '%U:%G %a' /var/lib/ivr)"
[[ "$(stat -c '%U:%G %a' /etc/ivr/ivr.toml)" == "root:ivr 640" ]] || fail "/etc/ivr/ivr.toml: $(stat -c '%U:%G %a' /etc/ivr/ivr.toml)"
unit=/usr/lib/systemd/system/ivr.service
[[ -f "$unit" ]] || fail "$unit missing"
grep -q '^database_url = "sqlite:///var/lib/ivr/ivr.sqlite"$' /etc/ivr/ivr.toml || fail "the packaged configuration's database is not under /var/lib/ivr"
[[ -L /etc/systemd/system/multi-user.target.wants/ivr.service ]] || fail "the service is not enabled"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$unit" 2>"$work/verify.log" || { cat "$work/verify.log" >&2; fail "systemd-analyze rejects the unit"; }
fi
if /usr/bin/ivr demo --help >/dev/null 2>&1; then fail "the packaged binary has the demo (devtools)"; fi

step "ivr check: no staff account yet, then one"
if as_ivr ivr --config /etc/ivr/ivr.toml check >"$work/check1.out" 2>&1; then
  fail "ivr check passed without any staff account"
fi
grep -q "ivr staff add" "$work/check1.out" || { cat "$work/check1.out" >&2; fail "ivr check did not say how to add a staff account"; }
printf 'mot-de-passe-de-test\n' | as_ivr ivr --config /etc/ivr/ivr.toml staff add admin >/dev/null
as_ivr ivr --config /etc/ivr/ivr.toml check >"$work/check2.out" 2>&1 || { cat "$work/check2.out" >&2; fail "ivr check fails on the installed package"; }
[[ "$(stat -c '%U' /var/lib/ivr/ivr.sqlite)" == ivr ]] || fail "the database is not the ivr user's"

# The service as systemd starts it (this machine may run no systemd): the unit's command,
# user and folder.
start_server() {
  local exec_start
  exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
  [[ -n "$exec_start" ]] || fail "no ExecStart in $unit"
  # shellcheck disable=SC2086 # the unit's command line, split as systemd splits it
  # setpriv execs the server itself (runuser would stand between it and the SIGTERM).
  (cd /var/lib/ivr && exec setpriv --reuid=ivr --regid=ivr --init-groups -- $exec_start) \
    >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  for _ in $(seq 1 300); do
    grep -q "ligne vocale prête" "$work/server.out" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; fail "the installed server did not start"; }
    sleep 0.1
  done
  fail "the installed server is not ready after 30 s"
}
stop_server() { # the drain systemd's stop sends
  kill -TERM "$server_pid"
  local status=0
  wait "$server_pid" || status=$?
  server_pid=""
  [[ $status == 0 ]] || { cat "$work/server.err" >&2; fail "the server exited with $status on SIGTERM"; }
}

step "the installed service answers calls and the portal"
start_server
IVR_SERVER=127.0.0.1:5060 "$root/sipp-scenarios/check.sh" smoke.xml 5 5 10 >"$work/sipp.out" 2>&1 \
  || { tail -n 20 "$work/sipp.out" >&2; fail "SIPp calls to the installed server failed"; }
text="$(http_get http://127.0.0.1:9477/metrics)"
[[ "$(metric ivr_calls_total "$text")" == 10 ]] || fail "expected 10 calls in /metrics, got '$(metric ivr_calls_total "$text")'"
[[ "$(metric ivr_dtmf_digits_total "$text")" == 40 ]] || fail "expected 40 digits in /metrics, got '$(metric ivr_dtmf_digits_total "$text")'"
http_get http://127.0.0.1:8080/ | grep -q "Mezcalito" || fail "the portal's home page does not name the town"
stop_server
grep -q "stopping" "$work/server.err" || fail "the server did not log its drain"

step "upgrade with $(basename "$upgrade"): the edited configuration and the data kept"
sed -i 's/^name = "Mezcalito"$/name = "Villeneuve-des-Tests"/' /etc/ivr/ivr.toml
grep -q '^name = "Villeneuve-des-Tests"$' /etc/ivr/ivr.toml || fail "could not edit the town's name"
apt-get install -y -qq --allow-downgrades -o Dpkg::Options::=--force-confold --reinstall "$upgrade" \
  >"$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log" >&2; fail "the upgrade failed"; }
grep -q '^name = "Villeneuve-des-Tests"$' /etc/ivr/ivr.toml || fail "the upgrade replaced the town's configuration"
[[ "$(stat -c '%U:%G %a' /etc/ivr/ivr.toml)" == "root:ivr 640" ]] || fail "the upgrade opened the configuration: $(stat -c '%U:%G %a' /etc/ivr/ivr.toml)"
as_ivr ivr --config /etc/ivr/ivr.toml check >"$work/check3.out" 2>&1 || { cat "$work/check3.out" >&2; fail "ivr check fails after the upgrade (staff account lost?)"; }
start_server
http_get http://127.0.0.1:8080/ | grep -q "Villeneuve-des-Tests" || fail "after the upgrade the portal does not name the edited town"
stop_server

step "remove, then purge: the data stays"
apt-get remove -y -qq ivr >"$work/remove.log" 2>&1 || { cat "$work/remove.log" >&2; fail "apt-get remove failed"; }
[[ ! -e /usr/bin/ivr ]] || fail "/usr/bin/ivr left after removal"
[[ -f /etc/ivr/ivr.toml ]] || fail "removal deleted the configuration (only purge may)"
[[ -f /var/lib/ivr/ivr.sqlite ]] || fail "removal deleted the database"
apt-get purge -y -qq ivr >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "apt-get purge failed"; }
[[ ! -e /etc/ivr/ivr.toml ]] || fail "purge left /etc/ivr/ivr.toml"
[[ -f /var/lib/ivr/ivr.sqlite ]] || fail "purge deleted the town's database"

echo "check-deb: ok (installed, checked, called, drained, upgraded, removed, purged)"
