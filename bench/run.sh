#!/usr/bin/env bash
# The capacity benchmark (issue 7): the server pinned to core 0, SIPp pinned to core 1,
# a fresh SQLite database per step with as many families as calls, over loopback only.
#
#   bench/run.sh [--codec pcmu|opus] [--steps "250 500 1000 2000 4000"]
#                [--rates "100 200 400 600 800 1000"] [--out DIR] [--no-rate] [--no-calls]
#
# Simultaneous-calls steps: for C in --steps, 2*C full parent calls
# (sipp-scenarios/parent-call-info.xml: login, book a meal by INFO digits, confirmation,
# BYE; about 15 s each) started at C/10 calls per second and at most C at once, so that
# C calls are up for about 15 s in the middle of the run. Per step: calls attempted,
# completed and failed (SIPp); the bookings found in the database afterwards; the server's
# CPU (% of the whole 2-core machine, from /proc/PID/stat, over 9 s of full load, before
# the capture: the kernel charges a capture's packet copies to the sending process);
# its peak memory (VmHWM); INVITE to 200 OK p50/p99 (SIPp -trace_rtt); the RTP pacing at
# the receiver (bench/pacing.py on a 4 s capture of the server's packets on loopback, not
# under chrt: the kernel timestamps the packets, dumpcap only drains them).
# A step whose answers pass 1 s at p99, that fails calls or that loses bookings (fewer in
# the database than completed calls: the server fell behind the caller's keys) ends the ramp.
#
# Call-rate steps: for R in --rates, 10*R short calls (answer, 1 s of prompt, BYE) at R
# new calls per second; stops at the first step with failed calls or answers over 1 s.
#
# Results: DIR/results.jsonl (one JSON object per step) and DIR/results.md (the table of
# docs/performance.md). Every SIPp run is bounded by its count and a timeout; the server is
# stopped after each step.
#
# The server and the callers run under SCHED_RR (SCHED=rt|nice|none), as the machine may be
# shared; the server's time waiting for the CPU is reported (run_delay, /proc/PID/schedstat).
# CALLER=ivr: the simultaneous-calls steps are placed by the project's own load caller
# (`ivr load`: the same full parent call, keys by RFC 4733 in the RTP stream as phones send
# them instead of SIP INFO, one RTP thread and socket for all its calls) instead of SIPp,
# which costs more than the server at the highest steps; the call-rate steps stay SIPp's.
# Its tally (answers, call lengths, packets heard and lost) is in DIR/STEP/load.json, and
# it measures the pacing itself, on every packet of the run (kernel arrival times): no
# capture then, which charged its copies to the server and, starting, stalled both sides'
# SIP for up to a second (the answers' maximum).
# SRTP=1 (with CALLER=ivr): the line requires SRTP (`[sip] srtp = "require"`) and every call
# of the load caller offers it (`ivr load --srtp`: RTP/SAVP, AES_CM_128_HMAC_SHA1_80), to
# measure what SRTP costs against the same steps in clear; the step folders end in -srtp.
# PERF=1: also record a 10 s profile of the server at full load (DIR/STEP/perf.data).
# Needs: a release build with the load caller (cargo build --release --features devtools;
# IVR=path/to/ivr to use another), sipp,
# dumpcap, sqlite3 (psql with DB=postgres), taskset; root for the capture.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
cd "$repo" # the server reads dialplans/ and prompts/ from here
ivr="${IVR:-${CARGO_TARGET_DIR:-$repo/target}/release/ivr}"
codec=pcmu steps="250 500 1000 2000 4000" rates="100 200 400 600 800 1000"
out="" do_rate=1 do_calls=1
while [ $# -gt 0 ]; do
  case "$1" in
    --codec) codec="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --rates) rates="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-rate) do_rate=0; shift ;;
    --no-calls) do_calls=0; shift ;;
    *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
  esac
