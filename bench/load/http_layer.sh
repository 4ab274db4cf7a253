#!/usr/bin/env bash
# The HTTP layer alone under load (docs/http_server.md "Figures"): wrk sends a heartbeat-shaped
# POST to bench/micro/moneta_http_load_server (a trivial handler, one worker) and to nginx's
# `return 200` baseline, one after the other on the same core; CPU per request from /proc.
#   bench/load/http_layer.sh <moneta_http_load_server binary> [seconds] [connections]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="$1"
DURATION="${2:-10}"
CONNECTIONS="${3:-64}"
CPU_SUT=0
CPU_LOAD=1
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
HZ="$(getconf CLK_TCK)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run <label> <pid> <url>
run() {
    local label="$1" pid="$2" url="$3" t0 t1 out rps
    taskset -c $CPU_LOAD wrk -t1 -c"$CONNECTIONS" -d1s -s "$ROOT/bench/load/http_layer.lua" "$url" >/dev/null
    t0="$(cpu_ticks "$pid")"
    out="$(taskset -c $CPU_LOAD wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$ROOT/bench/load/http_layer.lua" "$url")"
    t1="$(cpu_ticks "$pid")"
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    local total p50 p99
    total="$(awk '/requests in/ {print $1}' <<<"$out")"
    p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
    p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
    awk -v l="$label" -v r="$rps" -v n="$total" -v t="$((t1 - t0))" -v hz="$HZ" -v a="$p50" -v b="$p99" \
        'BEGIN { printf "%-28s %10.0f req/s  %6.2f us CPU/req  p50 %s  p99 %s\n", l, r, t * 1e6 / hz / n, a, b }'
}

BASE_P="$(free_port)"
mkdir -p "$WORK/nginx"
sed -e "s#@RUN_DIR@#$WORK/nginx#g" -e "s#@PORT@#$BASE_P#" -e "s#@CPU_MASK@#$(printf '%x' $((1 << CPU_SUT)))#" \
    "$ROOT/bench/load/nginx_baseline.conf.template" >"$WORK/nginx/nginx.conf"
taskset -c $CPU_SUT nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
sleep 0.5
NGINX_WORKER="$(pgrep -P "$(cat "$WORK/nginx/nginx.pid")" | head -n1)"
run "nginx return 200" "$NGINX_WORKER" "http://127.0.0.1:$BASE_P"
kill "$(cat "$WORK/nginx/nginx.pid")"

SUT_P="$(free_port)"
taskset -c $CPU_SUT "$BIN" "$SUT_P" 1 &
SUT=$!
sleep 0.5
run "$(basename "$BIN")" "$SUT" "http://127.0.0.1:$SUT_P"
kill "$SUT"
wait 2>/dev/null || true
