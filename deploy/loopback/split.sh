#!/usr/bin/env bash
# A database split over replica groups, beside the plain topology, on 127.0.0.1 (issue #10
# "Beyond one node"):
#
#   plain:  urlfilter check ─► pir-server --role all (every shard; the issuer for both topologies)
#   split:  urlfilter check ─► pir-server --role router ─┬► group a: 2 × pir-server (shards 0..h-1)
#                                                        └► group b: 2 × pir-server (shards h..n-1)
#           redis-server: one evaluation-key database per group (so /key must reach both groups)
#
# The same phones' checks through both must give identical verdicts, also after one replica of
# group b is SIGKILLed (the router retries on its other replica), and when the whole of group b
# is down the router answers 503 for its shards (the device reports an error for those URLs,
# never a wrong verdict).
#
#   deploy/loopback/split.sh          run it (exit 0 = identical results)
#
# Needs redis-server, python3, curl and the workspace's binaries (built here; debug profile, or
# $CARGO_TARGET_DIR's). Bounded by timeout(1).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DEADLINE_SECS="${SPLIT_DEADLINE_SECS:-300}"
# Built before the deadline starts, with .ci/run's own invocation so CI reuses its artifacts.
if [[ -z "${SPLIT_BOUNDED:-}" && -z "${SPLIT_BIN:-}" ]]; then
    echo "split: building binaries" >&2
    (cd "$ROOT" && cargo build -q --workspace --bins --benches)
fi
if [[ -z "${SPLIT_BOUNDED:-}" ]]; then
    exec timeout --kill-after=15 "$DEADLINE_SECS" env SPLIT_BOUNDED=1 "$0" "$@"
fi
USECASE="example.urlfilter"
USER_TOKEN="split-user-token"
ENTRIES_PER_SHARD=64

for tool in redis-server python3 curl; do
    command -v "$tool" >/dev/null || { echo "split: $tool is not installed" >&2; exit 2; }
done

BIN="${SPLIT_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug}"

WORK="$(mktemp -d -t urlfilter-split.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ "${SPLIT_KEEP_WORK:-0}" != 1 ]]; then rm -rf "$WORK"; else echo "split: work dir $WORK" >&2; fi
}
trap cleanup EXIT
trap 'echo "split: stopped (deadline or signal)" >&2; exit 124' TERM INT

LOG_PREFIX=split
# shellcheck source=common.sh
source "$ROOT/deploy/loopback/common.sh"
read -r REDIS PLAIN PLAIN_ADM ROUTER ROUTER_ADM A1 A2 B1 B2 AA1 AA2 BA1 BA2 < <(free_ports 13)

redis-server --port "$REDIS" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    >"$WORK/redis.log" 2>&1 &
PIDS+=($!)

# The example blocklist plus generated hosts, enough for several shards.
{
    cat "$ROOT/examples/blocklist.txt"
    for ((i = 0; i < 300; i++)); do echo "blocked-$i.example"; done
} >"$WORK/blocklist.txt"
"$BIN/pir-server" build --quiet --urls "$WORK/blocklist.txt" --usecase "$USECASE" \
    --out "$WORK/db" --version v1 --entries-per-shard "$ENTRIES_PER_SHARD" >"$WORK/build.log"
SHARDS=$(awk '$1 == "shards" {print $2}' "$WORK/build.log")
((SHARDS >= 2)) || { echo "split: the database has $SHARDS shard(s), need ≥ 2" >&2; exit 1; }
HALF=$((SHARDS / 2))
echo "split: $SHARDS shards; group a holds 0-$((HALF - 1)), group b $HALF-$((SHARDS - 1))" >&2

SHA=$(printf %s "$USER_TOKEN" | sha256sum | cut -d' ' -f1)
printf '{"user-tokens":[{"sha256":"%s","tier":"tier1"}]}\n' "$SHA" >"$WORK/user-tokens.json"

# The plain topology: one server with every shard, and the issuer both topologies use.
cat >"$WORK/plain.toml" <<EOF
[listen]
service = "127.0.0.1:$PLAIN"
admin = "127.0.0.1:$PLAIN_ADM"
drain_secs = 1
[key_store]
redis_url = "redis://127.0.0.1:$REDIS/0"
[issuer]
user_tokens = "$WORK/user-tokens.json"
[issuer_keys]
file = "$WORK/issuer-keys.json"
[[usecase]]
name = "$USECASE"
directory = "$WORK/db/$USECASE"
EOF
"$BIN/pir-server" serve --config "$WORK/plain.toml" --role all >"$WORK/plain.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$PLAIN_ADM/readyz" 60

