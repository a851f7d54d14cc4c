#!/usr/bin/env python3
"""Writes the key presses of book.xml as pcaps, from the telephone-event pcaps shipped with
SIPp (/usr/share/sip-tester/dtmf_2833_*.pcap, one press each).

Why: the shipped pcaps carry fixed RTP timestamps (key 1 at 13280, key 3 at 31040...) and
SIPp replays them unchanged. An RFC 4733 receiver identifies a press by (SSRC, timestamp) and
ignores a press older than the last one (RFC 4733 section 2.5.1), so "3011" played from the
shipped files would lose the "0" (older than "3") and the second "1" (same timestamp). Each
press here is the shipped packets of its key with the sequence numbers and timestamps moved
forward, one press after the other, as a real phone sends them.

    sipp-scenarios/make-dtmf-pcaps.py [SHIPPED_DIR]   (writes sipp-scenarios/pcap/)
"""
import os
import struct
import sys

# The caller's keys in book.xml: codes, cancel tomorrow's meal (and 2: not for the other
# child too), book it again.
PRESSES = "3011#770021#" + "21112" + "1111"
NAMES = {"#": "pound", "*": "star"}
# Timestamp step between presses (8 kHz clock): 200 ms, more than one press lasts.
TS_STEP = 1600
TS_BASE = 100_000
SEQ_BASE = 20_000
SEQ_STEP = 16


def read_pcap(path):
    data = open(path, "rb").read()
    header, off, packets = data[:24], 24, []
    while off < len(data):
        rec = data[off:off + 16]
        incl = struct.unpack("<I", rec[8:12])[0]
        packets.append((rec, bytearray(data[off + 16:off + 16 + incl])))
        off += 16 + incl
    return header, packets


def main():
    shipped = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/sip-tester"
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pcap")
    os.makedirs(out_dir, exist_ok=True)
    for n, key in enumerate(PRESSES):
        name = NAMES.get(key, key)
        header, packets = read_pcap(os.path.join(shipped, f"dtmf_2833_{name}.pcap"))
        out = bytearray(header)
        for i, (rec, pkt) in enumerate(packets):
            # Ethernet (14) + IPv4 (20) + UDP (8), then RTP: seq at 2, timestamp at 4.
            rtp = 42
            struct.pack_into(">H", pkt, rtp + 2, (SEQ_BASE + n * SEQ_STEP + i) & 0xFFFF)
            struct.pack_into(">I", pkt, rtp + 4, TS_BASE + n * TS_STEP)
            struct.pack_into(">H", pkt, 40, 0)  # UDP checksum: none (allowed over IPv4)
            out += rec + pkt
        with open(os.path.join(out_dir, f"press_{n:02d}_{name}.pcap"), "wb") as f:
            f.write(out)
    print(f"make-dtmf-pcaps: {len(PRESSES)} presses written to {out_dir}")


if __name__ == "__main__":
    main()
