#!/usr/bin/env bash
# Fault tests of the local cluster (issue 15, point 5; deploy/cluster.sh's parts): a peak of
# full parent calls placed through Kamailio by the project's load caller, and in the middle
# of it one node killed (kill -9) or stopped (SIGTERM). Each scenario starts a fresh cluster
# and database, imports one family per call, and asserts afterwards, from the database:
#   - every call that went to its end (heard its confirmation, its BYE answered) has its
#     booking, and no booking is there twice;
#   - the history matches the bookings (one "inscription" per booking, nothing else);
# and from the cluster:
#   - kill: the dispatcher takes the dead node out within 3 s; no call failed but those the
#     dead node carried when it died; its callers call back and book, and then every family
#     has exactly one booking;
#   - term: no call failed (the node's calls finished), no new call reached the node once it
#     drained, the dispatcher took it out within 3 s, and it exited cleanly (status 0);
#   - pg: PostgreSQL stopped for PG_DOWN seconds (default 12) mid-peak, then started again:
#     no call is dropped unanswered (a call either goes to its end or is told "service
#     momentanément indisponible" and hung up by the server); the bookings in the database
#     are exactly those the calls' records say were confirmed (no false confirmation, no
#     silent booking); then a second peak, with every call completed and booked, shows the
#     nodes reconnected by themselves. Needs pg_ctlcluster and a local server (this machine's).
#   - full: two nodes of N/4 calls each, N calls placed at once: the calls beyond the room
#     of both are refused 503 and nothing else fails; a full node is never taken out of the
#     dispatcher (only a draining or silent one is); a second peak the size of the room, as
#     soon as the first is over, is carried whole.
#
#   bench/cluster-faults.sh [--calls N] [--rate R] [kill] [term] [pg] [full]   (default: 60 calls at 4/s, all)
#
# Environment as deploy/cluster.sh (IVR_BIN, CLUSTER_DB, KEEP=1 keeps the folders).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
calls=60 rate=4 scenarios=()
while (($#)); do
  case "$1" in
    --calls) calls="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    kill | term | pg | full) scenarios+=("$1"); shift ;;
    *) echo "usage: $0 [--calls N] [--rate R] [kill] [term] [pg] [full]" >&2; exit 2 ;;
  esac
