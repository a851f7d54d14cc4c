# The local cluster's parts, for deploy/cluster.sh and bench/cluster-faults.sh (sourced, not
# run): NODES `ivr demo` nodes on 127.0.0.2, 127.0.0.3, … sharing one PostgreSQL database,
# Kamailio (deploy/kamailio/kamailio.cfg) on 127.0.0.1:5060 in front of their SIP, HAProxy
# (deploy/haproxy/haproxy.cfg) on 127.0.0.1:8080 in front of their web. Everything runs in
# the foreground of this shell's children, its files in $CLUSTER_WORK, and cluster_down
# stops what cluster_up started.
#
# Set before sourcing (defaults): IVR_BIN (cargo build --features devtools), CLUSTER_WORK (a
# new temporary folder), CLUSTER_DB (postgres://postgres@127.0.0.1:5432/ivr_cluster: dropped
# and made again by cluster_up), NODES (3), SIP_EDGE (127.0.0.1:5060), WEB_EDGE
# (127.0.0.1:8080), GRACE_SECS (30) and MAX_CALLS (2000) for each node's [sip].

cluster_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER_DB="${CLUSTER_DB:-postgres://postgres@127.0.0.1:5432/ivr_cluster}"
NODES="${NODES:-3}"
SIP_EDGE="${SIP_EDGE:-127.0.0.1:5060}"
WEB_EDGE="${WEB_EDGE:-127.0.0.1:8080}"
CLUSTER_WORK="${CLUSTER_WORK:-$(mktemp -d)}"
declare -a node_pids=()
kamailio_pid="" haproxy_pid=""

cluster_need() {
  local tool
  for tool in kamailio haproxy psql python3; do
    command -v "$tool" >/dev/null || {
      echo "cluster: $tool not found (apt-get install kamailio haproxy postgresql-client python3)" >&2
      return 2
    }
  done
  if [[ -z "${IVR_BIN:-}" ]]; then
    (cd "$cluster_root" && cargo build --quiet --features devtools --bin ivr)
    IVR_BIN="${CARGO_TARGET_DIR:-$cluster_root/target}/debug/ivr"
  fi
}

# node_ip N: node N's address (127.0.0.(N+1)).
node_ip() { echo "127.0.0.$(($1 + 1))"; }

# The database URL's server (without the database) and the database's name.
db_admin_url() { echo "${CLUSTER_DB%/*}/postgres"; }
db_name() { local n="${CLUSTER_DB##*/}"; echo "${n%%\?*}"; }

# A fresh database for the cluster (dropped first if there).
cluster_database() {
  local name
  name="$(db_name)"
  [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "cluster: database name $name" >&2; return 2; }
  psql -q -v ON_ERROR_STOP=1 "$(db_admin_url)" \
    -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >/dev/null
}

# Each node's configuration: every call comes from Kamailio (a trusted trunk, so the
# per-source brake does not count every caller as one), every web request from HAProxy
# (its X-Forwarded-For believed), the shared database.
cluster_node_config() {
  local edge_ip="${SIP_EDGE%:*}" web_ip="${WEB_EDGE%:*}"
  cat >"$CLUSTER_WORK/node.toml" <<CONF
[server]
database_url = "$CLUSTER_DB"
[sip]
trusted_trunks = ["$edge_ip"]
shutdown_grace_secs = ${GRACE_SECS:-30}
max_calls = ${MAX_CALLS:-2000}
[web]
behind_proxy = true
trusted_proxies = ["$web_ip"]
CONF
}

# node_start N: node N (`ivr demo` on the shared database: the demo town is seeded once,
# idempotently); waits until its line is ready.
node_start() {
  local n="$1" ip
  ip="$(node_ip "$n")"
  mkdir -p "$CLUSTER_WORK/node$n"
  # --database-url too: without it, `ivr demo` keeps to its data folder's SQLite file.
  (cd "$cluster_root" && exec "$IVR_BIN" --config "$CLUSTER_WORK/node.toml" \
    --database-url "$CLUSTER_DB" --sip-listen "$ip:5060" --web-listen "$ip:8080" demo \
    --data-dir "$CLUSTER_WORK/node$n" --metrics-listen "$ip:9100" \
    >>"$CLUSTER_WORK/node$n.out" 2>>"$CLUSTER_WORK/node$n.err") &
  node_pids[n]=$!
  local _
  for _ in $(seq 1 600); do
    grep -q "ligne vocale prête" "$CLUSTER_WORK/node$n.out" 2>/dev/null && return 0
    kill -0 "${node_pids[n]}" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$CLUSTER_WORK/node$n.err" >&2
  echo "cluster: node $n did not start" >&2
  return 1
}