# Group replicas: no token checks (the router redeems tokens; only it reaches them), one Redis
# database per group for evaluation keys.
declare -A REPLICA_PID
start_replica() { # name port admin redis-db
    cat >"$WORK/$1.toml" <<EOF
[listen]
service = "127.0.0.1:$2"
admin = "127.0.0.1:$3"
drain_secs = 1
[key_store]
redis_url = "redis://127.0.0.1:$REDIS/$4"
[auth]
enabled = false
[issuer_keys]
file = "$WORK/issuer-keys.json"
[[usecase]]
name = "$USECASE"
directory = "$WORK/db/$USECASE"
EOF
    "$BIN/pir-server" serve --config "$WORK/$1.toml" --role service >"$WORK/$1.log" 2>&1 &
    REPLICA_PID[$1]=$!
    PIDS+=($!)
}
start_replica a1 "$A1" "$AA1" 1
start_replica a2 "$A2" "$AA2" 1
start_replica b1 "$B1" "$BA1" 2
start_replica b2 "$B2" "$BA2" 2
for port in "$AA1" "$AA2" "$BA1" "$BA2"; do wait_http "http://127.0.0.1:$port/readyz" 60; done

cat >"$WORK/router.toml" <<EOF
[listen]
service = "127.0.0.1:$ROUTER"
admin = "127.0.0.1:$ROUTER_ADM"
drain_secs = 1
[issuer_keys]
file = "$WORK/issuer-keys.json"
[router]
group_timeout_ms = 20000
http2 = true
[[router.group]]
name = "a"
replicas = ["http://127.0.0.1:$A1", "http://127.0.0.1:$A2"]
shards = { "$USECASE" = "0-$((HALF - 1))" }
[[router.group]]
name = "b"
replicas = ["http://127.0.0.1:$B1", "http://127.0.0.1:$B2"]
shards = { "$USECASE" = "$HALF-$((SHARDS - 1))" }
EOF
"$BIN/pir-server" serve --config "$WORK/router.toml" --role router >"$WORK/router.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$ROUTER_ADM/readyz" 30

# Blocked URLs from every shard, and allowed ones.
URLS=(https://www.apple.com/url-filter-test https://example.com/x https://allowed.example.org/)
for i in 3 41 77 108 150 199 233 271 299; do URLS+=("https://blocked-$i.example/page"); done
for i in 1 2 3; do URLS+=("https://not-blocked-$i.example/"); done

check() { # service state-file ; prints the verdict lines, returns the device's exit code
    local code=0
    "$BIN/urlfilter" check "${URLS[@]}" --service "http://127.0.0.1:$1" \
        --issuer "http://127.0.0.1:$PLAIN" --usecase "$USECASE" --user-token "$USER_TOKEN" \
        --state "$2" --timeout-secs 30 >"$2.out" 2>"$2.err" || code=$?
    # Verdict lines only (the indented lines carry timings).
    grep -E '^(BLOCKED|allowed)' "$2.out" || true
    return "$code"
}

failed=0
compare() { # label
    local plain split pcode=0 scode=0
    plain=$(check "$PLAIN" "$WORK/phone-plain.json") || pcode=$?
    split=$(check "$ROUTER" "$WORK/phone-split.json") || scode=$?
    if [[ "$plain" != "$split" || "$pcode" != "$scode" || "$pcode" == 2 ]]; then
        echo "split: $1: results differ (plain exit $pcode, split exit $scode)" >&2
        diff <(echo "$plain") <(echo "$split") >&2 || true
        cat "$WORK/phone-split.json.err" >&2
        failed=$((failed + 1))
    else
        echo "split: $1: identical ($(grep -c BLOCKED <<<"$split") blocked, $(grep -c allowed <<<"$split") allowed)" >&2
    fi
}

compare "first run (keys uploaded)"
compare "second run (stored keys)"
echo "split: SIGKILL replica b1" >&2
kill -KILL "${REPLICA_PID[b1]}"
compare "group b on one replica"
compare "group b on one replica, again"

echo "split: SIGKILL replica b2 (group b down)" >&2
kill -KILL "${REPLICA_PID[b2]}"
code=0
down=$(check "$ROUTER" "$WORK/phone-split.json") || code=$?
plain=$(check "$PLAIN" "$WORK/phone-plain.json") || true
# Group b's URLs get the router's 503 (the device reports an error for them); every verdict the
# device still prints (group a's shards, prefilter negatives) is the plain topology's.
wrong=$(grep -Fxv -f <(echo "$plain") <<<"$down" || true)
if ((code != 2)) || ! grep -q "HTTP 503" "$WORK/phone-split.json.out" || [[ -n "$wrong" ]]; then
    echo "split: with group b down: exit $code (want 2), verdicts not in the plain run: ${wrong:-none}" >&2
    cat "$WORK/phone-split.json.out" >&2
    failed=$((failed + 1))
else
    echo "split: group b down: $(grep -c "HTTP 503" "$WORK/phone-split.json.out") URLs get 503, the other $(grep -c . <<<"$down") verdicts match the plain run" >&2
fi

if grep -l -E "panicked" "$WORK"/*.log >/dev/null 2>&1; then
    echo "split: panic in logs" >&2
    failed=$((failed + 1))
fi
if ((failed)); then
    echo "split: FAILED ($failed checks); logs kept in $WORK" >&2
    SPLIT_KEEP_WORK=1
    exit 1
fi
echo "split: passed (2 groups × 2 replicas behind the router, identical to one server)" >&2
