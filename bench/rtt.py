#!/usr/bin/env python3
"""INVITE to 200 OK times from SIPp's -trace_rtt files (lines "date_ms;response_time_ms;
rtd_no"): prints JSON with the count, p50, p99 and max in ms.

    bench/rtt.py FILE_rtt.csv [...]
"""
import json
import sys

times = []
for path in sys.argv[1:]:
    for line in open(path):
        parts = line.strip().split(";")
        if len(parts) < 2:
            continue
        try:
            times.append(float(parts[1]))
        except ValueError:
            continue  # the header line
times.sort()
q = lambda p: round(times[min(len(times) - 1, int(p * len(times)))], 2) if times else None
print(json.dumps({"answers": len(times), "p50_ms": q(0.5), "p99_ms": q(0.99),
                  "max_ms": round(times[-1], 2) if times else None}))
