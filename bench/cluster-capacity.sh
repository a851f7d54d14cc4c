#!/usr/bin/env bash
# Capacity through the proxy (issue 15, point 6): the same peak of full parent calls placed
# by the project's load caller straight at one node, then through Kamailio in front of 1, 2
# and 3 nodes (deploy/cluster.sh's parts, one PostgreSQL database), to show what the proxy
# costs and how the load spreads.
#
#   bench/cluster-capacity.sh [--calls "500 1000"] [--nodes "1 2 3"] [--out DIR]
#
# Per step, as bench/run.sh's: for C in --calls, 2*C calls at C/10 a second (at least 20),
# at most C at once, each logging in, booking a meal and hanging up (about 15 s), so C
# calls are up for about 15 s in the middle of the run. The nodes run on core 0, Kamailio
# and the caller on core 1; CPU is read from /proc over seconds 11-20 of each run (full
# load), per part: the nodes together, Kamailio's processes together, the caller, and
# PostgreSQL (not pinned); and Kamailio's CPU over the whole run, less what it spent in the
# direct run of the same size (its probes only, the calls not passing it), per call placed:
# its cost per call, which bounds the call rate one proxy core carries. Afterwards the
# bookings are counted in the database (one per completed call, none doubled).
#
# Results: DIR/results.jsonl and DIR/results.md (the table of docs/performance.md).
# Needs a release build with the load caller (cargo build --release --features devtools;
# IVR_BIN=path/to/ivr for another), kamailio, haproxy, psql, taskset.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
steps="500 1000" node_counts="1 2 3" out=""
while (($#)); do
  case "$1" in
    --calls) steps="$2"; shift 2 ;;
    --nodes) node_counts="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
  esac
done
IVR_BIN="${IVR_BIN:-${CARGO_TARGET_DIR:-$here/../target}/release/ivr}"
[[ -x "$IVR_BIN" ]] || { echo "capacity: no $IVR_BIN (cargo build --release --features devtools)" >&2; exit 2; }
out="${out:-/tmp/ivr-cluster-capacity-$(date -u +%Y%m%dT%H%M%S)}"
mkdir -p "$out"
# The nodes' grace is short: each step's cluster is stopped when its calls are over.
export GRACE_SECS=2
source "$here/../deploy/cluster/lib.sh"
cluster_need
trap 'cluster_down' EXIT
hz="$(getconf CLK_TCK)"

psql_q() { psql -qAt -v ON_ERROR_STOP=1 "$CLUSTER_DB" -c "$1"; }
# ticks PID...: user + system CPU ticks of these processes, summed (0 for one gone).
ticks() {
  local pid sum=0 t
  for pid in "$@"; do
    t="$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)"
    sum=$((sum + t))
  done
  echo "$sum"
}
kamailio_pids() { [[ -n "$kamailio_pid" ]] && pgrep -g "$(ps -o pgid= "$kamailio_pid" | tr -d ' ')" kamailio || true; }
postgres_pids() { pgrep -x postgres || pgrep -f "postgres:" || true; }

