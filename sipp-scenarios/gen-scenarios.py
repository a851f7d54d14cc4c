#!/usr/bin/env python3
"""Writes this folder's SIPp scenarios (all but the smoke and login+book ones of the SIP and
phone work): parent-call-info.xml, parent-call-pcap.xml, long-call.xml, short-call.xml,
options.xml and cancel.xml.

SIPp has no loop over the characters of a field and numbers CSeq by hand, so every key
press is its own block; generating them keeps the scenarios in step with the dialplan. Run
it from anywhere after changing the flow:
    python3 sipp-scenarios/gen-scenarios.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

INVITE = """
  <!-- The offer: [codec_pt]/[codec_map] and telephone-event, from run.sh's -key values
       (PCMU: 0 PCMU/8000; Opus: 96 opus/48000/2). INVITE to 200 OK is timed (rtd). -->
  <send retrans="500" start_rtd="answer">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Subject: {subject}
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP [codec_pt] 101
      a=rtpmap:[codec_pt] [codec_map]
      a=rtpmap:101 telephone-event/[te_rate]
      a=fmtp:101 0-15
      a=ptime:20
      a=sendrecv

    ]]>
  </send>

  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="answer" rrs="true"/>

  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      [routes]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""

BYE = """
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      [routes]
      Call-ID: [call_id]
      CSeq: {cseq} BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>

  <recv response="200" crlf="true"/>
"""

INFO = """
  <send retrans="500">
    <![CDATA[

      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      [routes]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={signal}
      Duration=160
    ]]>
  </send>
  <recv response="200"/>
  <pause milliseconds="{gap}"/>
"""

PCAP_NAMES = {"#": "pound", "*": "star"}


SHIPPED = "/usr/share/sip-tester/dtmf_2833_{}.pcap"


def renumbered_pcap(key, index):
    """The shipped pcap of `key`, its RTP timestamps and sequence numbers moved so that the
    index-th key press of a call comes after the previous ones.

    Every shipped file has the same SSRC and its own fixed timestamp and sequence numbers:
    played one after the other they look, to an RFC 4733 receiver, like one stream whose
    events go back in time (stale, section 2.5.1.5... dropped) or repeat an event already
    seen (the same key twice in a row is one press). Renumbering keeps the packets as
    shipped otherwise (payload, timing, SSRC)."""
    name = PCAP_NAMES.get(key, key)
    data = bytearray(open(SHIPPED.format(name), "rb").read())
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise SystemExit("shipped pcap is not little-endian libpcap")
    linktype = struct.unpack("<I", data[20:24])[0]
    l2 = {1: 14, 113: 16, 0: 4}[linktype]
    pos, n = 24, 0
    while pos + 16 <= len(data):
        incl = struct.unpack("<I", data[pos + 8:pos + 12])[0]
        pkt = pos + 16
        ip = pkt + l2
        ihl = (data[ip] & 15) * 4
        udp = ip + ihl
        rtp = udp + 8
        struct.pack_into(">H", data, udp + 6, 0)  # no UDP checksum (IPv4 allows it)
        old_seq = struct.unpack(">H", data[rtp + 2:rtp + 4])[0]
        if n == 0:
            first_seq = old_seq
        struct.pack_into(">H", data, rtp + 2, (1000 + index * 50 + old_seq - first_seq) & 0xFFFF)
        struct.pack_into(">I", data, rtp + 4, 8000 + index * 8000)
        pos = pkt + incl
        n += 1
    return bytes(data)


def pcap_key(key, gap, index):
    name = f"pcap/parent-call-{index:02}-{PCAP_NAMES.get(key, key)}.pcap"
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(renumbered_pcap(key, index))
    return f"""
  <nop><action><exec play_pcap_audio="{name}"/></action></nop>
  <pause milliseconds="{gap + 140}"/>
"""


# The parent call: (what the caller does, list of keys, pause after the last key in ms).
# Keys are a field of the injection file ("f3" = [field3]) or a literal key.
def steps(info):
    if info:
        child = [f"f{i}" for i in range(0, 6)]
        payer = [f"f{i}" for i in range(6, 12)]
        date = [f"f{i}" for i in range(12, 16)]
        date_steps = [
            ("date: 3 typed as DDMM", ["3"], 800),
            ("the date, DDMM", date, 1000),
        ]
        service_step = ("service: 1 meal (REPAS)", ["1"], 1500)
    else:
        child = list("3042")
        payer = list("770024")
        date_steps = [("date: 2 the next service day", ["2"], 1000)]
        # The evening club closes the same day at 16:00: the next service day is open.
        service_step = ("service: 4 evening club (SOIR)", ["4"], 1500)
    return (
        [
            ("welcome, then the child code ended by #", None, 1500),
            ("child code", child + ["#"], 800),
            ("payer code", payer + ["#"], 2000),
            ("menu: 1 book", ["1"], 1000),
        ]
        + date_steps
        + [
            service_step,
            ("read-back heard, 1 confirms", ["1"], 3000),
        ]
    )