done
caller="${CALLER:-sipp}"
case "$caller" in sipp | ivr) ;; *) echo "bench: CALLER is sipp or ivr" >&2; exit 2 ;; esac
srtp="${SRTP:-0}" srtp_args=() srtp_tag="" srtp_setting="offer"
if [ "$srtp" = 1 ]; then
  [ "$caller" = ivr ] || { echo "bench: SRTP=1 needs CALLER=ivr (the SIPp scenarios are in clear)" >&2; exit 2; }
  srtp_args=(--srtp) srtp_tag="-srtp" srtp_setting="require"
fi
out="${out:-/tmp/ivr-bench-$(date -u +%Y%m%dT%H%M%S)}"
mkdir -p "$out"
[ -x "$ivr" ] || { echo "bench: no $ivr (cargo build --release --features devtools)" >&2; exit 2; }
hz=$(getconf CLK_TCK)
ncpu=$(nproc)
sip_port="${SIP_PORT:-5060}"
server_cmd="${SERVE:-serve}"
# Where the server and the callers run: one core each by default, so that figures are per
# core. SERVER_CPUS=0,1 CALLER_CPUS=0,1 (with SCHED=none) shares the whole machine instead;
# the "of core 0" figures then mean nothing, the "% of machine" ones still do.
server_cpus="${SERVER_CPUS:-0}" caller_cpus="${CALLER_CPUS:-1}"
# The database: a fresh SQLite file per step (default), or DB=postgres: a fresh database per
# step on the PostgreSQL server at PG_URL (its processes are not pinned: they run beside
# SIPp on core 1 as well, so the server's CPU then leaves out its database work).
db="${DB:-sqlite}" pg_url="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
case "$db" in sqlite | postgres) ;; *) echo "bench: DB is sqlite or postgres" >&2; exit 2 ;; esac
# This machine is shared (other work compiles on both cores). Under a plain higher priority
# (nice) the server still waited on the run queue 20 % of the time behind the neighbours,
# which showed as 25 ms RTP gaps: so the server and the callers run under the round-robin
# real-time policy (SCHED_RR 10), as media servers are usually run (asterisk -p). The
# kernel keeps 5 % of each second for others (sched_rt_runtime_us). SCHED=nice: nice -15
# instead; SCHED=none: neither.
case "${SCHED:-rt}" in
  rt) prio=(chrt -r 10) ;;
  nice) prio=(nice -n -15) ;;
  none) prio=() ;;
  *) echo "bench: SCHED is rt, nice or none" >&2; exit 2 ;;
esac

server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -INT "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# A fresh database with the demo and N bench families; the server on core 0.
start_server() { # dir families max_calls
  local dir="$1" n="$2" max="$3"
  if [ "$db" = postgres ]; then
    local name; name="ivr_bench_$(basename "$dir" | tr -c 'a-z0-9\n' '_')"
    psql -q "$pg_url/postgres" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" \
      >"$dir/seed.log" 2>&1
    db_url="$pg_url/$name"
  else
    db_url="sqlite://$dir/ivr.sqlite"
  fi
  cat >"$dir/ivr.toml" <<EOF
[server]
database_url = "$db_url"
sip_listen = "127.0.0.1:$sip_port"
web_listen = "127.0.0.1:0"

[sip]
max_calls = $max
rtp_port_min = 20000
rtp_port_max = 40000
# The load comes from one loopback address: the per-source brake would refuse it.
invites_per_second_per_source = 0
calls_per_source = 0
srtp = "$srtp_setting"
EOF
  "$ivr" --config "$dir/ivr.toml" migrate >>"$dir/seed.log" 2>&1
  "$ivr" --config "$dir/ivr.toml" demo --seed-only >>"$dir/seed.log" 2>&1
  if [ "$n" -gt 0 ]; then
    "$here/families.py" "$n" "$dir" >>"$dir/seed.log"
    "$ivr" --config "$dir/ivr.toml" import "$dir/families.csv" >>"$dir/seed.log" 2>&1
  fi
  # shellcheck disable=SC2086
  "${prio[@]}" taskset -c "$server_cpus" "$ivr" --config "$dir/ivr.toml" $server_cmd >"$dir/server.log" 2>&1 &
  server_pid=$!
  # Start-up loads and encodes every prompt (PCMU, PCMA, Opus): a few seconds.
  for _ in $(seq 1 600); do
    if ss -uln | grep -q "127.0.0.1:$sip_port "; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: the server did not start (see $dir/server.log)" >&2
  tail -5 "$dir/server.log" >&2
  exit 1
}

