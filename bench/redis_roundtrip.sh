#!/usr/bin/env bash
# Client CPU and allocations per Redis call (docs/redis_client.md "Measured"): the micro bench of
# the encode and reply-read steps, then 100k EVALSHA against a throwaway redis-server at depth 1
# and 32. Usage: bench/redis_roundtrip.sh [BUILD_DIR=build/release]   (configured with
# -DMONETA_BUILD_BENCH=ON; builds the two targets)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${1:-$ROOT/build/release}"
cmake --build "$DIR" --target moneta_redis_micro_bench moneta_redis_roundtrip_bench -j2 >/dev/null
"$DIR/bench/micro/moneta_redis_micro_bench" --benchmark_min_time=0.5
PORT=$((20000 + RANDOM % 12000))  # below the ephemeral range (bench/lib.sh free_port)
PIDFILE="$(mktemp -u /tmp/moneta-bench-redis.XXXXXX.pid)"
redis-server --port "$PORT" --save '' --appendonly no --daemonize yes --pidfile "$PIDFILE" --logfile /dev/null
trap 'kill "$(cat "$PIDFILE")" 2>/dev/null || true' EXIT
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
for depth in 1 32; do
    "$DIR/bench/micro/moneta_redis_roundtrip_bench" "$PORT" 100000 "$depth"
done
