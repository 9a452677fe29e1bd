#!/usr/bin/env bash
# Runs every criterion bench in the workspace twice (baselines run1 and run2, so the report can quote
# the spread between runs on these noisy machines), then regenerates BENCHMARKS.md.
# Takes a while on 2 cores; extra arguments go to `cargo bench` (e.g. a bench-name filter).
set -euo pipefail
cd "$(dirname "$0")/.."
for run in run1 run2; do
    # `--bench '*'`, not `--benches`: the latter also runs libtest harnesses (lib, bins), which reject
    # criterion's flags.
    cargo bench --workspace --bench '*' -- --save-baseline "$run" "$@"
done
cargo run --release -q -p benches --bin bench-report