db_count() { # SQL -> the one number it selects, from the step's database
  if [ "$db" = postgres ]; then psql -tA "$db_url" -c "$1"; else sqlite3 "${db_url#sqlite://}" "$1"; fi
}

sipp_totals() { # stat.csv -> "created successful failed"
  python3 - "$1" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
h, l = rows[0], rows[-1]
print(l[h.index("TotalCallCreated")], l[h.index("SuccessfulCall(C)")], l[h.index("FailedCall(C)")])
EOF
}

# CPU over [from, to] seconds from now, in % of the whole machine: the server's, SIPp's
# (the callers, on core 1) and everything's (from /proc/stat: other work on this shared
# machine shows as the difference).
machine_busy() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat; }
run_delay_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $2} END {print s + 0}'; }
measure_window() { # pid from to caller-pattern -> "server caller machine server-wait"
  local pid="$1" from="$2" to="$3" pattern="$4" w0 w1 t0 t1 c0 c1 s0 s1 spid b0 i0 b1 i1
  sleep "$from"
  spid=$(pgrep -n -f -- "$pattern" || echo "")
  c0=$(cpu_ticks "$pid"); s0=$( [ -n "$spid" ] && cpu_ticks "$spid" || echo 0)
  read -r b0 i0 < <(machine_busy); w0=$(run_delay_ns "$pid"); t0=$(date +%s.%N)
  sleep $(( to - from ))
  c1=$(cpu_ticks "$pid"); s1=$( [ -n "$spid" ] && cpu_ticks "$spid" 2>/dev/null || echo "$s0")
  read -r b1 i1 < <(machine_busy); w1=$(run_delay_ns "$pid"); t1=$(date +%s.%N)
  python3 -c "
d = ($t1 - $t0) * $hz * $ncpu
print(round(100 * ($c1 - $c0) / d, 1), round(100 * ($s1 - $s0) / d, 1),
      round(100 * ($b1 - $b0) / (($b1 - $b0) + ($i1 - $i0)), 1),
      round(100 * ($w1 - $w0) / 1e9 / ($t1 - $t0), 1))"
}

