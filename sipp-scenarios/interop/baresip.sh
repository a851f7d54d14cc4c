#!/usr/bin/env bash
# Interop with a real softphone: baresip (Debian package baresip-core), configured as a new
# user would (an account without registration, one codec, its keypad sending RFC 4733
# telephone-events), calls `ivr demo` on loopback once per codec, logs in with the demo
# codes, cancels and books tomorrow's meal, and hangs up. Each cell is green when the call
# was answered with the codec offered, and its record (`ivr phone calls`) says it logged in,
# cancelled 1 and booked 1 (so every digit counted once) and that the caller hung up.
# Then the same calls over SIP over TLS with SRTP (baresip's `srtp` module, `mediaenc=srtp-mand`:
# RTP/SAVP keyed by SDES) against a second demo whose line requires SRTP (`[sip] srtp =
# "require"`), so a call answered there is an SRTP call, and its digits were read from SRTP.
# Prints the matrix as a table; exits 1 if a cell is red.
#
#   sipp-scenarios/interop/baresip.sh [CODEC…]     (default: PCMU PCMA opus)
#
# Environment: IVR_BIN (default: cargo build --features devtools), BARESIP (default: baresip).
# Keys reach baresip through its UDP console (the `cons` module), as keys on its keypad.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
baresip="${BARESIP:-baresip}"
command -v "$baresip" >/dev/null || { echo "interop: baresip not found (apt-get install baresip-core)" >&2; exit 2; }
command -v sox >/dev/null || { echo "interop: sox not found (apt-get install sox)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "interop: openssl not found (apt-get install openssl)" >&2; exit 2; }
bin="${IVR_BIN:-}"
if [[ -z "$bin" ]]; then
  (cd "$root" && cargo build --quiet --features devtools --bin ivr)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/ivr"
fi
codecs=("$@")
((${#codecs[@]})) || codecs=(PCMU PCMA opus)

work="$(mktemp -d)"
demo_pid="" tls_demo_pid="" phone_pid=""
cleanup() {
  for pid in "$phone_pid" "$demo_pid" "$tls_demo_pid"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  [[ -n "${KEEP:-}" ]] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
free_port() { # PROTO
  python3 -c 'import socket,sys; t=socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM; s=socket.socket(socket.AF_INET,t); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"
}

# An authority of this run's own, and the line's certificate for 127.0.0.1 signed by it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=interop CA" -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$work/sip.key" -out "$work/sip.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$work/ext"
openssl x509 -req -in "$work/sip.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
  -days 2 -extfile "$work/ext" -out "$work/sip.crt" 2>/dev/null

# start_demo NAME PORT [CONFIG]: the demo on a Monday at 08:00 (tomorrow's meal is open until
# 10:00); its pid in $started.
start_demo() {
  local name="$1" at="$2" config=()
  [[ -n "${3:-}" ]] && config=(--config "$3")
  "$bin" --sip-listen "127.0.0.1:$at" --web-listen 127.0.0.1:0 demo "${config[@]}" \
    --data-dir "$work/$name" --now 2026-03-09T08:00:00+01:00 >"$work/$name.out" 2>"$work/$name.err" &
  started=$!
  for _ in $(seq 1 300); do
    grep -q "ligne vocale prête" "$work/$name.out" 2>/dev/null && return
    kill -0 "$started" 2>/dev/null || { cat "$work/$name.err" >&2; echo "interop: the demo $name did not start" >&2; exit 1; }
    sleep 0.1
  done
}
port="$(free_port udp)"
start_demo demo "$port"
demo_pid=$started
tls_port="$(free_port tcp)"
cat >"$work/tls.toml" <<CONF
[sip]
srtp = "require"
[sip.tls]
listen = "127.0.0.1:$tls_port"
certificate = "$work/sip.crt"
key = "$work/sip.key"
CONF
start_demo demo-tls "$(free_port udp)" "$work/tls.toml"
tls_demo_pid=$started
# What the phone's microphone sends: silence, at the codec's own rate (baresip's file source
# does not resample).
sox -n -r 8000 -c 1 -b 16 "$work/silence-8000.wav" trim 0 90
sox -n -r 48000 -c 2 -b 16 "$work/silence-48000.wav" trim 0 90

calls() { "$bin" --database-url "sqlite://$work/$demo/ivr.sqlite" phone calls --date 2026-03-09; }
lines_of() { if [[ -z "$1" ]]; then echo 0; else wc -l <<<"$1"; fi; }

# One call from baresip offering CODEC, in clear over UDP or (MODE tls) over TLS with SRTP;
# prints "ok" or what went wrong.
cell() {
  local codec="$1" mode="$2" conf="$work/baresip-$1-$2" cons sip before after record
  local demo=demo dial="sip:0476549985@127.0.0.1:$port" account="" extra=""
  if [[ "$mode" == tls ]]; then
    demo=demo-tls dial="sip:0476549985@127.0.0.1:$tls_port;transport=tls"
    account=";mediaenc=srtp-mand"
    extra="module			srtp.so
sip_cafile		$work/ca.crt"
  fi
  mkdir -p "$conf"
  cons="$(free_port udp)"; sip="$(free_port tcp)"
  # baresip names Opus with its rate and channels in the account's codec list.
  local offered="$codec"
  [[ "$codec" == opus ]] && offered="opus/48000/2"
  local rate=8000
  [[ "$codec" == opus ]] && rate=48000
  cat >"$conf/config" <<CONF
poll_method		epoll
sip_listen		127.0.0.1:$sip
audio_player		aufile,$conf/heard.wav
audio_source		aufile,$work/silence-$rate.wav
audio_alert		aufile,/dev/null
module_path		/usr/lib/baresip/modules
module			stdio.so
module			cons.so
module			g711.so
module			opus.so
module			aufile.so
module_app		account.so
module_app		menu.so
cons_listen		127.0.0.1:$cons
rtp_ports		$((30000 + RANDOM % 2000 * 2))-$((34100 + RANDOM % 2000 * 2))
$extra
CONF
  echo "<sip:parent@127.0.0.1>;regint=0;audio_codecs=$offered$account" >"$conf/accounts"
  : >"$conf/contacts"
  before="$(calls)"
  local confirmed
  confirmed="$(grep -c "call confirmed" "$work/$demo.err" || true)"
  timeout 60 "$baresip" -f "$conf" -e "/dial $dial" >"$conf/out" 2>&1 &
  phone_pid=$!
  local answered=""
  for _ in $(seq 1 100); do
    [[ "$(grep -c "call confirmed" "$work/$demo.err" || true)" -gt "$confirmed" ]] && answered=1 && break
    sleep 0.1
  done
  if [[ -z "$answered" ]]; then
    kill "$phone_pid" 2>/dev/null || true
    wait "$phone_pid" 2>/dev/null || true
    phone_pid=""
    echo "not answered: $(strings "$conf/out" | grep -m1 -iE "error|fail|closed" || echo "no call")"
    return
  fi
  key() { python3 -c 'import socket,sys; socket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(sys.argv[1].encode(),("127.0.0.1",int(sys.argv[2])))' "$1" "$cons"; }
  press() { local gap="$1"; shift; for k in "$@"; do key "$k"; sleep "$gap"; done; }
  sleep 1
  press 0.3 3 0 1 1 '#' 7 7 0 0 2 1 '#'   # the codes, over the welcome
  sleep 2
  press 0.6 2 1 1 1 2                      # cancel tomorrow's meal, not Théo's too
  sleep 2.5
  press 0.6 1 1 1 1                        # and book it again
  sleep 3
  key b                                    # hang up
  for _ in $(seq 1 50); do
    after="$(calls)"
    [[ "$(lines_of "$after")" -gt "$(lines_of "$before")" ]] && break
    sleep 0.2
  done
  kill "$phone_pid" 2>/dev/null || true
  wait "$phone_pid" 2>/dev/null || true
  phone_pid=""
  record="$(tail -n1 <<<"$after")"
  local got
  got="$(grep "call confirmed" "$work/$demo.err" | tail -n1 | sed 's/.*codec=//')"
  if [[ "$(lines_of "$after")" -le "$(lines_of "$before")" ]]; then echo "no call record"; return; fi
  if [[ "${got,,}" != "${codec,,}" ]]; then echo "answered with $got"; return; fi
  local secure
  secure="$(grep "call confirmed" "$work/$demo.err" | tail -n1 | sed 's/.*srtp=\([a-z]*\).*/\1/')"
  [[ "$secure" == "$([[ "$mode" == tls ]] && echo true || echo false)" ]] || { echo "srtp=$secure"; return; }
  [[ "$record" == *" changed logins_failed=0 booked=1 cancelled=1 "*"ended_by=caller" ]] \
    || { echo "record: ${record#* * }"; return; }
  echo ok
}

printf '%-10s %-14s %-10s %s\n' "codec" "transport" "digits" "result"
failed=0
for mode in udp tls; do
  for codec in "${codecs[@]}"; do
    result="$(cell "$codec" "$mode")"
    transport="UDP, RTP"
    [[ "$mode" == tls ]] && transport="TLS, SRTP"
    printf '%-10s %-14s %-10s %s\n' "$codec" "$transport" "RFC 4733" "$result"
    [[ "$result" == ok ]] || failed=1
  done
done
exit "$failed"
