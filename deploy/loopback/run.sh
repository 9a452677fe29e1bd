#!/usr/bin/env bash
# The production topology on one machine, without Docker, all on 127.0.0.1:
#
#   devices (urlfilter check) ─► HAProxy :relay ─► ohttp-gateway ×2 ─► HAProxy :internal ─► pir-server ×3
#                                                                          redis-server: evaluation keys, nonces
#
# and the test that proves it (issue #10): many concurrent simulated devices, bounded in count and
# time, while one pir-server replica is SIGKILLed and restarted and a database update is rolled
# through with SIGHUP. Nothing may be lost: every check gives the right verdict (the device retries
# only what the protocol says is retryable), no "evaluation key not found", no unknown token key.
#
#   deploy/loopback/run.sh            run the test (exit 0 = passed)
#   deploy/loopback/run.sh --keep     leave the topology running afterwards (Ctrl-C stops it)
#
# Needs haproxy and redis-server (Debian packages; .ci/run installs them) and the workspace's
# binaries (built here with the test profile's optimizations).
set -euo pipefail

KEEP=0
[[ "${1:-}" == "--keep" ]] && KEEP=1
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CLIENTS="${LOOPBACK_CLIENTS:-6}"
ROUNDS="${LOOPBACK_ROUNDS:-4}"
DEADLINE_SECS="${LOOPBACK_DEADLINE_SECS:-600}"
# The same invocation as .ci/run's build, so CI reuses its artifacts instead of rebuilding.
if [[ -z "${LOOPBACK_BOUNDED:-}" ]]; then
    echo "loopback: building binaries" >&2
    (cd "$ROOT" && cargo build -q --workspace --bins --benches)
fi
# The test run is bounded: re-run under timeout(1), which TERMs us (and so the cleanup) at the deadline.
if ((!KEEP)) && [[ -z "${LOOPBACK_BOUNDED:-}" ]]; then
    exec timeout --kill-after=15 "$DEADLINE_SECS" env LOOPBACK_BOUNDED=1 "$0" "$@"
fi
USECASE="example.urlfilter"
USER_TOKEN="loopback-user-token"

for tool in haproxy redis-server python3 curl; do
    command -v "$tool" >/dev/null || { echo "loopback: $tool is not installed" >&2; exit 2; }
done

BIN="$ROOT/target/debug"

WORK="$(mktemp -d -t urlfilter-loopback.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ "${LOOPBACK_KEEP_WORK:-0}" != 1 ]]; then rm -rf "$WORK"; else echo "loopback: work dir $WORK" >&2; fi
}
trap cleanup EXIT
trap 'echo "loopback: stopped (deadline or signal)" >&2; exit 124' TERM INT

LOG_PREFIX=loopback
# shellcheck source=common.sh
source "$ROOT/deploy/loopback/common.sh"
read -r REDIS RELAY INTERNAL PIR1 PIR2 PIR3 ADM1 ADM2 ADM3 GW1 GW2 GADM1 GADM2 < <(free_ports 13)
PIR_PORTS=("$PIR1" "$PIR2" "$PIR3")
ADMIN_PORTS=("$ADM1" "$ADM2" "$ADM3")

redis-server --port "$REDIS" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    >"$WORK/redis.log" 2>&1 &
PIDS+=($!)

# Blocklist v1; v2 adds one entry, rolled out with SIGHUP during the run.
cp "$ROOT/examples/blocklist.txt" "$WORK/blocklist-v1.txt"
{ cat "$WORK/blocklist-v1.txt"; echo "rolled-out.example"; } >"$WORK/blocklist-v2.txt"
"$BIN/pir-server" build --quiet --urls "$WORK/blocklist-v1.txt" --usecase "$USECASE" \
    --out "$WORK/db" --version v1 >"$WORK/build-v1.log"

SHA=$(printf %s "$USER_TOKEN" | sha256sum | cut -d' ' -f1)
printf '{"user-tokens":[{"sha256":"%s","tier":"tier1"}]}\n' "$SHA" >"$WORK/user-tokens.json"

start_pir() { # replica index 0..2
    local i=$1
    cat >"$WORK/pir-$i.toml" <<EOF
[listen]
service = "127.0.0.1:${PIR_PORTS[$i]}"
admin = "127.0.0.1:${ADMIN_PORTS[$i]}"
drain_secs = 2

[key_store]
redis_url = "redis://127.0.0.1:$REDIS/"

[auth]
nonce_redis_url = "redis://127.0.0.1:$REDIS/"

[issuer]
user_tokens = "$WORK/user-tokens.json"

[issuer_keys]
redis_url = "redis://127.0.0.1:$REDIS/"

[[usecase]]
name = "$USECASE"
directory = "$WORK/db/$USECASE"
EOF
    "$BIN/pir-server" serve --config "$WORK/pir-$i.toml" --role all >>"$WORK/pir-$i.log" 2>&1 &
    PIR_PID[$i]=$!
    PIDS+=("${PIR_PID[$i]}")
}
declare -a PIR_PID
# The first replica creates the issuer keys; the others then load the same ones.
start_pir 0
wait_http "http://127.0.0.1:$ADM1/readyz" 60
start_pir 1
start_pir 2
wait_http "http://127.0.0.1:$ADM2/readyz" 60
wait_http "http://127.0.0.1:$ADM3/readyz" 60