calls_step() { # concurrency
  local c="$1" dir="$out/$codec-calls-$c$srtp_tag" n=$(( 2 * $1 )) rate
  rate=$(( c / 10 )); [ "$rate" -ge 20 ] || rate=20
  mkdir -p "$dir"
  start_server "$dir" "$n" $(( c + c / 2 ))
  local base_kb; base_kb=$(status_kb "$server_pid" VmRSS)
  local started; started=$(date +%s.%N)
  local pattern
  if [ "$caller" = ivr ]; then
    pattern="--json $dir/load.json"
    "${prio[@]}" taskset -c "$caller_cpus" timeout $(( n / rate + 90 )) "$ivr" load \
      --server "127.0.0.1:$sip_port" --codes "$dir/codes.csv" --count "$n" --rate "$rate" \
      --max "$c" --codec "$codec" --sip-port 5070 --rtp-port 6000 "${srtp_args[@]}" \
      --json "$dir/load.json" >"$dir/load-summary.txt" 2>&1 &
  else
    pattern="-stf $dir/sipp/stat.csv"
    "${prio[@]}" taskset -c "$caller_cpus" "$repo/sipp-scenarios/run.sh" parent-call-info --rate "$rate" \
      --concurrency "$c" --count "$n" --inf "$dir/calls.csv" --codec "$codec" \
      --timeout $(( n / rate + 90 )) --out "$dir/sipp" >"$dir/sipp-summary.txt" 2>&1 &
  fi
  local caller_pid=$!
  # Full load from about 10 s (ramp) to about 25 s: CPU over 11-20 s, then (SIPp) 4 s of
  # capture of the server's RTP towards SIPp's media port.
  local cap_pid=""
  if [ "$caller" = sipp ]; then
    ( sleep 21; taskset -c "$caller_cpus" dumpcap -q -P -i lo -f "udp and dst port 6000" -a duration:4 \
        -B 256 -w "$dir/rtp.pcap" >"$dir/dumpcap.log" 2>&1 || true ) &
    cap_pid=$!
  fi
  if [ -n "${PERF:-}" ]; then
    # A profile of the server at full load (a separate run: it costs a little CPU itself).
    ( sleep 12; taskset -c "$caller_cpus" perf record -q -e cpu-clock -F 999 -g -p "$server_pid" \
        -o "$dir/perf.data" -- sleep 10 >"$dir/perf.log" 2>&1 || true ) &
  fi
  local cpu caller_cpu busy wait
  read -r cpu caller_cpu busy wait < <(measure_window "$server_pid" 11 20 "$pattern")
  [ -z "$cap_pid" ] || wait "$cap_pid" || true
  wait "$caller_pid" || true
  local elapsed; elapsed=$(python3 -c "print(round($(date +%s.%N) - $started, 1))")
  local hwm_kb; hwm_kb=$(status_kb "$server_pid" VmHWM)
  cleanup
  local rtt peak_calls heard='null' pacing
  if [ "$caller" = ivr ]; then
    read -r created ok failed peak_calls rtt heard pacing < <(load_totals "$dir/load.json")
  else
    peak_calls=$(grep -o 'Peak was [0-9]* calls' "$dir/sipp/screen.log" 2>/dev/null | tail -1 | grep -o '[0-9]*' || echo "?")
    read -r created ok failed < <(sipp_totals "$dir/sipp/stat.csv")
    rtt=$(python3 "$here/rtt.py" "$dir"/sipp/*_rtt.csv 2>/dev/null || echo '{}')
  fi
  local booked phone_rows
  booked=$(db_count "SELECT count(*) FROM bookings b JOIN children c ON c.id = b.child_id WHERE c.code LIKE '4_____'")
  phone_rows=$(db_count "SELECT count(*) FROM history h JOIN children c ON c.id = h.child_id WHERE c.code LIKE '4_____' AND h.channel = 'phone'")
  if [ "$caller" = sipp ]; then
    pacing=$(python3 "$here/pacing.py" "$dir/rtp.pcap" 2>/dev/null || echo '{}')
  fi
  # "sipp_cpu_pct_machine" is the caller's CPU, SIPp's or ivr load's (named so earlier results compare).
  python3 - "$out/results.jsonl" <<EOF
import json, sys
row = {"kind": "calls", "codec": "$codec", "srtp": $srtp == 1, "db": "$db", "caller": "$caller", "concurrency": $c, "peak_calls": "$peak_calls",
       "attempted": int("$created"), "completed": int("$ok"), "failed": int("$failed"),
       "bookings": int("$booked"), "phone_history": int("$phone_rows"),
       "cpu_pct_machine": $cpu, "cpu_pct_core": round($cpu * $ncpu, 1),
       "sipp_cpu_pct_machine": $caller_cpu, "machine_busy_pct": $busy, "server_runqueue_wait_pct": $wait,
       "base_rss_mb": round($base_kb / 1024, 1), "peak_rss_mb": round($hwm_kb / 1024, 1),
       "mb_per_call": round(($hwm_kb - $base_kb) / 1024 / $c, 3),
       "answer": json.loads('$rtt'), "pacing": json.loads('$pacing'), "heard": json.loads('$heard'),
       "elapsed_s": $elapsed}
open(sys.argv[1], "a").write(json.dumps(row) + "\n")
print(json.dumps(row))
EOF
}

load_totals() { # load.json -> "created successful failed peak answer-json heard-json pacing-json"
  python3 - "$1" <<'EOF' 2>/dev/null || echo "0 0 0 ? {} null {}"
import json, sys
r = json.load(open(sys.argv[1]))
a = r["answer"]
answer = {"answers": a["count"], "p50_ms": a["p50_ms"], "p99_ms": a["p99_ms"], "max_ms": a["max_ms"]}
print(r["attempted"], r["completed"], r["failed"], r["peak_calls"],
      json.dumps(answer, separators=(",", ":")), json.dumps(r["rtp"], separators=(",", ":")),
      json.dumps(r["pacing"], separators=(",", ":")))
EOF
}

rate_step() { # calls per second
  local r="$1" dir="$out/$codec-rate-$1" n=$(( 10 * $1 ))
  mkdir -p "$dir"
  start_server "$dir" 0 $(( 4 * r + 100 ))
  local started; started=$(date +%s.%N)
  "${prio[@]}" taskset -c "$caller_cpus" "$repo/sipp-scenarios/run.sh" short-call --rate "$r" --concurrency $(( 3 * r )) \
    --count "$n" --hold 1000 --codec "$codec" --timeout 60 --out "$dir/sipp" \
    >"$dir/sipp-summary.txt" 2>&1 &
  local sipp_pid=$!
  local cpu sipp_cpu busy wait
  read -r cpu sipp_cpu busy wait < <(measure_window "$server_pid" 3 9 "-stf $dir/sipp/stat.csv")
  wait "$sipp_pid" || true
  local elapsed; elapsed=$(python3 -c "print(round($(date +%s.%N) - $started, 1))")
  local hwm_kb; hwm_kb=$(status_kb "$server_pid" VmHWM)
  cleanup
  read -r created ok failed < <(sipp_totals "$dir/sipp/stat.csv")
  local rtt; rtt=$(python3 "$here/rtt.py" "$dir"/sipp/*_rtt.csv 2>/dev/null || echo '{}')
  python3 - "$out/results.jsonl" <<EOF
import json, sys
row = {"kind": "rate", "codec": "$codec", "db": "$db", "cps": $r, "attempted": int("$created"),
       "completed": int("$ok"), "failed": int("$failed"), "cpu_pct_machine": $cpu,
       "cpu_pct_core": round($cpu * $ncpu, 1), "sipp_cpu_pct_machine": $sipp_cpu,
       "machine_busy_pct": $busy, "server_runqueue_wait_pct": $wait, "peak_rss_mb": round($hwm_kb / 1024, 1),
       "answer": json.loads('$rtt'), "elapsed_s": $elapsed}
open(sys.argv[1], "a").write(json.dumps(row) + "\n")
print(json.dumps(row))
EOF
}

saturated() { # last result line: failed calls, or answers over 1 s at p99
  python3 - "$out/results.jsonl" <<'EOF'
import json, sys
row = json.loads(open(sys.argv[1]).read().splitlines()[-1])
p99 = (row.get("answer") or {}).get("p99_ms") or 0
lost = row["kind"] == "calls" and row["bookings"] < row["completed"]
sys.exit(0 if row["failed"] > 0 or p99 > 1000 or row["completed"] < row["attempted"] or lost else 1)
EOF
}

echo "bench: results in $out" >&2
if [ "$do_calls" = 1 ]; then
  for c in $steps; do
    echo "bench: $codec, $c simultaneous parent calls" >&2
    calls_step "$c"
    if saturated; then echo "bench: saturated at $c calls, ramp stopped" >&2; break; fi
  done
fi
if [ "$do_rate" = 1 ]; then
  for r in $rates; do
    echo "bench: $codec, $r new calls per second" >&2
    rate_step "$r"
    if saturated; then echo "bench: failures at $r calls/s, ramp stopped" >&2; break; fi
  done
fi
python3 "$here/table.py" "$out/results.jsonl" >"$out/results.md"
cat "$out/results.md"
