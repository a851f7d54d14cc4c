#!/usr/bin/env bash
# What CI runs against the voice line (called by .ci/run when executable):
#   1. the SIPp smoke run (run.sh smoke.xml: 200 calls at 20/s, RFC 4733 digits, no failed
#      call) against `ivr serve` on free loopback ports with a fresh database;
#   2. the log-in-and-book call (book.xml) against `ivr demo` on a fresh data directory, its
#      clock set to a Monday 08:00 so that tomorrow's meal is open, then the child's history
#      read back with `ivr phone history`: the cancellation and the booking must be there,
#      channel phone; the staff dashboard of that day shows the call (dashboard.py logs in
#      as the demo's staff account), and `ivr phone calls` prints its record.
# Fails on any failed call, missing history line or missing figure.
#
# Environment: IVR_BIN (default: cargo build --release --features devtools), SIPP (default: sipp).
# SIPp plays pcaps through a raw socket: run as root. Everything stays on 127.0.0.1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
sipp="${SIPP:-sipp}"
command -v "$sipp" >/dev/null || { echo "ci-smoke: sipp not found (apt-get install sip-tester)" >&2; exit 2; }

bin="${IVR_BIN:-}"
if [[ -z "$bin" ]]; then
  (cd "$root" && cargo build --release --quiet --features devtools --bin ivr)
  bin="${CARGO_TARGET_DIR:-$root/target}/release/ivr"
fi

work="$(mktemp -d)"
demo_pid=""
cleanup() {
  if [[ -n "$demo_pid" ]] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -TERM "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A configuration with every path absolute and a fresh database.
cat >"$work/ivr.toml" <<TOML
[server]
database_url = "sqlite://$work/smoke/ivr.sqlite"

[dialplan]
dialplans_dir = "$root/dialplans"
prompts_dir = "$root/prompts/fr"

[phone]
data_dir = "$work/smoke"
staff_prompts_dir = "$root/prompts/staff"
TOML
export IVR_CONFIG="$work/ivr.toml"

echo "== ci-smoke: SIPp smoke run"
IVR_BIN="$bin" "$here/run.sh" smoke.xml 20 100 200

echo "== ci-smoke: log in and book by phone (book.xml) against ivr demo"
port="$(free_port)"
# Monday 9 March 2026, 08:00 in Paris: tomorrow's meal (Tuesday 10) closes at 10:00 today.
RUST_LOG="${RUST_LOG:-warn}" "$bin" --sip-listen "127.0.0.1:$port" --web-listen 127.0.0.1:0 demo --data-dir "$work/demo" \
  --now 2026-03-09T08:00:00+01:00 >"$work/demo.out" 2>"$work/demo.err" &
demo_pid=$!
for _ in $(seq 1 600); do
  grep -q "ligne vocale prête" "$work/demo.out" 2>/dev/null && break
  kill -0 "$demo_pid" 2>/dev/null || { cat "$work/demo.err" >&2; echo "ci-smoke: demo did not start" >&2; exit 1; }
  sleep 0.1
done
grep -q "ligne vocale prête" "$work/demo.out" || { echo "ci-smoke: demo not ready" >&2; exit 1; }

status=0
(cd "$here" && "$sipp" "127.0.0.1:$port" -sf book.xml -s 0476549985 -i 127.0.0.1 -m 1 \
  -nostdin -timeout 60s -timeout_error -trace_err -error_file "$work/book_errors.log" \
  >"$work/book.out" 2>&1) || status=$?
if [[ $status -ne 0 ]]; then
  echo "ci-smoke: the log-in-and-book call failed (SIPp exit $status)" >&2
  tail -n 30 "$work/book.out" >&2 || true
  tail -n 30 "$work/book_errors.log" >&2 2>/dev/null || true
  exit 1
fi
# The staff dashboard of that Monday shows the call, how far it got and its two changes.
web="$(sed -n 's|^portail web prêt : \(http://[^ ]*\)$|\1|p' "$work/demo.out" | head -n1)"
[[ -n "$web" ]] || { echo "ci-smoke: the demo printed no portal address" >&2; exit 1; }
dashboard="$(printf 'mezcalito-demo\n' | python3 "$here/dashboard.py" "$web" amelie 2026-03-09)" \
  || { echo "ci-smoke: the staff dashboard could not be read" >&2; exit 1; }
for want in "Appels au serveur vocal : 1" \
  "<th scope=\"row\">inscription ou annulation faite</th><td>1</td>" \
  "Par téléphone : inscriptions 1, annulations 1."; do
  grep -qF "$want" <<<"$dashboard" || { echo "ci-smoke: the dashboard lacks: $want" >&2; exit 1; }
done
echo "ci-smoke: the staff dashboard shows the call"

kill -TERM "$demo_pid"
wait "$demo_pid" || { echo "ci-smoke: demo did not stop cleanly" >&2; cat "$work/demo.err" >&2; exit 1; }
demo_pid=""

# The call's record, as an operator reads it: one call, changed, by the caller or the line.
calls="$("$bin" --database-url "sqlite://$work/demo/ivr.sqlite" phone calls --date 2026-03-09)"
echo "$calls"
[[ "$(wc -l <<<"$calls")" == 1 && "$calls" == *" changed logins_failed=0 booked=1 cancelled=1 "* ]] \
  || { echo "ci-smoke: ivr phone calls does not show the one call that booked" >&2; exit 1; }

# The child's last two changes, newest first (codes on standard input, never in argv).
history="$(printf '3011\n770021\n' | "$bin" --database-url "sqlite://$work/demo/ivr.sqlite" \
  phone history --limit 2)"
echo "$history"
mapfile -t lines <<<"$history"
[[ "${lines[0]:-}" == "2026-03-10 REPAS inscription phone "* ]] \
  || { echo "ci-smoke: the booking by phone is not the last change" >&2; exit 1; }
[[ "${lines[1]:-}" == "2026-03-10 REPAS annulation phone "* ]] \
  || { echo "ci-smoke: the cancellation by phone is not before it" >&2; exit 1; }
echo "ci-smoke: OK"
