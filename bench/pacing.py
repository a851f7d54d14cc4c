#!/usr/bin/env python3
"""Outbound RTP pacing at the receiver, from a capture of the server's RTP (libpcap format,
`dumpcap -P`, loopback): for every stream (the server's source port and the SSRC) the gap
between consecutive packets, compared with the packet time (20 ms). Prints JSON:
streams, packets, the deviation |gap - 20 ms| p50/p99/max in ms, and how many gaps were
over 2 ms off.

    bench/pacing.py CAPTURE.pcap [--ptime-ms 20]

The capture timestamps are the kernel's as the server's packets cross loopback, so this is
the pacing the caller receives, without the caller's own scheduling in it.
"""
import json
import struct
import sys
from collections import defaultdict


def packets(path):
    with open(path, "rb") as f:
        head = f.read(24)
        magic = struct.unpack("<I", head[:4])[0]
        if magic == 0xA1B2C3D4:
            endian, scale = "<", 1e-6
        elif magic == 0xA1B23C4D:
            endian, scale = "<", 1e-9
        else:
            raise SystemExit("pacing.py: not a little-endian libpcap file (use dumpcap -P)")
        linktype = struct.unpack(endian + "I", head[20:24])[0]
        rec = struct.Struct(endian + "IIII")
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, incl, _ = rec.unpack(h)
            data = f.read(incl)
            yield sec + frac * scale, linktype, data


def main():
    path = sys.argv[1]
    ptime = 0.020
    if "--ptime-ms" in sys.argv:
        ptime = float(sys.argv[sys.argv.index("--ptime-ms") + 1]) / 1000
    last = {}
    devs = []
    count = 0
    for t, linktype, data in packets(path):
        # Loopback captures: Linux cooked (113), cooked v2 (276), Ethernet (1) or null (0).
        off = {1: 14, 113: 16, 276: 20, 0: 4}.get(linktype)
        if off is None:
            raise SystemExit(f"pacing.py: link type {linktype} not handled")
        ip = data[off:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
        rtp = udp[8:]
        if len(rtp) < 12 or rtp[0] >> 6 != 2:
            continue
        src = struct.unpack(">H", udp[:2])[0]
        ssrc = struct.unpack(">I", rtp[8:12])[0]
        key = (src, ssrc)
        count += 1
        if key in last:
            devs.append(abs(t - last[key] - ptime) * 1000)
        last[key] = t
    devs.sort()
    q = lambda p: round(devs[min(len(devs) - 1, int(p * len(devs)))], 3) if devs else None
    print(json.dumps({
        "streams": len(last),
        "packets": count,
        "gap_dev_ms_p50": q(0.50),
        "gap_dev_ms_p99": q(0.99),
        "gap_dev_ms_max": round(devs[-1], 3) if devs else None,
        "gaps_over_2ms": sum(1 for d in devs if d > 2.0),
        "gaps": len(devs),
    }))


if __name__ == "__main__":
    main()