def scenario(info):
    if info:
        title = "Full parent call, digits by SIP INFO (application/dtmf-relay)"
    else:
        title = "Full parent call, digits by RFC 4733 telephone-event pcaps"
    out = [f'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n']
    if info:
        out.append("""<!--
  Full parent call, keys by SIP INFO (application/dtmf-relay, RFC 2976 bodies as sent by
  most trunks): welcome; child code + #; payer code + #; menu 1 (book); date menu 3 and
  the date as DDMM; service 1 (REPAS, the meal); the read-back, 1 confirms; the confirmation
  is heard; BYE. Every call logs in as a different child: the codes and the date come from
  the injection file (one key per field, since SIPp cannot loop over a field's characters):
    child code digits [field0..field5], payer code digits [field6..field11],
    date DDMM [field12..field15]
  Make the file and the matching families with bench/families.py (bench/README.md); each
  completed call is one new booking in the database.

  Exercises: INVITE/200/ACK with SDP, INFO transactions in the dialog, the dialplan
  interpreter, login and booking in the database, BYE from the caller, INVITE to 200 timing
  (rtd "answer").

  Run (the server with those families, e.g. bench/run.sh does it all):
    sipp-scenarios/run.sh parent-call-info -inf /tmp/calls.csv -r 10 -l 50 -m 100
  Generated by gen-scenarios.py: edit that file, not this one.
-->
""")
    else:
        out.append("""<!--
  Full parent call, keys by the telephone-event pcaps shipped with SIPp
  (/usr/share/sip-tester/dtmf_2833_*.pcap, payload type 101 at 8 kHz: PCMU only), with the
  demo codes of Lina BENALI (child 3042, payer 770024, no demo bookings): welcome; 3042#;
  770024#; 1 (book); 2 (the next service day); 4 (SOIR, the evening club: it closes the
  same day at 16:00, so the next service day is open); 1 confirms; BYE. The first call
  books; the next ones hear that she is already booked: this scenario checks RFC 4733
  digits end to end, not capacity. The pcaps played are the shipped ones with their RTP
  timestamps and sequence numbers renumbered per key press (pcap/, written by
  gen-scenarios.py): as shipped, every file has the same SSRC and its own fixed timestamp,
  so a receiver that follows RFC 4733 drops a key whose timestamp is older than the previous
  one, or the same key twice in a row. pcap play needs root (raw socket).

  Run against `ivr demo`:
    sipp-scenarios/run.sh parent-call-pcap -r 2 -l 10 -m 10
  Generated by gen-scenarios.py: edit that file, not this one.
-->
""")
    out.append(f'<scenario name="{title}">\n')
    out.append(INVITE.format(subject="parent call"))
    cseq = 2
    presses = 0
    for what, keys, gap in steps(info):
        out.append(f"\n  <!-- {what} -->\n")
        if keys is None:
            out.append(f'  <pause milliseconds="{gap}"/>\n')
            continue
        for i, k in enumerate(keys):
            last = i == len(keys) - 1
            g = gap if last else 150
            if k.startswith("f"):
                sig = f"[field{k[1:]}]"
            else:
                sig = k
            if info:
                out.append(INFO.format(cseq=cseq, signal=sig, gap=g))
                cseq += 1
            else:
                if k.startswith("f"):
                    raise SystemExit("pcap keys must be literal")
                out.append(pcap_key(k, g, presses))
                presses += 1
    out.append("\n  <!-- hang up -->\n")
    out.append(BYE.format(cseq=cseq))
    out.append("""
  <!-- INVITE to 200 OK, in ms -->
  <ResponseTimeRepartition value="10, 20, 50, 100, 200, 500, 1000, 2000"/>
  <CallLengthRepartition value="5000, 10000, 15000, 20000, 30000, 60000"/>
</scenario>
""")
    return "".join(out)


HEAD = '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'
TAIL = """
  <ResponseTimeRepartition value="10, 20, 50, 100, 200, 500, 1000, 2000"/>
  <CallLengthRepartition value="{cl}"/>
</scenario>
"""


def options():
    return HEAD + """<!--
  OPTIONS pings, as trunks and load balancers send them to check the server is alive: one
  OPTIONS per "call", answered 200 with an Allow header that lists INVITE. Exercises the
  transaction layer without dialogs or media; the answer time is timed (rtd "options").

  Run:  sipp-scenarios/run.sh options -r 200 -l 100 -m 2000
-->
<scenario name="OPTIONS ping">
  <send retrans="500" start_rtd="options">
    <![CDATA[

      OPTIONS sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 OPTIONS
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Accept: application/sdp
      Content-Length: 0

    ]]>
  </send>

  <recv response="200" rtd="options">
    <action>
      <ereg regexp="INVITE" search_in="hdr" header="Allow:" check_it="true" assign_to="allow"/>
    </action>
  </recv>
  <Reference variables="allow"/>
""" + TAIL.format(cl="10, 100")


