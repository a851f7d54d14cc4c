#!/usr/bin/env bash
# Runs one SIPp scenario of this folder against an `ivr` server, bounded in count and time,
# and prints SIPp's totals.
#
#   sipp-scenarios/run.sh SCENARIO [--rate R] [--concurrency C] [--count N] [--server ADDR]
#                         [--inf FILE] [--hold MS] [--codec pcmu|opus] [--timeout S]
#                         [--out DIR] [--media-port P] [-- extra sipp arguments]
#
# SCENARIO is a file name here with or without .xml (smoke, parent-call-info, options...).
# (`run.sh SCENARIO RATE CONCURRENCY COUNT`, numbers only, runs check.sh: CI's smoke check
# with a server of its own.)
#   --rate, -r R          new calls per second (default 10)
#   --concurrency, -l C   most calls at once (default 50)
#   --count, -m N         calls in all, then stop (default 100)
#   --server, -s ADDR     the server's SIP address (default 127.0.0.1:5060)
#   --inf FILE            injection file (-inf) for scenarios that read [fieldN]
#                         (parent-call-info: bench/families.py writes one)
#   --hold, -d MS         the pause of scenarios that hold the line with <pause/> (default 2000)
#   --codec pcmu|opus     the codec offered (default pcmu; the pcap scenarios need pcmu)
#   --timeout S           SIPp stops after S seconds whatever happens (default: the count at
#                         the rate, plus 120 s)
#   --out DIR             where SIPp's statistics, response times and errors go
#                         (default a new folder under /tmp)
#   --media-port P        SIPp's RTP port (-mp, default 6000)
#   --local-port P        SIPp's SIP port (-p, default 5070: never the server's 5060)
#
# The caller echoes the server's RTP back (-rtp_echo), as a phone sends its own, so the
# server's media-inactivity timeout does not end held calls; the pcap scenarios play the
# shipped telephone-event pcaps instead (raw socket: run as root).
# Exit status: SIPp's (0 when every call succeeded).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# The CI form, `run.sh SCENARIO RATE CONCURRENCY COUNT` (numbers only): check.sh starts its
# own server and checks its metrics afterwards.
if [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]]; then exec "$here/check.sh" "$@"; fi
usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
# Without arguments: the scenarios there are, and the call a new user wants first.
scenarios() {
  echo "Scenarios:"
  for f in "$here"/*.xml; do
    printf '  %-18s %s\n' "$(basename "$f" .xml)" \
      "$(grep -m1 -o 'scenario name="[^"]*"' "$f" | sed 's/^scenario name="//; s/"$//')"
  done
  echo
  echo "With the demo running (ivr demo), one call that logs in and books a meal:"
  echo "  sipp-scenarios/run.sh book --server 127.0.0.1:5060 --count 1"
  echo "Options: sipp-scenarios/run.sh --help"
  exit 2
}

[ $# -ge 1 ] || scenarios
scenario="$1"; shift
case "$scenario" in -h|--help) usage ;; esac
rate=10 concurrency=50 count=100 server=127.0.0.1:5060 inf="" hold=2000 codec=pcmu
timeout="" out="" media_port=6000 local_port=5070
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rate|-r) rate="$2"; shift 2 ;;
    --concurrency|-l) concurrency="$2"; shift 2 ;;
    --count|-m) count="$2"; shift 2 ;;
    --server|-s) server="$2"; shift 2 ;;
    --inf|-inf) inf="$2"; shift 2 ;;
    --hold|-d) hold="$2"; shift 2 ;;
    --codec) codec="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --media-port|-mp) media_port="$2"; shift 2 ;;
    --local-port|-p) local_port="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument $1" >&2; usage ;;
  esac
done

file="$here/${scenario%.xml}.xml"
[ -f "$file" ] || { echo "run.sh: no scenario $file" >&2; exit 2; }
name="$(basename "${file%.xml}")"

case "$codec" in
  pcmu) keys=(-key codec_pt 0 -key codec_map PCMU/8000 -key te_rate 8000) ;;
  opus) keys=(-key codec_pt 96 -key codec_map opus/48000/2 -key te_rate 48000) ;;
  *) echo "run.sh: codec is pcmu or opus" >&2; exit 2 ;;
esac
if grep -q 'field[0-9]' "$file" && [ -z "$inf" ]; then
  echo "run.sh: $name reads an injection file: give --inf FILE (bench/families.py)" >&2
  exit 2
fi
if [ -z "$timeout" ]; then
  # Every call started at the rate, plus the longest call (long-call holds ~3 minutes).
  timeout=$(( (count + rate - 1) / rate + 120 ))
  if [ "$name" = long-call ]; then timeout=$(( timeout + 240 )); fi
fi
out="${out:-$(mktemp -d "/tmp/sipp-$name.XXXXXX")}"
mkdir -p "$out"
# SIPp runs in $out (its response-time file lands there); pcap paths are relative to here.
[ -e "$out/pcap" ] || ln -s "$here/pcap" "$out/pcap"

media=(-rtp_echo -mp "$media_port")
case "$name" in *pcap*|smoke*|*login*) media=(-mp "$media_port") ;; esac
if [ "$name" = cancel ]; then
  echo "run.sh: cancel needs a server that rings first ([sip] ring_ms = 2000)" >&2
fi

args=(-sf "$file" "$server" -i 127.0.0.1 -p "$local_port" -r "$rate" -l "$concurrency" -m "$count"
  -d "$hold" -timeout "${timeout}s" -nostdin -max_recv_loops 5000 -max_sched_loops 5000
  -buff_size 4194304 -trace_stat -stf "$out/stat.csv" -fd 5
  -trace_rtt -rtt_freq 1 -trace_err -error_file "$out/errors.log"
  -trace_screen -screen_file "$out/screen.log"
  "${keys[@]}" "${media[@]}")
[ -n "$inf" ] && args+=(-inf "$inf")
args+=("${extra[@]}")

echo "run.sh: sipp ${args[*]}" >&2
status=0
(cd "$out" && sipp "${args[@]}" >"$out/sipp.log" 2>&1) || status=$?

# SIPp's totals: the last line of the statistics file (cumulated columns end in (C)).
python3 - "$out/stat.csv" "$name" "$status" <<'EOF'
import csv, sys
path, name, status = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    rows = list(csv.reader(open(path), delimiter=";"))
except OSError:
    print(f"{name}: no statistics (sipp exit {status}); see sipp.log"); sys.exit(0)
head, last = rows[0], rows[-1]
get = lambda col: last[head.index(col)] if col in head else "?"
print(f"{name}: created {get('TotalCallCreated')}, successful {get('SuccessfulCall(C)')}, "
      f"failed {get('FailedCall(C)')}, retransmissions {get('Retransmissions(C)')}, "
      f"elapsed {get('ElapsedTime(C)')}, sipp exit {status}")
for col in head:
    if col.startswith("ResponseTime") and col.endswith("(C)") and "StDev" not in col:
        print(f"  {col}: {get(col)}")
EOF
echo "run.sh: statistics, response times and errors in $out" >&2
exit "$status"
