#!/usr/bin/env python3
"""Markdown tables of bench/run.sh results (results.jsonl): one table of simultaneous-call
steps and one of call-rate steps, as docs/performance.md shows them.

    bench/table.py results.jsonl [...]
"""
import json
import sys

rows = [json.loads(l) for p in sys.argv[1:] for l in open(p) if l.strip()]
for r in rows:
    # Steps on PostgreSQL say so; SQLite is the default (and older rows have no "db").
    if r.get("db") == "postgres":
        r["codec"] = f"{r['codec']} (PostgreSQL)"
    # Steps placed by `ivr load` (CALLER=ivr) say so; SIPp is the default.
    if r.get("caller") == "ivr":
        r["codec"] = f"{r['codec']}, ivr load"


def g(d, *keys):
    for k in keys:
        d = (d or {}).get(k)
    return "–" if d is None else d


calls = [r for r in rows if r["kind"] == "calls"]
if calls:
    print("| codec | calls at once (peak) | attempted | completed | failed | bookings in DB "
          "| server CPU, % of machine (of core 0) | peak RSS MB | MB per call "
          "| answer p50 / p99 / max ms | pacing dev p50 / p99 / max ms | RTP streams seen |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in calls:
        print(f"| {r['codec']} | {r['concurrency']} ({r['peak_calls']}) | {r['attempted']} "
              f"| {r['completed']} | {r['failed']} | {r['bookings']} "
              f"| {r['cpu_pct_machine']} ({r['cpu_pct_core']}) | {r['peak_rss_mb']} "
              f"| {r['mb_per_call']} | {g(r, 'answer', 'p50_ms')} / {g(r, 'answer', 'p99_ms')} "
              f"/ {g(r, 'answer', 'max_ms')} "
              f"| {g(r, 'pacing', 'gap_dev_ms_p50')} / {g(r, 'pacing', 'gap_dev_ms_p99')} / "
              f"{g(r, 'pacing', 'gap_dev_ms_max')} | {g(r, 'pacing', 'streams')} |")
    print()
rate = [r for r in rows if r["kind"] == "rate"]
if rate:
    print("| codec | new calls/s | attempted | completed | failed "
          "| server CPU, % of machine (of core 0) | peak RSS MB | answer p50 / p99 / max ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rate:
        print(f"| {r['codec']} | {r['cps']} | {r['attempted']} | {r['completed']} "
              f"| {r['failed']} | {r['cpu_pct_machine']} ({r['cpu_pct_core']}) "
              f"| {r['peak_rss_mb']} | {g(r, 'answer', 'p50_ms')} / {g(r, 'answer', 'p99_ms')} "
              f"/ {g(r, 'answer', 'max_ms')} |")
