#!/usr/bin/env bash
# Screenshots of every portal page, parents' and staff's, logged out and in, at 1280, 390
# and 320 px, the whole page high, for a reviewer to look at: the accessibility test
# (tests/accessibility.rs) takes them while it audits each page with axe-core.
#
#   scripts/screenshots.sh [folder]
#
# The folder defaults to <target>/screenshots (<target> is $CARGO_TARGET_DIR, else
# ./target). Needs Chromium, chromedriver, and axe-core from npm (installed here when
# missing). The test's failures (accessibility problems) are reported, but the
# screenshots are taken either way.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
dir="${1:-$target/screenshots}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
if [[ ! -f tests/axe/node_modules/axe-core/axe.min.js ]]; then
  npm ci --prefix tests/axe --no-audit --no-fund --silent
fi
status=0
IVR_SCREENSHOT_DIR="$dir" cargo test --locked --test accessibility -- --nocapture || status=$?
echo "screenshots: $(find "$dir" -name '*.png' | wc -l) files in $dir"
exit "$status"