# step MODE NODES C: one run; MODE is direct (the caller at node 1) or proxy (at Kamailio).
step() {
  local mode="$1" nodes="$2" c="$3" n=$((2 * $3)) rate
  rate=$((c / 10)); ((rate >= 20)) || rate=20
  local name="$mode-$nodes-$c"
  CLUSTER_WORK="$out/$name"
  mkdir -p "$CLUSTER_WORK/fam"
  NODES="$nodes"
  cluster_up
  local n_pid
  for n_pid in "${node_pids[@]}"; do taskset -a -pc 0 "$n_pid" >/dev/null; done
  local k_pids=() p
  mapfile -t k_pids < <(kamailio_pids)
  for p in "${k_pids[@]}"; do taskset -pc 1 "$p" >/dev/null; done
  "$here/families.py" "$n" "$CLUSTER_WORK/fam" >/dev/null
  "$IVR_BIN" --database-url "$CLUSTER_DB" import "$CLUSTER_WORK/fam/families.csv" >/dev/null
  local target="$SIP_EDGE"
  [[ "$mode" == direct ]] && target="$(node_ip 1):5060"
  echo "== $name: $n calls at $rate/s, at most $c at once, $([[ $mode == direct ]] && echo "straight at node 1" || echo "through Kamailio to $nodes node(s)")"
  local k0 started
  k0="$(ticks "${k_pids[@]}")"
  started="$(date +%s.%N)"
  taskset -c 1 "$IVR_BIN" load --server "$target" --codes "$CLUSTER_WORK/fam/codes.csv" \
    --count "$n" --rate "$rate" --max "$c" --answer-timeout 5 --json "$CLUSTER_WORK/load.json" \
    >"$CLUSTER_WORK/load.txt" 2>&1 &
  local load_pid=$! pg_pids=()
  sleep 11
  mapfile -t pg_pids < <(postgres_pids)
  local a_nodes a_kam a_load a_pg t0 b_nodes b_kam b_load b_pg t1
  a_nodes="$(ticks "${node_pids[@]}")" a_kam="$(ticks "${k_pids[@]}")" a_load="$(ticks "$load_pid")"
  a_pg="$(ticks "${pg_pids[@]}")" t0="$(date +%s.%N)"
  sleep 9
  b_nodes="$(ticks "${node_pids[@]}")" b_kam="$(ticks "${k_pids[@]}")" b_load="$(ticks "$load_pid")"
  b_pg="$(ticks "${pg_pids[@]}")" t1="$(date +%s.%N)"
  wait "$load_pid" || true
  local k1 elapsed
  k1="$(ticks "${k_pids[@]}")"
  elapsed="$(python3 -c "print(round($(date +%s.%N) - $started, 1))")"
  local booked doubled
  booked="$(psql_q "SELECT count(*) FROM bookings b JOIN children c ON c.id = b.child_id WHERE c.code ~ '^4[0-9]{5}\$'")"
  doubled="$(psql_q "SELECT count(*) FROM (SELECT 1 FROM bookings GROUP BY child_id, date, service HAVING count(*) > 1) d")"
  local per_node=()
  for p in $(seq 1 "$nodes"); do per_node+=("$(grep -c "call confirmed" "$CLUSTER_WORK/node$p.err" || true)"); done
  cluster_down
  node_pids=() kamailio_pid=""
  python3 - "$out/results.jsonl" "$CLUSTER_WORK/load.json" <<EOF
import json, sys
r = json.load(open(sys.argv[2]))
window = ($t1 - $t0) * $hz
pct = lambda a, b: round(100 * (b - a) / window, 1)
row = {"mode": "$mode", "nodes": $nodes, "concurrency": $c, "attempted": r["attempted"],
       "completed": r["completed"], "failed": r["failed"], "peak_calls": r["peak_calls"],
       "bookings": $booked, "doubled": $doubled, "calls_per_node": [$(IFS=,; echo "${per_node[*]}")],
       "answer": {k: r["answer"][k] for k in ("p50_ms", "p99_ms", "max_ms")},
       "nodes_pct_core": pct($a_nodes, $b_nodes), "kamailio_pct_core": pct($a_kam, $b_kam),
       "caller_pct_core": pct($a_load, $b_load), "postgres_pct_core": pct($a_pg, $b_pg),
       "kamailio_cpu_ms": round(1000 * ($k1 - $k0) / $hz),
       "elapsed_s": $elapsed}
open(sys.argv[1], "a").write(json.dumps(row) + "\n")
print(json.dumps(row))
EOF
}

for c in $steps; do
  step direct 1 "$c"
  for nodes in $node_counts; do step proxy "$nodes" "$c"; done
done

python3 - "$out/results.jsonl" >"$out/results.md" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
idle = {r["concurrency"]: r["kamailio_cpu_ms"] for r in rows if r["mode"] == "direct"}
print("| Calls at once | Path | Calls placed / completed / failed | Bookings (doubled) | Calls per node | INVITE→200 p50 / p99 / max | Nodes (core 0) | Kamailio | Caller | PostgreSQL | Kamailio per call |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    direct = r["mode"] == "direct"
    path = "straight to 1 node" if direct else f"Kamailio → {r['nodes']} node{'s' if r['nodes'] > 1 else ''}"
    per_call = "probes only" if direct else \
        f"{(r['kamailio_cpu_ms'] - idle.get(r['concurrency'], 0)) / max(r['attempted'], 1):.2f} ms"
    a = r["answer"]
    print(f"| {r['concurrency']} | {path} | {r['attempted']} / {r['completed']} / {r['failed']} | {r['bookings']} ({r['doubled']}) | "
          f"{' + '.join(map(str, r['calls_per_node']))} | {a['p50_ms']} / {a['p99_ms']} / {a['max_ms']} ms | "
          f"{r['nodes_pct_core']} % | {r['kamailio_pct_core']} % | {r['caller_pct_core']} % | {r['postgres_pct_core']} % | "
          f"{per_call} |")
EOF
cat "$out/results.md"
echo "results in $out"