def short_call():
    return (
        HEAD
        + """<!--
  Short calls for the call-rate step: answer, the welcome prompt is heard for -d
  milliseconds (run.sh -d, default 2000), then BYE. Exercises call set-up and tear-down
  (INVITE/100/200/ACK, an RTP port and a driver task per call, BYE) at a given number of new
  calls per second; INVITE to 200 OK is timed (rtd "answer").

  Run:  sipp-scenarios/run.sh short-call -r 100 -l 400 -m 2000 -d 2000
-->
<scenario name="Short call">
"""
        + INVITE.format(subject="short call")
        + """
  <!-- listen to the welcome prompt for -d ms -->
  <pause/>
"""
        + BYE.format(cseq=2)
        + TAIL.format(cl="1000, 2000, 3000, 5000, 10000")
    )


LONG_ROUNDS = 36
LONG_ROUND_MS = 5000


def long_call():
    out = [
        HEAD,
        f"""<!--
  A long call that holds the line for about three minutes (bounded: {LONG_ROUNDS} rounds of
  {LONG_ROUND_MS // 1000} s): it logs in with the demo codes (child 3011, payer 770021) by SIP
  INFO, then presses * (repeat) on the main menu every {LONG_ROUND_MS // 1000} s, as a parent
  who listens to the menu again and again, and hangs up. The caller sends RTP back (run.sh
  starts SIPp with -rtp_echo: every packet the server sends is echoed to it), so the server's
  media-inactivity timeout does not end the call. Exercises long-lived dialogs, timers and
  prompt replays, the memory a held call keeps, and INFO transactions late in a dialog.

  Run against `ivr demo` (its demo codes):
    sipp-scenarios/run.sh long-call -r 5 -l 50 -m 50
  Generated by gen-scenarios.py: edit that file, not this one.
-->
""",
        '<scenario name="Long call">\n',
        INVITE.format(subject="long call"),
        '\n  <!-- welcome -->\n  <pause milliseconds="1500"/>\n',
    ]
    cseq = 2
    for what, keys, gap in [
        ("child code", list("3011#"), 800),
        ("payer code", list("770021#"), 2000),
    ]:
        out.append(f"\n  <!-- {what} -->\n")
        for i, k in enumerate(keys):
            g = gap if i == len(keys) - 1 else 150
            out.append(INFO.format(cseq=cseq, signal=k, gap=g))
            cseq += 1
    out.append("\n  <!-- the main menu, again and again -->\n")
    for _ in range(LONG_ROUNDS):
        out.append(INFO.format(cseq=cseq, signal="*", gap=LONG_ROUND_MS))
        cseq += 1
    out.append("\n  <!-- hang up -->\n")
    out.append(BYE.format(cseq=cseq))
    out.append(TAIL.format(cl="60000, 120000, 180000, 200000, 300000"))
    return "".join(out)


def cancel():
    return HEAD + """<!--
  CANCEL before answer (RFC 3261 section 9): INVITE, wait for 180 Ringing, CANCEL; the
  server answers the CANCEL 200 and the INVITE 487 Request Terminated, and we ACK the 487
  (section 17.1.1.3: same branch, Call-ID, From, CSeq number; To with the 487's tag).
  The server must ring before answering: run it with [sip] ring_ms = 2000 (for instance
  bench/serve.sh with RING_MS=2000). Exercises the cancellation of the INVITE server
  transaction and the release of the call's RTP port and task without an answer.

  Run:  sipp-scenarios/run.sh cancel -r 20 -l 50 -m 200
-->
<scenario name="CANCEL before answer">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP [codec_pt] 101
      a=rtpmap:[codec_pt] [codec_map]
      a=rtpmap:101 telephone-event/[te_rate]
      a=sendrecv

    ]]>
  </send>

  <recv response="100" optional="true"/>
  <recv response="180"/>
  <pause milliseconds="300"/>

  <!-- CANCEL: the INVITE's Via (same branch), Call-ID, From, To and CSeq number -->
  <send>
    <![CDATA[

      CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>

  <recv response="200"/>
  <recv response="487"/>

  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
""" + TAIL.format(cl="1000, 5000")


def main():
    os.makedirs(os.path.join(HERE, "pcap"), exist_ok=True)
    files = {
        "parent-call-info.xml": scenario(True),
        "parent-call-pcap.xml": scenario(False),
        "long-call.xml": long_call(),
        "short-call.xml": short_call(),
        "options.xml": options(),
        "cancel.xml": cancel(),
    }
    for name, text in files.items():
        with open(os.path.join(HERE, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
