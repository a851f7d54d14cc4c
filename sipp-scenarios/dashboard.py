#!/usr/bin/env python3
"""Logs in to the staff pages of a running portal and prints the dashboard of one day
(sipp-scenarios/ci-smoke.sh checks the demo's calls on it after its SIPp call).

    dashboard.py BASE_URL USER DATE     (the password on standard input)
"""
import http.cookiejar
import re
import sys
import urllib.parse
import urllib.request


def main() -> int:
    base, user, date = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    password = sys.stdin.readline().rstrip("\n")
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    login = opener.open(f"{base}/mairie/connexion", timeout=10).read().decode()
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', login)
    if not csrf:
        print("dashboard.py: no CSRF field on the staff login page", file=sys.stderr)
        return 1
    form = urllib.parse.urlencode(
        {"csrf": csrf.group(1), "user": user, "password": password}
    ).encode()
    opener.open(f"{base}/mairie/connexion", data=form, timeout=30).read()
    page = opener.open(
        f"{base}/mairie/tableau-de-bord?date={urllib.parse.quote(date)}", timeout=10
    ).read().decode()
    if "Tableau de bord du" not in page:
        print("dashboard.py: the staff login did not open the dashboard", file=sys.stderr)
        return 1
    sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
