#!/usr/bin/env bash
# Builds the Debian package of the server, the one a town installs: a release build without
# the development tools, its configuration /etc/ivr/ivr.toml made from ivr.example.toml with
# every path under /var/lib/ivr, the systemd unit and the maintainer scripts of
# deploy/debian/ (see docs/debian.md). Prints the package's path on the last line.
#
# Needs cargo-deb (`cargo install cargo-deb --locked`) and dpkg-dev (dpkg-shlibdeps, for the
# libraries the binary links). Environment: CARGO_TARGET_DIR (default: target), DEB_REVISION
# (the package's revision, default 1: CI builds a 2 to check an upgrade).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null || { echo "build-deb: cargo-deb not found (cargo install cargo-deb --locked)" >&2; exit 2; }
target="${CARGO_TARGET_DIR:-target}"

cargo build --release --locked --quiet --bin ivr

# The packaged configuration: the example, its relative data paths made absolute. Each
# replacement must match exactly one line, so an edit of the example cannot silently leave a
# path relative to wherever the server happens to start.
mkdir -p "$target/release/deb"
config="$target/release/deb/ivr.toml"
{
  echo "# /etc/ivr/ivr.toml: the configuration of the ivr service (systemctl restart ivr"
  echo "# after a change; \`ivr --config /etc/ivr/ivr.toml check\` checks it first). Made from"
  echo "# /usr/share/doc/ivr/ivr.example.toml, with the data under /var/lib/ivr."
  echo "#"
  cat ivr.example.toml
} >"$config"
replace() { # KEY-LINE NEW-LINE
  local n
  n="$(grep -c -x -F "$1" "$config" || true)"
  [[ "$n" == 1 ]] || { echo "build-deb: expected one line '$1' in ivr.example.toml, found $n" >&2; exit 1; }
  sed -i "s|^${1}\$|${2}|" "$config"
}
replace 'database_url = "sqlite://data/ivr.sqlite"' 'database_url = "sqlite:///var/lib/ivr/ivr.sqlite"'
replace 'data_dir = "data"' 'data_dir = "/var/lib/ivr"'
replace 'folder = "data/mail"' 'folder = "/var/lib/ivr/mail"'

# One folder per revision: cargo-deb replaces an older package in its output folder.
revision="${DEB_REVISION:-1}"
mkdir -p "$target/debian/$revision"
cargo deb --no-build --locked --quiet --deb-revision "$revision" --output "$target/debian/$revision/" | tail -n1
