#!/usr/bin/env bash
# Checks that a build without the development tools (what a plain `cargo build --release`
# makes, and what a town runs) has no demo, no payment stand-in and no load caller: their
# subcommands are refused and the stand-in's routes are not in the binary.
#
# IVR_BIN names the binary to check (CI gives the release build the Debian package ships);
# without it, one is built in debug, which holds the same code, to reuse the test build's
# dependencies (run it after the tests and the SIPp runs then: the next `cargo test` links
# the test binary back in place).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${IVR_BIN:-}"
if [[ -z "$bin" ]]; then
  cargo build --locked --quiet --bin ivr
  bin="${CARGO_TARGET_DIR:-target}/debug/ivr"
fi
for sub in demo fake-provider load; do
  if "$bin" "$sub" --help >/dev/null 2>&1; then
    echo "check-no-devtools: \`ivr $sub\` exists in a build without devtools" >&2
    exit 1
  fi
done
# A route only the SystemPay stand-in serves.
if grep -q "/vads-payment/session/" "$bin"; then
  echo "check-no-devtools: the payment stand-in is in a build without devtools" >&2
  exit 1
fi
"$bin" --help | grep -q "deadline" || { echo "check-no-devtools: the binary does not run" >&2; exit 1; }
echo "check-no-devtools: ok (no demo, stand-in or load caller without --features devtools)"
