#!/usr/bin/env bash
# A local cluster with one command (issue 15): three `ivr demo` nodes on 127.0.0.2,
# 127.0.0.3 and 127.0.0.4 sharing one PostgreSQL database (ivr_cluster, made afresh),
# Kamailio on 127.0.0.1:5060 in front of their SIP (dispatcher, OPTIONS probing, failover,
# pike and ratelimit, record-routing), HAProxy on 127.0.0.1:8080 in front of their web
# (health checks). Prints how to call it and what to try, then runs until Ctrl-C, and stops
# everything it started.
#
#   deploy/cluster.sh
#
# Environment: IVR_BIN (default: cargo build --features devtools), CLUSTER_DB
# (postgres://postgres@127.0.0.1:5432/ivr_cluster), KEEP=1 keeps the logs' folder.
# Needs: kamailio, haproxy, postgresql-client (Debian packages) and a PostgreSQL server.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster/lib.sh"
finish() {
  cluster_down
  [[ -n "${KEEP:-}" ]] && echo "logs kept in $CLUSTER_WORK" >&2 || rm -rf "$CLUSTER_WORK"
}
trap finish EXIT
trap 'exit 0' INT TERM
cluster_up
cat <<TEXT
Grappe locale prête : $NODES nœuds derrière Kamailio et HAProxy, une base PostgreSQL ($(db_name)).
  Ligne vocale : sip:mairie@$SIP_EDGE  (Kamailio répartit les appels entre les nœuds)
  Portail : http://$WEB_EDGE/  (HAProxy ; sessions dans la base : tout nœud sert tout parent)
  Codes de démonstration : enfant 3011 (Angéline) ou 3012 (Théo), payeur 770021.
  Nœuds : $(for n in $(seq 1 "$NODES"); do printf '%s (pid %s)  ' "$(node_ip "$n")" "${node_pids[n]}"; done)
  État des nœuds vu par Kamailio : kamcmd -s unix:$CLUSTER_WORK/kamailio.ctl dispatcher.list
  Essayez : kill -9 d'un nœud (ses appels tombent, les suivants vont aux autres en 2 s),
            kill -TERM d'un nœud (il finit ses appels, n'en reçoit plus, s'arrête).
  Journaux : $CLUSTER_WORK
Ctrl-C arrête tout.
TEXT
while true; do sleep 1; done
