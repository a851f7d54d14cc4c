#!/usr/bin/env bash
# Interop with a second real softphone: linphonec (Debian package linphone-cli, liblinphone
# 5.1), configured as a new user would (a linphonerc given with -c: no account, no
# registration, one codec, sound from files), calls `ivr demo` on loopback once per codec and
# per way of sending the keys: RFC 4733 telephone-events (`[sip] use_rfc2833=1`), SIP INFO
# (`use_info=1 use_rfc2833=0`: application/dtmf-relay) and in-band tones (both 0: no
# telephone-event in the offer, so the tones are mixed into the audio). Each call logs in with
# the demo codes, cancels and books tomorrow's meal, and hangs up. Each cell is green when the
# call was answered with the codec offered, its record (`ivr phone calls`) says it logged in,
# cancelled 1 and booked 1 (so every digit counted once) and that the caller hung up, and
# linphonec's own log shows the keys went out the way the column says (RFC 4733 events sent
# and no INFO; INFO requests and no telephone-event in the SDP; neither, for in-band).
# Prints the matrix as a table; exits 1 if a cell is red.
#
#   sipp-scenarios/interop/linphone.sh [CODEC…]     (default: PCMU PCMA opus)
#
# Environment: IVR_BIN (default: cargo build --features devtools), LINPHONEC (default:
# linphonec), KEEP=1 keeps the temporary folder (the demos' logs, linphonec's logs).
#
# In-band tones with Opus come from the microphone: mediastreamer2 (5.1) generates in-band
# DTMF only on PCMU and PCMA (audiostream.c); on any other codec without a telephone-event
# payload it hands the key to the RTP sender, which logs "There is no usable telephone-event
# payload type configured in the RTP session. The DTMF cannot be sent." and drops it. So that
# cell's keys are tones in the sound linphonec's microphone (its file source) picks up, as
# from a phone held to a tone dialler or a gateway that passes tones through as audio, encoded
# by linphonec's own Opus encoder; the cell says so ("tones in the microphone").
#
# Keys reach linphonec on its standard input (a FIFO), one key a line: linphonec sends a line
# of digits as DTMF, sleeping one second after each key (`ms_sleep(1)` in its console), and
# its core (SIP, timers) only runs while it waits for the next line. So each key waits for the
# prompt that follows the last one, and the pause after a key starts there: a key takes a
# second plus its pause. (Without that idle time linphonec reads the answers to its INFO
# requests late, queues the next INFO behind them in the dialog, and sends a burst seconds
# later: the server then sees a 6 s gap inside a code.) At that pace a call lasts about 40 s,
# so the three columns run side by side, each against a demo of its own, and the codecs one
# after the other within a column.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
linphonec="${LINPHONEC:-linphonec}"
command -v "$linphonec" >/dev/null || { echo "interop: linphonec not found (apt-get install linphone-cli)" >&2; exit 2; }
command -v sox >/dev/null || { echo "interop: sox not found (apt-get install sox)" >&2; exit 2; }
bin="${IVR_BIN:-}"
if [[ -z "$bin" ]]; then
  (cd "$root" && cargo build --quiet --features devtools --bin ivr)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/ivr"
