#!/usr/bin/env bash
# Runs a SIPp scenario against the voice line and fails on any failed call (CI's check;
# run.sh with numbers after the scenario comes here).
#
#   sipp-scenarios/check.sh [SCENARIO] [RATE] [CONCURRENCY] [COUNT]
#     SCENARIO     file in sipp-scenarios/ (default smoke.xml)
#     RATE         new calls per second (default 20)
#     CONCURRENCY  most calls at once (default 100)
#     COUNT        calls in all (default 200)
#
# Environment:
#   IVR_SERVER=host:port  call a server already running (its metrics are not checked);
#                         otherwise the script starts `ivr serve` on free loopback ports,
#                         checks its /metrics afterwards (every call counted, 4 digits per
#                         call for smoke.xml) and stops it gracefully.
#   IVR_BIN=path          the ivr binary (default: built with `cargo build --release`).
#   SIPP=path             the sipp binary (default: sipp, Debian package sip-tester).
#
# SIPp plays pcaps through a raw socket: run as root. Load stays on 127.0.0.1, bounded by COUNT.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scenario="${1:-smoke.xml}"
rate="${2:-20}"
limit="${3:-100}"
count="${4:-200}"
sipp="${SIPP:-sipp}"
[[ "$scenario" = /* ]] || scenario="$here/$scenario"

command -v "$sipp" >/dev/null || { echo "run.sh: sipp not found (apt-get install sip-tester)" >&2; exit 2; }
[[ -f "$scenario" ]] || { echo "run.sh: no scenario $scenario" >&2; exit 2; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# GET /metrics with bash alone (no curl needed).
metrics() {
  local request=$'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n'
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  echo -n "$request" >&3
  cat <&3
  exec 3<&-
}

metric() { # NAME TEXT
  awk -v n="$1" '$1 == n { print $2 }' <<<"$2"
}

if [[ -n "${IVR_SERVER:-}" ]]; then
  target="$IVR_SERVER"
else
  bin="${IVR_BIN:-}"
  if [[ -z "$bin" ]]; then
    (cd "$here/.." && cargo build --release --quiet --bin ivr)
    bin="${CARGO_TARGET_DIR:-$here/../target}/release/ivr"
  fi
  sip_port="$(free_port)"
  metrics_port="$(free_port)"
  # Its own database in the scratch folder, not ./data of wherever it was started.
  RUST_LOG="${RUST_LOG:-warn}" "$bin" serve --database-url "sqlite://$work/ivr.sqlite" \
    --sip-listen "127.0.0.1:$sip_port" --web-listen 127.0.0.1:0 \
    --metrics-listen "127.0.0.1:$metrics_port" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  for _ in $(seq 1 600); do
    grep -Eq "ligne vocale prête|Serveur vocal à l.écoute" "$work/server.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; echo "run.sh: server did not start" >&2; exit 1; }
    sleep 0.1
  done
  grep -Eq "ligne vocale prête|Serveur vocal à l.écoute" "$work/server.out" || { echo "run.sh: server not ready" >&2; exit 1; }
  target="127.0.0.1:$sip_port"
fi

echo "== $(basename "$scenario"): $count calls, $rate/s, at most $limit at once, against $target"
status=0
(cd "$work" && "$sipp" "$target" -sf "$scenario" -s 3900 -i 127.0.0.1 \
  -r "$rate" -l "$limit" -m "$count" -nostdin -trace_screen -trace_err \
  -timeout 120s -timeout_error >"$work/sipp.out" 2>&1) || status=$?

screen="$(ls "$work"/*_screen.log 2>/dev/null | head -n 1 || true)"
if [[ -n "$screen" ]]; then
  # SIPp's final statistics screen: totals of calls, successes and failures.
  sed -n '/Start Time/,$p' "$screen" | grep -E "Elapsed|Call Rate|Incoming|Outgoing|Successful call|Failed call|Response Time|Call Length|Retransmissions|Dead call|Unexpected" || cat "$screen"
else
  tail -n 40 "$work/sipp.out"
fi
if [[ $status -ne 0 ]]; then
  echo "run.sh: SIPp reported failed calls (exit $status)" >&2
  ls "$work"/*_errors.log >/dev/null 2>&1 && tail -n 20 "$work"/*_errors.log >&2
  exit 1
fi

if [[ -n "$server_pid" ]]; then
  text="$(metrics "$metrics_port")"
  calls="$(metric ivr_calls_total "$text")"
  rejected="$(metric ivr_calls_rejected_total "$text")"
  digits="$(metric ivr_dtmf_digits_total "$text")"
  active="$(metric ivr_calls_active "$text")"
  echo "server: calls=$calls rejected=$rejected digits=$digits active=$active"
  fail=0
  [[ "$calls" == "$count" ]] || { echo "run.sh: server counted $calls calls, expected $count" >&2; fail=1; }
  [[ "$rejected" == "0" ]] || { echo "run.sh: server rejected $rejected calls" >&2; fail=1; }
  if [[ "$(basename "$scenario")" == "smoke.xml" ]]; then
    [[ "$digits" == "$((count * 4))" ]] || { echo "run.sh: server heard $digits digits, expected $((count * 4))" >&2; fail=1; }
  fi
  kill -TERM "$server_pid"
  wait "$server_pid" || { echo "run.sh: server did not stop cleanly" >&2; fail=1; }
  server_pid=""
  [[ $fail -eq 0 ]] || exit 1
fi
echo "run.sh: OK, no failed call"
