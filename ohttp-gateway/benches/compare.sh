#!/usr/bin/env bash
# Side-by-side loopback benchmark of this gateway and another OHTTP gateway (issue 8; BENCH.md).
#
#   OURS=.../release/ohttp-gateway LOAD=.../release/examples/load THEIRS=.../gruberb/ohttp-gateway \
#     bash ohttp-gateway/benches/compare.sh [ROUNDS]
#
# One echo target (the load example's) serves both gateways; the same load generator drives
# them in alternation (ours, theirs, ours, theirs, ...) so drift on the shared machine hits
# both. Per run it prints the load generator's line plus the gateway process's CPU time per
# request (from /proc; for the direct runs, the target's), which does not depend on how much
# CPU the load generator took.
# Everything binds 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail

ROUNDS=${1:-3}
: "${OURS:?path of our release ohttp-gateway binary}"
: "${LOAD:?path of the release load example}"
: "${THEIRS:?path of gruberb/ohttp-gateway release binary}"
TARGET_PORT=${TARGET_PORT:-18081}
OURS_PORT=${OURS_PORT:-18080}
THEIRS_PORT=${THEIRS_PORT:-18082}
ADMIN_PORT=${ADMIN_PORT:-19090}
CONCURRENCY=${CONCURRENCY:-32}
# Extra `serve` flags for our gateway, e.g. OURS_ARGS="--worker-threads 1" (word-split).
OURS_ARGS=${OURS_ARGS:-}

dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

"$LOAD" target --listen "127.0.0.1:$TARGET_PORT" --seconds 3600 &
target_pid=$!
pids+=($target_pid)

"$OURS" keys init --keys-file "$dir/keys.json" >/dev/null
env RUST_LOG=warn "$OURS" serve \
    --listen "127.0.0.1:$OURS_PORT" --admin-listen "127.0.0.1:$ADMIN_PORT" \
    --keys-file "$dir/keys.json" --key-reload-secs 0 \
    --target "service.example.net=http://127.0.0.1:$TARGET_PORT" $OURS_ARGS >"$dir/ours.log" 2>&1 &
ours_pid=$!
pids+=($ours_pid)

# Their gateway, configured like ours: a fixed seed (X25519 / HKDF-SHA256 / AES-128-GCM is the
# first suite of its key), one allow-listed origin rewritten to the loopback target, request
# logging off (RUST_LOG=warn, as for ours), rotation off.
env RUST_LOG=warn LOG_LEVEL=warn PORT="$THEIRS_PORT" \
    SEED_SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    KEY_ROTATION_ENABLED=false ALLOWED_TARGET_ORIGINS=service.example.net \
    TARGET_REWRITES="{\"service.example.net\":{\"scheme\":\"http\",\"host\":\"127.0.0.1:$TARGET_PORT\"}}" \
    "$THEIRS" >"$dir/theirs.log" 2>&1 &
theirs_pid=$!
pids+=($theirs_pid)

for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$OURS_PORT") 2>/dev/null &&
        (exec 3<>"/dev/tcp/127.0.0.1/$THEIRS_PORT") 2>/dev/null &&
        (exec 3<>"/dev/tcp/127.0.0.1/$TARGET_PORT") 2>/dev/null; then
        break
    fi
    sleep 0.2
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# run NAME PID LOAD-ARGS...: one measured run, with the gateway's CPU µs per request.
run() {
    local name=$1 pid=$2
    shift 2
    local before after line ok
    before=$(ticks "$pid")
    line=$("$LOAD" run "$@")
    after=$(ticks "$pid")
    ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$line")
    echo "$name $line gw_cpu_us_per_req=$(((after - before) * 1000000 / hz / (ok > 0 ? ok : 1)))"
}

ours=(--gateway "http://127.0.0.1:$OURS_PORT/" --keys "http://127.0.0.1:$OURS_PORT/ohttp-keys")
theirs=(--gateway "http://127.0.0.1:$THEIRS_PORT/gateway"
    --keys "http://127.0.0.1:$THEIRS_PORT/ohttp-configs")
direct=(--direct --gateway "http://127.0.0.1:$TARGET_PORT/echo")

for round in $(seq "$ROUNDS"); do
    echo "# round $round"
    for size in 1024 30720; do
        n=$((size > 4096 ? 8000 : 20000))
        run ours "$ours_pid" "${ours[@]}" --size "$size" --requests "$n" --concurrency "$CONCURRENCY"
        run theirs "$theirs_pid" "${theirs[@]}" --size "$size" --requests "$n" --concurrency "$CONCURRENCY"
        # Latency with one request in flight, and the target alone for the baseline.
        run direct "$target_pid" "${direct[@]}" --size "$size" --requests 1000 --concurrency 1
        run ours "$ours_pid" "${ours[@]}" --size "$size" --requests 1000 --concurrency 1
        run theirs "$theirs_pid" "${theirs[@]}" --size "$size" --requests 1000 --concurrency 1
    done
done
