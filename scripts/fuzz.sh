#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, from the committed seed corpus in
# fuzz/corpus/<target>/. New inputs go to a scratch folder, so the clone is left as it was;
# a crash stops the run with the target's name and leaves its input in fuzz/artifacts/.
#   scripts/fuzz.sh 20                 # every target, 20 s each (what CI runs)
#   scripts/fuzz.sh 600 sip_message    # one target, ten minutes
#   scripts/fuzz.sh build              # only build them (CI builds while other steps run)
# FUZZ_DEV=1 builds and runs them unoptimised (`cargo fuzz --dev`): a build of minutes
# instead of eight, for CI's short runs; longer runs want the optimised build (the default).
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:?usage: scripts/fuzz.sh SECONDS|build [TARGET...]}"
shift
target_dir="${FUZZ_TARGET_DIR:-/var/tmp/ivr-fuzz-target}"
profile=()
[[ "${FUZZ_DEV:-}" == 1 ]] && profile=(--dev)
cd fuzz
if [[ "$seconds" == build ]]; then
  exec cargo +nightly fuzz build "${profile[@]}" --target-dir "$target_dir" >/dev/null
fi
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
cargo +nightly fuzz build "${profile[@]}" --target-dir "$target_dir" >/dev/null
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "$scratch/$t"
  log="$scratch/$t.log"
  if ! cargo +nightly fuzz run "${profile[@]}" --target-dir "$target_dir" "$t" "$scratch/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: $t FAILED (input in fuzz/artifacts/$t/)"
    exit 1
  fi
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
  echo "fuzz: $t ok, $runs executions in ${seconds}s"
done