"$BIN/ohttp-gateway" keys init --keys-file "$WORK/ohttp-keys.json" >/dev/null
for g in 1 2; do
    port_var="GW$g"; admin_var="GADM$g"
    "$BIN/ohttp-gateway" serve --keys-file "$WORK/ohttp-keys.json" \
        --listen "127.0.0.1:${!port_var}" --admin-listen "127.0.0.1:${!admin_var}" \
        --target "pir.localhost=http://127.0.0.1:$INTERNAL" >"$WORK/gateway-$g.log" 2>&1 &
    PIDS+=($!)
done

cat >"$WORK/haproxy.cfg" <<EOF
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
    retry-on conn-failure empty-response 503
frontend relay
    bind 127.0.0.1:$RELAY
    default_backend gateways
frontend internal
    bind 127.0.0.1:$INTERNAL
    default_backend pir
backend gateways
    balance roundrobin
    option httpchk GET /readyz
    server gw1 127.0.0.1:$GW1 check port $GADM1 inter 500ms fall 2 rise 1
    server gw2 127.0.0.1:$GW2 check port $GADM2 inter 500ms fall 2 rise 1
backend pir
    balance roundrobin
    option httpchk GET /readyz
    server pir1 127.0.0.1:$PIR1 check port $ADM1 inter 500ms fall 1 rise 1
    server pir2 127.0.0.1:$PIR2 check port $ADM2 inter 500ms fall 1 rise 1
    server pir3 127.0.0.1:$PIR3 check port $ADM3 inter 500ms fall 1 rise 1
EOF
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$RELAY/ohttp-keys" 30

check() { # state-file url... ; prints the device's output, returns its exit code
    local state="$1"; shift
    "$BIN/urlfilter" check "$@" --service https://pir.localhost \
        --via-gateway "http://127.0.0.1:$RELAY" --usecase "$USECASE" \
        --user-token "$USER_TOKEN" --state "$state" --timeout-secs 30
}

echo "loopback: topology up in $WORK (relay 127.0.0.1:$RELAY)" >&2
if ((KEEP)); then
    echo "service: https://pir.localhost via gateway http://127.0.0.1:$RELAY, user token $USER_TOKEN" >&2
    while sleep 3600; do :; done
fi

# Each client is one phone: its own state file (user id, keys), ROUNDS checks of a blocked and an
# allowed URL. A wrong verdict or an error (exit 2) fails the client.
client() {
    local c=$1 failures=0
    for ((r = 0; r < ROUNDS; r++)); do
        if ! out=$(check "$WORK/phone-$c.json" https://www.apple.com/url-filter-test 2>&1); then
            echo "client $c round $r: blocked URL not blocked: $out" >&2; failures=$((failures + 1))
        fi
        set +e
        out=$(check "$WORK/phone-$c.json" "https://allowed-$c-$r.example.org/" 2>&1); code=$?
        set -e
        if ((code != 1)); then
            echo "client $c round $r: allowed URL gave exit $code: $out" >&2; failures=$((failures + 1))
        fi
    done
    return "$failures"
}

CLIENT_PIDS=()
for ((c = 0; c < CLIENTS; c++)); do
    client "$c" &
    CLIENT_PIDS+=($!)
done

# Chaos while the clients run: SIGKILL replica 2, restart it; then roll v2 out with SIGHUP.
sleep 3
echo "loopback: SIGKILL pir-server replica 2" >&2
kill -KILL "${PIR_PID[1]}"
sleep 2
start_pir 1
wait_http "http://127.0.0.1:$ADM2/readyz" 60
"$BIN/pir-server" build --quiet --urls "$WORK/blocklist-v2.txt" --usecase "$USECASE" \
    --out "$WORK/db" --version v2 >"$WORK/build-v2.log"
echo "loopback: SIGHUP every replica (database v2)" >&2
for i in 0 1 2; do kill -HUP "${PIR_PID[$i]}"; done

failed=0
for pid in "${CLIENT_PIDS[@]}"; do
    wait "$pid" || failed=$((failed + 1))
done

# After the roll-out a new phone sees v2's entry blocked, and an old phone its v1 verdicts.
sleep 1
if ! check "$WORK/phone-new.json" https://rolled-out.example/ >"$WORK/new.log" 2>&1; then
    echo "loopback: v2 entry not blocked after SIGHUP: $(cat "$WORK/new.log")" >&2
    failed=$((failed + 1))
fi
if ! check "$WORK/phone-0.json" https://www.apple.com/url-filter-test >"$WORK/old.log" 2>&1; then
    echo "loopback: old phone failed after the roll-out: $(cat "$WORK/old.log")" >&2
    failed=$((failed + 1))
fi
if grep -l -i -E "evaluation key not found|unknown token key|panicked" "$WORK"/*.log >/dev/null 2>&1; then
    echo "loopback: forbidden message in logs: $(grep -i -E "evaluation key not found|unknown token key|panicked" "$WORK"/*.log | head -5)" >&2
    failed=$((failed + 1))
fi

if ((failed)); then
    echo "loopback: FAILED ($failed failing clients/checks); logs kept in $WORK" >&2
    LOOPBACK_KEEP_WORK=1
    exit 1
fi
echo "loopback: passed ($CLIENTS clients × $ROUNDS rounds, one replica killed and restarted, one roll-out)" >&2