fi
codecs=("$@")
((${#codecs[@]})) || codecs=(PCMU PCMA opus)
methods=(rfc4733 info inband)

work="$(mktemp -d)"
demos=() columns=()
cleanup() {
  # The columns still running, the cell each is in and its linphonec (their pids in *.pid),
  # and the demos.
  local pid
  for pid in "${columns[@]}" $(cat "$work"/*.pid 2>/dev/null) "${demos[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  [[ -n "${KEEP:-}" ]] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
free_port() { # PROTO
  python3 -c 'import socket,sys; t=socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM; s=socket.socket(socket.AF_INET,t); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"
}

# start_demo NAME PORT: the demo on a Monday at 08:00 (tomorrow's meal is open until 10:00),
# one per column; its pid joins $demos. ready NAME PID waits for its banner.
start_demo() {
  "$bin" --sip-listen "127.0.0.1:$2" --web-listen 127.0.0.1:0 demo \
    --data-dir "$work/$1" --now 2026-03-09T08:00:00+01:00 >"$work/$1.out" 2>"$work/$1.err" &
  demos+=($!)
}
ready() {
  for _ in $(seq 1 600); do
    grep -q "ligne vocale prête" "$work/$1.out" 2>/dev/null && return
    kill -0 "$2" 2>/dev/null || { cat "$work/$1.err" >&2; echo "interop: the demo $1 did not start" >&2; exit 1; }
    sleep 0.1
  done
  echo "interop: the demo $1 did not start in 60 s" >&2
  exit 1
}
declare -A port
for method in "${methods[@]}"; do
  port[$method]="$(free_port udp)"
  start_demo "demo-$method" "${port[$method]}"
done
i=0
for method in "${methods[@]}"; do
  ready "demo-$method" "${demos[$i]}"
  i=$((i + 1))
done
# What the phone's microphone sends (linphonec's file mode plays its `hold_music`): silence,
# at the codec's own rate; without it linphonec would play its on-hold music, into the tone
# detector.
sox -n -r 8000 -c 1 -b 16 "$work/silence-8000.wav" trim 0 90
sox -n -r 48000 -c 2 -b 16 "$work/silence-48000.wav" trim 0 90

# tones_wav OUT RATE CHANNELS STEP…: DTMF tones as sound, a file linphonec's microphone plays;
# each STEP is a key (0-9, #, *: a 120 ms tone, two sines at -13 dBFS each, then 250 ms of
# silence) or a pause in seconds (p2.5).
tones_wav() {
  local out="$1" rate="$2" channels="$3" step n=0 low high
  shift 3
  local dir="$out.parts"
  mkdir -p "$dir"
  declare -A low_of=([1]=697 [2]=697 [3]=697 [4]=770 [5]=770 [6]=770 [7]=852 [8]=852 [9]=852
    ['*']=941 [0]=941 ['#']=941)
  declare -A high_of=([1]=1209 [2]=1336 [3]=1477 [4]=1209 [5]=1336 [6]=1477 [7]=1209 [8]=1336
    [9]=1477 ['*']=1209 [0]=1336 ['#']=1477)
  for step in "$@"; do
    n=$((n + 1))
    if [[ "$step" == p* ]]; then
      sox -n -r "$rate" -c "$channels" -b 16 "$dir/$(printf %03d $n).wav" trim 0 "${step#p}"
    else
      low="${low_of[$step]}" high="${high_of[$step]}"
      # Two files mixed (-m halves each), so both tones have the same level: sox's own
      # `synth … sine mix` leaves the first twice as loud, a 6 dB twist no detector accepts.
      sox -n -r "$rate" -c 1 -b 16 "$dir/low.wav" synth 0.12 sine "$low" vol 0.45
      sox -n -r "$rate" -c 1 -b 16 "$dir/high.wav" synth 0.12 sine "$high" vol 0.45
      sox -m "$dir/low.wav" "$dir/high.wav" -c "$channels" "$dir/$(printf %03d $n)a.wav"
      sox -n -r "$rate" -c "$channels" -b 16 "$dir/$(printf %03d $n)b.wav" trim 0 0.25
    fi
  done
  rm "$dir/low.wav" "$dir/high.wav"
  sox "$dir"/*.wav "$out"
  rm -r "$dir"
}
# The Opus in-band cell's microphone: the same keys at the same pace as the keypad cells
# (the codes over the welcome, cancel tomorrow's meal and not the other child's, book it
# again), then silence.
tones_wav "$work/keys-48000.wav" 48000 2 p1.5 3 0 1 1 '#' 7 7 0 0 2 1 '#' p2 \
  2 p0.35 1 p0.35 1 p0.35 1 p0.35 2 p2.5 1 p0.35 1 p0.35 1 p0.35 1 p60

calls() { "$bin" --database-url "sqlite://$work/$1/ivr.sqlite" phone calls --date 2026-03-09; }
lines_of() { if [[ -z "$1" ]]; then echo 0; else wc -l <<<"$1"; fi; }

# One call from linphonec offering CODEC and sending its keys by METHOD; prints "ok" (for
# Opus in-band, "ok (tones in the microphone)") or what went wrong.
cell() {
  local codec="$1" method="$2" conf="$work/linphone-$1-$2" before after record
  local demo="demo-$method" dial="sip:0476549985@127.0.0.1:${port[$2]}"
  echo "$BASHPID" >"$conf-cell.pid"
  trap '' PIPE  # a linphonec gone early makes a write fail, not this cell
  mkdir -p "$conf/home/.local/share/linphone" "$conf/home/run"
  chmod 700 "$conf/home/run"
  local rate=8000 channels=1 info=0 rfc2833=0
  [[ "$codec" == opus ]] && rate=48000 channels=2
  case "$method" in
    rfc4733) rfc2833=1 ;;
    info) info=1 ;;
  esac
  # The microphone plays silence, or for Opus in-band the keys as tones (see above).
  local mic="$work/silence-$rate.wav"
  [[ "$codec" == opus && "$method" == inband ]] && mic="$work/keys-48000.wav"
  # One codec and no other (`add_missing_audio_codecs=0`, else liblinphone adds back every
  # codec it supports), SIP and RTP on loopback, no video, no echo canceller on silence.
  cat >"$conf/linphonerc" <<CONF
[sip]
sip_port=$(free_port udp)
sip_tcp_port=0
sip_tls_port=0
bind_address=127.0.0.1
contact="Parent" <sip:parent@127.0.0.1>
guess_hostname=0
use_ipv6=0
ipv6_migration_done=1
use_info=$info
use_rfc2833=$rfc2833
[rtp]
bind_address=127.0.0.1
audio_rtp_port=$((30000 + RANDOM % 2000 * 2))-$((34100 + RANDOM % 2000 * 2))
[sound]
hold_music=$mic
echocancellation=0
[video]
enabled=0
[misc]
add_missing_audio_codecs=0
[audio_codec_0]
mime=$codec
rate=$rate
channels=$channels
enabled=1
CONF
  before="$(calls "$demo")"
  local confirmed
  confirmed="$(grep -c "call confirmed" "$work/$demo.err" || true)"
  mkfifo "$conf/in"
  HOME="$conf/home" XDG_RUNTIME_DIR="$conf/home/run" timeout 90 \
    "$linphonec" -c "$conf/linphonerc" -d 6 -l "$conf/log" <"$conf/in" >"$conf/out" 2>&1 &
  local phone_pid=$!
  echo "$phone_pid" >"$conf.pid"
  local to sent=0
  exec {to}>"$conf/in"
  # send LINE: one line to linphonec; settled: until it has dealt with every line sent (its
  # prompt is back once per line).
  send() { echo "$1" >&"$to" 2>/dev/null || true; sent=$((sent + 1)); }
  settled() {
    for _ in $(seq 1 100); do
      [[ "$(grep -o "linphonec> " "$conf/out" | wc -l)" -gt "$sent" ]] && return
      sleep 0.05
    done
  }
  hang_up() {
    send quit
    exec {to}>&-
    for _ in $(seq 1 50); do kill -0 "$phone_pid" 2>/dev/null || break; sleep 0.1; done
    kill "$phone_pid" 2>/dev/null || true
    wait "$phone_pid" 2>/dev/null || true
    rm -f "$conf.pid"
  }
  send "soundcard use files"  # no sound card: play hold_music, play what it hears nowhere
  settled
  send "call $dial"
  local answered=""
  for _ in $(seq 1 100); do
    [[ "$(grep -c "call confirmed" "$work/$demo.err" || true)" -gt "$confirmed" ]] && answered=1 && break
    sleep 0.1
  done
  if [[ -z "$answered" ]]; then
    hang_up
    echo "not answered: $(grep -m1 -iE "error|fail|declined|not found" "$conf/out" || echo "no call")"
    return
  fi
  settled
  # Each pause comes after linphonec is done with the key: its core only runs between lines.
  press() { local gap="$1"; shift; for k in "$@"; do send "$k"; settled; sleep "$gap"; done; }
  if [[ "$mic" == "$work/keys-48000.wav" ]]; then
    sleep 19                                 # the microphone types (15.5 s), then 3 s
  else
    sleep 1
    press 0.3 3 0 1 1 '#' 7 7 0 0 2 1 '#'   # the codes, over the welcome
    sleep 2
    press 0.6 2 1 1 1 2                      # cancel tomorrow's meal, not Théo's too
    sleep 2.5
    press 0.6 1 1 1 1                        # and book it again
    sleep 3
  fi
  send terminate                           # hang up
  for _ in $(seq 1 50); do
    after="$(calls "$demo")"
    [[ "$(lines_of "$after")" -gt "$(lines_of "$before")" ]] && break
    sleep 0.2
  done
  hang_up
  record="$(tail -n1 <<<"$after")"
  local got
  got="$(grep "call confirmed" "$work/$demo.err" | tail -n1 | sed 's/.*codec=//')"
  if [[ "$(lines_of "$after")" -le "$(lines_of "$before")" ]]; then echo "no call record"; return; fi
  if [[ "${got,,}" != "${codec,,}" ]]; then echo "answered with $got"; return; fi
  local secure
  secure="$(grep "call confirmed" "$work/$demo.err" | tail -n1 | sed 's/.*srtp=\([a-z]*\).*/\1/')"
  [[ "$secure" == false ]] || { echo "srtp=$secure"; return; }
  # How the keys went out, from linphonec's log: RFC 4733 events finished, INFO requests (one
  # CSeq each, whatever the retransmissions), and whether any SDP named telephone-event.
  local events infos tev
  events="$(grep -c "Finished sending RFC2833 dtmf" "$conf/log" || true)"
  infos="$(grep -oE "^CSeq: [0-9]+ INFO" "$conf/log" | sort -u | wc -l)"
  tev="$(grep -cE "^a=rtpmap:[0-9]+ telephone-event" "$conf/log" || true)"
  if [[ "$record" != *" changed logins_failed=0 booked=1 cancelled=1 "*"ended_by=caller" ]]; then
    echo "record: ${record#* * }"
    return
  fi
  case "$method" in
    rfc4733) [[ "$events" -eq 21 && "$infos" -eq 0 ]] \
      || { echo "sent $events RFC 4733 events and $infos INFO"; return; } ;;
    info) [[ "$infos" -eq 21 && "$events" -eq 0 && "$tev" -eq 0 ]] \
      || { echo "sent $infos INFO, $events RFC 4733 events, telephone-event in SDP: $tev"; return; } ;;
    inband) [[ "$infos" -eq 0 && "$events" -eq 0 && "$tev" -eq 0 ]] \
      || { echo "sent $infos INFO, $events RFC 4733 events, telephone-event in SDP: $tev"; return; } ;;
  esac
  if [[ "$mic" == "$work/keys-48000.wav" ]]; then echo "ok (tones in the microphone)"; else echo ok; fi
}

# column METHOD: that column's cells, one after the other, one "CODEC<tab>RESULT" line each.
column() {
  local codec
  for codec in "${codecs[@]}"; do
    printf '%s\t%s\n' "$codec" "$(cell "$codec" "$1")"
    rm -f "$work/linphone-$codec-$1-cell.pid"
  done
}
for method in "${methods[@]}"; do
  column "$method" >"$work/column-$method" &
  columns+=($!)
done
for pid in "${columns[@]}"; do wait "$pid" || true; done
columns=()

declare -A digits=([rfc4733]="RFC 4733" [info]="SIP INFO" [inband]="in-band")
printf '%-10s %-14s %-10s %s\n' "codec" "transport" "digits" "result"
failed=0
for method in "${methods[@]}"; do
  while IFS=$'\t' read -r codec result; do
    printf '%-10s %-14s %-10s %s\n' "$codec" "UDP, RTP" "${digits[$method]}" "$result"
    [[ "$result" == ok || "$result" == "ok (tones in the microphone)" ]] || failed=1
  done <"$work/column-$method"
done
exit "$failed"