# node_signal N SIGNAL: sends SIGNAL to node N (KILL: it dies at once; TERM: it drains).
node_signal() { kill -s "$2" "${node_pids[$1]}"; }

# node_wait N SECONDS: waits for node N to exit; its status, or 124 after SECONDS.
node_wait() {
  local _
  for _ in $(seq 1 $(($2 * 10))); do
    if ! kill -0 "${node_pids[$1]}" 2>/dev/null; then
      wait "${node_pids[$1]}"
      return $?
    fi
    sleep 0.1
  done
  return 124
}

cluster_kamailio() {
  local list="$CLUSTER_WORK/dispatcher.list" n
  : >"$list"
  for n in $(seq 1 "$NODES"); do echo "1 sip:$(node_ip "$n"):5060" >>"$list"; done
  kamailio -DD -E -m 64 -M 8 -f "$cluster_root/deploy/kamailio/kamailio.cfg" \
    -P "$CLUSTER_WORK/kamailio.pid" \
    -A "LISTEN=udp:$SIP_EDGE" -A "DISPATCHER_LIST=\"$list\"" -A "TRUNK=\"${TRUNK:-127.0.0.1}\"" \
    -A "CTL_SOCKET=\"unix:$CLUSTER_WORK/kamailio.ctl\"" ${KAMAILIO_DEFINES:-} \
    >"$CLUSTER_WORK/kamailio.log" 2>&1 &
  kamailio_pid=$!
}

cluster_haproxy() {
  IVR_WEB_LISTEN="$WEB_EDGE" IVR_RUN="$CLUSTER_WORK" IVR_NODE1="$(node_ip 1):8080" \
    IVR_NODE2="$(node_ip 2):8080" IVR_NODE3="$(node_ip 3):8080" \
    haproxy -db -f "$cluster_root/deploy/haproxy/haproxy.cfg" >"$CLUSTER_WORK/haproxy.log" 2>&1 &
  haproxy_pid=$!
}

# nodes_active: how many nodes Kamailio's dispatcher has active ("AP" in dispatcher.list).
nodes_active() {
  kamcmd -s "unix:$CLUSTER_WORK/kamailio.ctl" dispatcher.list 2>/dev/null | grep -c "FLAGS: AP" || true
}

# wait_nodes_active COUNT SECONDS: until the dispatcher has COUNT active nodes.
wait_nodes_active() {
  local _
  for _ in $(seq 1 $(($2 * 10))); do
    [[ "$(nodes_active)" -eq "$1" ]] && return 0
    sleep 0.1
  done
  echo "cluster: $(nodes_active) node(s) active after $2 s, not $1" >&2
  return 1
}

# cluster_up: the database, the nodes (the first alone, as it seeds the demo), Kamailio and
# HAProxy; returns once the dispatcher sees every node and the portal answers.
cluster_up() {
  cluster_need || return
  cluster_database
  cluster_node_config
  node_start 1 || return
  local n
  for n in $(seq 2 "$NODES"); do node_start "$n" || return; done
  cluster_kamailio
  cluster_haproxy
  wait_nodes_active "$NODES" 15 || { tail -n 20 "$CLUSTER_WORK/kamailio.log" >&2; return 1; }
  local _
  for _ in $(seq 1 100); do
    curl -fsS "http://$WEB_EDGE/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  tail -n 20 "$CLUSTER_WORK/haproxy.log" >&2
  echo "cluster: the portal does not answer on $WEB_EDGE" >&2
  return 1
}

# cluster_down: stops what cluster_up started (the nodes drain for at most a few seconds).
cluster_down() {
  local pid
  for pid in "$haproxy_pid" "$kamailio_pid" "${node_pids[@]}"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
