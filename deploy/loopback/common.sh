# Helpers shared by run.sh and split.sh (sourced; set LOG_PREFIX first).

# Prints N free loopback ports (bound at once, so they are distinct; released before use).
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

wait_http() { # url, seconds
    local url="$1" deadline=$((SECONDS + $2))
    until curl -fsS -o /dev/null "$url" 2>/dev/null; do
        ((SECONDS < deadline)) || { echo "$LOG_PREFIX: $url not up" >&2; return 1; }
        sleep 0.2
    done
}
