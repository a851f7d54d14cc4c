#!/usr/bin/env python3
"""Bench data: N families (one payer, one child each) for `ivr import`, and the matching
SIPp injection file for sipp-scenarios/parent-call-info.xml (one line per call: the child
code, the payer code and the date DDMM, one key per field), and the same codes for the
project's load caller (`ivr load --codes`: child_code;payer_code;date_ddmm).

    bench/families.py N OUT_DIR [--date YYYY-MM-DD]

writes OUT_DIR/families.csv, OUT_DIR/calls.csv and OUT_DIR/codes.csv. Child codes are 4xxxxx and payer codes
5xxxxx (6 digits, N at most 99,999), apart from the demo's (3011..., 770021...). The date
is a meal day (Monday, Tuesday, Thursday, Friday) at least 7 days ahead, off the fixed
French public holidays, so that every call's booking is open; --date chooses another.
These codes are made-up test data, not secrets of anyone.
"""
import argparse
import datetime
import os

FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)}


def meal_day(today):
    d = today + datetime.timedelta(days=7)
    while d.weekday() not in (0, 1, 3, 4) or (d.month, d.day) in FIXED_HOLIDAYS:
        d += datetime.timedelta(days=1)
    return d


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int)
    p.add_argument("out")
    p.add_argument("--date", type=datetime.date.fromisoformat)
    a = p.parse_args()
    if not 1 <= a.n <= 99_999:
        raise SystemExit("families.py: N is 1 to 99999")
    date = a.date or meal_day(datetime.date.today())
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "families.csv"), "w") as f:
        f.write("payer_code;payer_name;email;child_code;first_name;last_name;school;class;teacher\n")
        for i in range(a.n):
            f.write(
                f"{500000 + i};Famille BENCH{i};;{400000 + i};Enfant{i};BENCH{i};"
                f"École du Banc;CE1;Mme Mesure\n"
            )
    ddmm = f"{date.day:02}{date.month:02}"
    with open(os.path.join(a.out, "calls.csv"), "w") as f:
        f.write("SEQUENTIAL\n")
        for i in range(a.n):
            keys = f"{400000 + i}{500000 + i}{ddmm}"
            f.write(";".join(keys) + "\n")
    with open(os.path.join(a.out, "codes.csv"), "w") as f:
        f.write("child_code;payer_code;date_ddmm\n")
        for i in range(a.n):
            f.write(f"{400000 + i};{500000 + i};{ddmm}\n")
    print(f"{a.n} families, booking date {date.isoformat()}")


if __name__ == "__main__":
    main()