done
((${#scenarios[@]})) || scenarios=(kill term pg full)
export GRACE_SECS=60
source "$here/../deploy/cluster/lib.sh"
cluster_need
trap 'cluster_down' EXIT

psql_q() { psql -qAt -v ON_ERROR_STOP=1 "$CLUSTER_DB" -c "$1"; }
fail() { echo "FAIL ($scenario): $*" >&2; failed=1; }
# confirmed_lines N: how many calls node N has answered so far.
confirmed() { grep -c "call confirmed" "$CLUSTER_WORK/node$1.err" || true; }
ended() { grep -c "call ended" "$CLUSTER_WORK/node$1.err" || true; }

# The database checks shared by every scenario; $1 is the load run's JSON.
check_bookings() {
  local json="$1"
  local doubled
  doubled="$(psql_q "SELECT count(*) FROM (SELECT 1 FROM bookings GROUP BY child_id, date, service HAVING count(*) > 1) d")"
  [[ "$doubled" == 0 ]] || fail "$doubled booking(s) doubled"
  # Every completed call's child (codes line n mod count) has its booking on its date.
  python3 - "$json" "$CLUSTER_WORK/fam/codes.csv" >"$CLUSTER_WORK/heard.csv" <<'PY'
import json, sys
done = json.load(open(sys.argv[1]))["completed_calls"]
codes = [l.strip().split(";") for l in open(sys.argv[2]).read().splitlines()[1:] if l.strip()]
for n in done:
    child, _payer, ddmm = codes[n % len(codes)]
    print(f"{child};{ddmm}")
PY
  local heard missing
  heard="$(wc -l <"$CLUSTER_WORK/heard.csv")"
  missing="$(psql -qAt -v ON_ERROR_STOP=1 "$CLUSTER_DB" <<SQL
CREATE TEMP TABLE heard (code TEXT, ddmm TEXT);
\copy heard FROM '$CLUSTER_WORK/heard.csv' WITH (FORMAT csv, DELIMITER ';')
SELECT count(*) FROM heard h JOIN children c ON c.code = h.code
 WHERE NOT EXISTS (SELECT 1 FROM bookings b WHERE b.child_id = c.id
   AND to_char(b.date, 'DDMM') = h.ddmm);
SQL
)"
  [[ "$missing" == 0 ]] || fail "$missing of $heard confirmed booking(s) missing"
  # The history says what the bookings say: per cell, inscriptions minus cancellations is
  # the booking (1 or 0), and no cell has a history but no booking or the reverse; for the
  # load's families (child codes 4xxxxx: bench/families.py), as the demo's are seeded bare.
  local astray
  astray="$(psql_q "SELECT count(*) FROM (
      SELECT child_id, date, service,
             sum(CASE action WHEN 'inscription' THEN 1 ELSE -1 END) AS net
        FROM history GROUP BY child_id, date, service) h
      FULL JOIN bookings b USING (child_id, date, service)
      JOIN children c ON c.id = coalesce(h.child_id, b.child_id)
     WHERE c.code ~ '^4[0-9]{5}\$'
       AND coalesce(h.net, 0) <> CASE WHEN b.child_id IS NULL THEN 0 ELSE 1 END")"
  [[ "$astray" == 0 ]] || fail "$astray cell(s) whose history does not match the booking"
  echo "  $heard call(s) heard their confirmation; $missing of their bookings missing, $doubled doubled, $astray cell(s) whose history differs"
}

# The peak: CALLS calls at RATE a second through Kamailio; its pid in $load_pid.
start_peak() {
  "$IVR_BIN" load --server "$SIP_EDGE" --codes "$CLUSTER_WORK/fam/codes.csv" --count "$1" \
    --rate "$rate" --max "$1" --answer-timeout 5 --json "$CLUSTER_WORK/$2.json" \
    >"$CLUSTER_WORK/$2.txt" 2>&1 &
  load_pid=$!
}
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# The local PostgreSQL server's cluster ("15 main"), stopped and started by the pg scenario.
pg_cluster() { pg_lsclusters -h | awk '$3 == 5432 { print $1, $2; exit }'; }
pg_ctl_local() { # start|stop
  local c
  c="$(pg_cluster)"
  [[ -n "$c" ]] || { echo "cluster faults: no local PostgreSQL cluster on port 5432" >&2; return 2; }
  # shellcheck disable=SC2086
  pg_ctlcluster --skip-systemctl-redirect $c "$1"
}

run_pg_scenario() {
  scenario=pg
  local down="${PG_DOWN:-12}"
  echo "== pg: $calls calls at $rate/s over $NODES nodes, PostgreSQL stopped for $down s mid-peak"
  cluster_up
  mkdir -p "$CLUSTER_WORK/fam"
  "$here/families.py" "$calls" "$CLUSTER_WORK/fam" >/dev/null
  "$IVR_BIN" --database-url "$CLUSTER_DB" import "$CLUSTER_WORK/fam/families.csv" >/dev/null
  local t0
  t0="$(psql_q "SELECT now()")"
  start_peak "$calls" peak
  sleep "$(python3 -c "print($calls / $rate / 3)")"
  pg_ctl_local stop
  sleep "$down"
  pg_ctl_local start
  for _ in $(seq 1 100); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.1; done
  wait "$load_pid" || true
  grep "^calls:" "$CLUSTER_WORK/peak.txt" | sed "s/^/  /"
  # Every failed call was ended by the server (told the service is unavailable), none left
  # to time out or unanswered.
  local stray
  stray="$(python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["failures"]; print(sum(n for k,n in f.items() if k != "server hung up"))' "$CLUSTER_WORK/peak.json")"
  [[ "$stray" == 0 ]] || fail "$stray call(s) failed otherwise than hung up by the server: $(grep -A9 '^calls:' "$CLUSTER_WORK/peak.txt" | grep '×' | tr '\n' ' ')"
  # The records' confirmations (the nodes write them when each call ends, retried on the
  # database's return) against the bookings.
  sleep 2
  local said booked failed_actions
  said="$(psql_q "SELECT coalesce(sum(booked), 0) FROM call_records WHERE started_at >= '$t0'")"
  failed_actions="$(psql_q "SELECT coalesce(sum(failed), 0) FROM call_records WHERE started_at >= '$t0'")"
  booked="$(psql_q "SELECT count(*) FROM bookings b JOIN children c ON c.id = b.child_id WHERE c.code ~ '^4[0-9]{5}\$'")"
  [[ "$said" == "$booked" ]] || fail "the calls' records say $said booking(s) confirmed, the database holds $booked"
  echo "  $booked booking(s) confirmed and in the database; $failed_actions action(s) answered 'momentanément indisponible'"
  local doubled
  doubled="$(psql_q "SELECT count(*) FROM (SELECT 1 FROM bookings GROUP BY child_id, date, service HAVING count(*) > 1) d")"
  [[ "$doubled" == 0 ]] || fail "$doubled booking(s) doubled"
  # The nodes reconnected by themselves: a second peak, all completed, every family booked.
  start_peak "$calls" after
  wait "$load_pid" || fail "after the restart: $(grep '^calls:' "$CLUSTER_WORK/after.txt")"
  booked="$(psql_q "SELECT count(DISTINCT b.child_id) FROM bookings b JOIN children c ON c.id = b.child_id WHERE c.code ~ '^4[0-9]{5}\$'")"
  [[ "$booked" == "$calls" ]] || fail "after the restart, $booked of $calls families booked"
  check_bookings "$CLUSTER_WORK/after.json"
  echo "  after the restart: $(grep '^calls:' "$CLUSTER_WORK/after.txt" | cut -d'(' -f1)and every family booked once"
  cluster_down
  node_pids=()
}

run_full_scenario() {
  scenario=full
  local room=$((calls / 4))
  echo "== full: $calls calls at once over 2 nodes of $room calls each"
  NODES=2 MAX_CALLS="$room" cluster_up
  mkdir -p "$CLUSTER_WORK/fam"
  "$here/families.py" "$calls" "$CLUSTER_WORK/fam" >/dev/null
  "$IVR_BIN" --database-url "$CLUSTER_DB" import "$CLUSTER_WORK/fam/families.csv" >/dev/null
  "$IVR_BIN" load --server "$SIP_EDGE" --codes "$CLUSTER_WORK/fam/codes.csv" --count "$calls" \
    --rate "$calls" --max "$calls" --answer-timeout 5 --json "$CLUSTER_WORK/peak.json" \
    >"$CLUSTER_WORK/peak.txt" 2>&1 &
  load_pid=$!
  # The dispatcher keeps both nodes all along the peak.
  local least=2 now
  while kill -0 "$load_pid" 2>/dev/null; do
    now="$(nodes_active)"
    ((now < least)) && least="$now"
    sleep 0.2
  done
  wait "$load_pid" || true
  grep "^calls:" "$CLUSTER_WORK/peak.txt" | sed "s/^/  /"
  ((least == 2)) || fail "the dispatcher took a full node out ($least of 2 active at the least)"
  local completed failed_calls others
  completed="$(json_field "$CLUSTER_WORK/peak.json" completed)"
  failed_calls="$(json_field "$CLUSTER_WORK/peak.json" failed)"
  others="$(python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["failures"]; print(sum(n for k,n in f.items() if k != "refused 503"))' "$CLUSTER_WORK/peak.json")"
  [[ "$others" == 0 ]] || fail "$others call(s) failed otherwise than refused 503"
  ((completed >= 2 * room - 2)) || fail "$completed calls carried, the room is $((2 * room))"
  check_bookings "$CLUSTER_WORK/peak.json"
  # A second peak the size of the room, at once: every call carried (no node left out).
  "$IVR_BIN" load --server "$SIP_EDGE" --codes "$CLUSTER_WORK/fam/codes.csv" --count $((2 * room)) \
    --rate $((2 * room)) --max $((2 * room)) --answer-timeout 5 --json "$CLUSTER_WORK/after.json" \
    >"$CLUSTER_WORK/after.txt" 2>&1 || fail "the second peak: $(grep '^calls:' "$CLUSTER_WORK/after.txt")"
  echo "  $completed calls carried, $failed_calls refused 503, both nodes in the dispatcher all along; then $(grep '^calls:' "$CLUSTER_WORK/after.txt" | cut -d'(' -f1)"
  cluster_down
  node_pids=()
}

run_scenario() {
  scenario="$1"
  [[ "$scenario" == pg ]] && { run_pg_scenario; return; }
  [[ "$scenario" == full ]] && { run_full_scenario; return; }
  echo "== $scenario: $calls calls at $rate/s over $NODES nodes, node 2 $([[ $1 == kill ]] && echo "killed (kill -9)" || echo "stopped (SIGTERM)") mid-peak"
  cluster_up
  mkdir -p "$CLUSTER_WORK/fam"
  "$here/families.py" "$calls" "$CLUSTER_WORK/fam" >/dev/null
  "$IVR_BIN" --database-url "$CLUSTER_DB" import "$CLUSTER_WORK/fam/families.csv" >/dev/null
  start_peak "$calls" peak
  # Mid-peak: half the calls placed, the first ones in their booking.
  sleep "$(python3 -c "print($calls / $rate / 2)")"
  local up_on_2=$(($(confirmed 2) - $(ended 2)))
  local taken=$(($(confirmed 1) + $(confirmed 2) + $(confirmed 3)))
  if [[ "$scenario" == kill ]]; then node_signal 2 KILL; else node_signal 2 TERM; fi
  local at_signal=$SECONDS
  wait_nodes_active $((NODES - 1)) 3 || fail "the dispatcher did not take node 2 out within 3 s"
  echo "  node 2 carried $up_on_2 of the calls up when it was signalled ($taken answered so far); out of the dispatcher in $((SECONDS - at_signal)) s or less"
  local confirmed_2_at_signal
  confirmed_2_at_signal="$(confirmed 2)"
  wait "$load_pid" || true
  grep "^calls:" "$CLUSTER_WORK/peak.txt" | sed "s/^/  /"
  local failed_calls completed
  failed_calls="$(json_field "$CLUSTER_WORK/peak.json" failed)"
  completed="$(json_field "$CLUSTER_WORK/peak.json" completed)"
  check_bookings "$CLUSTER_WORK/peak.json"
  if [[ "$scenario" == kill ]]; then
    ((failed_calls <= up_on_2)) || fail "$failed_calls calls failed, node 2 carried $up_on_2"
    # Every caller calls back: those who booked hear "already booked", the others book now.
    start_peak "$calls" callback
    wait "$load_pid" || fail "a call back failed: $(sed -n 1p "$CLUSTER_WORK/callback.txt")"
    local booked
    booked="$(psql_q "SELECT count(DISTINCT b.child_id) FROM bookings b JOIN children c ON c.id = b.child_id WHERE c.code LIKE '4%'")"
    [[ "$booked" == "$calls" ]] || fail "after the call back, $booked of $calls families booked"
    check_bookings "$CLUSTER_WORK/callback.json"
    echo "  the call back: every family booked once ($booked)"
  else
    ((failed_calls == 0)) || fail "$failed_calls calls failed while node 2 drained"
    [[ "$(confirmed 2)" == "$confirmed_2_at_signal" ]] || fail "node 2 answered calls after it began to drain"
    local status=0
    node_wait 2 $((GRACE_SECS + 15)) || status=$?
    [[ "$status" == 0 ]] || fail "node 2 exited with status $status"
    echo "  node 2 finished its calls, took no new one and exited with status $status; $completed calls completed"
  fi
  cluster_down
  node_pids=()
}

failed=0
base="$CLUSTER_WORK"
for s in "${scenarios[@]}"; do
  CLUSTER_WORK="$base/$s"
  mkdir -p "$CLUSTER_WORK"
  run_scenario "$s"
done
[[ -n "${KEEP:-}" ]] && echo "kept $base" >&2 || rm -rf "$base"
((failed == 0)) && echo "cluster faults: every check passed" || echo "cluster faults: FAILED" >&2
exit "$failed"
