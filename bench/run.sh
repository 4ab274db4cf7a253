#!/usr/bin/env bash
# ./dev bench: load benchmarks of the warm start and the heartbeat, moneta on ONE core, next to
# an nginx `return 200` baseline on the same core in the same run (figures are only comparable
# within one run). Starts its own redis, internal-api, moneta and nginx on free ports.
#
# Env: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 32), BENCH_ACCOUNTS (200).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/lib.sh"

DURATION="${BENCH_DURATION:-10}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
ACCOUNTS="${BENCH_ACCOUNTS:-200}"
RELEASE_DIR="$MONETA_BUILD_DIR/release"

ensure_packages
log "building (Release)"
build_tree "$RELEASE_DIR" -DCMAKE_BUILD_TYPE=Release -DMONETA_BUILD_TESTS=OFF -DMONETA_BUILD_BENCH=OFF
cmake -S "$ROOT" -B "$RELEASE_DIR" -DMONETA_BUILD_BENCH=ON >/dev/null
cmake --build "$RELEASE_DIR" -j "$MONETA_JOBS" --target moneta internal_api jwt_tool moneta_micro_bench >/dev/null

WORK="$(mktemp -d "${TMPDIR:-/tmp}/moneta-bench.XXXXXX")"
PIDS=()
cleanup() {
    local p i
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    # moneta drains and flushes on TERM: give everything up to 10 s before KILL.
    for ((i = 0; i < 100; i++)); do
        local alive=0
        for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [[ $alive -eq 0 ]] && break
        sleep 0.1
    done
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
# cpu_ticks <pid>: user+system CPU ticks of a process so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)
trap cleanup EXIT

free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    die "no free port"
}
wait_http() {
    local i
    for ((i = 0; i < 300; i++)); do
        curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    tail -n 5 "$WORK"/*.log >&2 || true
    die "not ready: $1"
}

# Core 0: the system under test (moneta, or the nginx baseline). Core 1: wrk, redis, internal-api.
CPU_SUT=0
CPU_LOAD=1
[[ $(nproc) -lt 2 ]] && CPU_LOAD=0

REDIS_PORT=$(free_port); IA_PORT=$(free_port); MONETA_P=$(free_port); ADMIN_P=$(free_port); BASE_P=$(free_port)
export MONETA_JWT_SECRET="$(openssl rand -hex 32)" INTERNAL_API_TOKEN="$(openssl rand -hex 32)"
export MONETA_DRM_SITE_KEY="$(openssl rand -hex 16)" MONETA_DRM_ACCESS_KEY="$(openssl rand -hex 16)"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/cdn_key.pem" 2>/dev/null
# The start benchmark replays the same accounts far above any sane per-account rate.
export MONETA_CDN_KEY_FILE="$WORK/cdn_key.pem" MONETA_START_RATE_PER_MIN=0

# Redis with a password, as ./dev up runs it: in a 0600 config file, not on the command line;
# moneta alone gets it (MONETA_REDIS_PASSWORD on its command, not exported).
REDIS_PASSWORD="$(openssl rand -hex 32)"
(umask 077 && printf 'requirepass %s\n' "$REDIS_PASSWORD" >"$WORK/redis.conf")
taskset -c $CPU_LOAD redis-server "$WORK/redis.conf" --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK" --save "" \
    --appendonly yes --appendfsync everysec --daemonize no >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
REDIS_PID=$!
taskset -c $CPU_LOAD "$RELEASE_DIR/services/internal_api/internal_api" \
    --config "$ROOT/services/internal_api/config/internal_api.json" --port "$IA_PORT" \
    --db "$WORK/ia.sqlite" --fixtures "$MONETA_FIXTURES" >"$WORK/internal_api.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$IA_PORT/healthz"
MONETA_PORT=$MONETA_P MONETA_ADMIN_PORT=$ADMIN_P MONETA_REDIS_PORT=$REDIS_PORT INTERNAL_API_PORT=$IA_PORT \
    MONETA_REDIS_PASSWORD="$REDIS_PASSWORD" MONETA_THREADS=1 MONETA_LOG_LEVEL=warn taskset -c $CPU_SUT "$RELEASE_DIR/services/moneta/moneta" \
    --config "$ROOT/services/moneta/config/moneta.json" >"$WORK/moneta.log" 2>&1 &
PIDS+=($!)
MONETA_PID=$!
wait_http "http://127.0.0.1:$MONETA_P/readyz"

mkdir -p "$WORK/nginx"
sed -e "s#@RUN_DIR@#$WORK/nginx#g" -e "s#@PORT@#$BASE_P#" -e "s#@CPU_MASK@#$(printf '%x' $((1 << CPU_SUT)))#" \
    "$ROOT/bench/load/nginx_baseline.conf.template" >"$WORK/nginx/nginx.conf"
taskset -c $CPU_SUT nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$BASE_P/"

# Accounts that can play m_1 (active premium/standard ones of the demo fixtures) and tokens.
log "preparing $ACCOUNTS accounts, tokens and live sessions"
"$RELEASE_DIR/services/internal_api/internal_api" --dump-bench-accounts "$ACCOUNTS" \
    --fixtures "$MONETA_FIXTURES" >"$WORK/accounts.txt"
: >"$WORK/start.txt"
: >"$WORK/heartbeat.txt"
while read -r account profile content; do
    token="$("$RELEASE_DIR/tools/jwt_tool/jwt_tool" sign --secret-env MONETA_JWT_SECRET --sub "$account" \
        --pid "$profile" --ttl 3600 --iss moneta-dev --aud moneta)"
    echo "$token $content bench-$account" >>"$WORK/start.txt"
    sid="$(curl -fsS -X POST "http://127.0.0.1:$MONETA_P/v1/playback/sessions" \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d "{\"content_id\":\"$content\",\"device\":{\"id\":\"hb-$account\",\"type\":\"tv\"},\"capabilities\":{\"protocols\":[\"dash\"],\"drm\":[\"widevine\"],\"video_codecs\":[\"avc\"],\"max_height\":1080}}" \
        | sed -n 's/.*"session_id":"\([^"]*\)".*/\1/p')"
    [[ -n "$sid" ]] && echo "$token $sid" >>"$WORK/heartbeat.txt"
done <"$WORK/accounts.txt"
[[ -s "$WORK/heartbeat.txt" ]] || die "could not create any session (see $WORK/moneta.log)"

# metric <name> [label filter]: the sum of matching series on moneta's /metrics.
metric() {
    curl -fsS "http://127.0.0.1:$ADMIN_P/metrics" | awk -v n="$1" -v f="${2:-}" \
        'index($0, n) == 1 && (substr($0, length(n) + 1, 1) == " " || substr($0, length(n) + 1, 1) == "{") && index($0, f) { s += $NF } END { printf "%.0f", s }'
}

# run_wrk <label> <url> <script> <input> [moneta]: prints req/s, p50, p99, non-2xx and, for moneta,
# Redis round trips and internal-API calls per request measured over the run.
run_wrk() {
    local out rt0 ia0 rt1 ia1 mc0 rc0
    if [[ -n "${5:-}" ]]; then
        rt0=$(metric moneta_redis_round_trips_total); ia0=$(metric moneta_internal_api_requests_total)
        mc0=$(cpu_ticks "$MONETA_PID"); rc0=$(cpu_ticks "$REDIS_PID")
    fi
    out="$(taskset -c $CPU_LOAD wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$3" "$2" -- "$4")"
    local rps p50 p99 errors requests extra=""
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p50="$(awk '/^ +50%/ {print $2}' <<<"$out")"
    p99="$(awk '/^ +99%/ {print $2}' <<<"$out")"
    errors="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
    requests="$(awk '/requests in/ {print $1}' <<<"$out")"
    if [[ -n "${5:-}" ]]; then
        rt1=$(metric moneta_redis_round_trips_total); ia1=$(metric moneta_internal_api_requests_total)
        local mc1 rc1
        mc1=$(cpu_ticks "$MONETA_PID"); rc1=$(cpu_ticks "$REDIS_PID")
        extra="$(awk -v r="$requests" -v a="$rt0" -v b="$rt1" -v c="$ia0" -v d="$ia1" \
            -v m0="$mc0" -v m1="$mc1" -v q0="$rc0" -v q1="$rc1" -v hz="$CLK_TCK" \
            'BEGIN { printf "%9.2f %9.0f %10.1f %10.1f", (b - a) / r, d - c, (m1 - m0) / hz * 1e6 / r, (q1 - q0) / hz * 1e6 / r }')"
    fi
    printf '%-30s %12s %10s %10s %8s %s\n' "$1" "$rps" "$p50" "$p99" "${errors:-0}" "$extra"
}

log "warming up"
taskset -c $CPU_LOAD wrk -t1 -c"$CONNECTIONS" -d2s -s "$ROOT/bench/load/start.lua" \
    "http://127.0.0.1:$MONETA_P" -- "$WORK/start.txt" >/dev/null

echo
printf 'moneta: 1 worker thread on CPU %s; wrk -t1 -c%s -d%ss on CPU %s\n' "$CPU_SUT" "$CONNECTIONS" "$DURATION" "$CPU_LOAD"
printf '%-30s %12s %10s %10s %8s %9s %9s %10s %10s\n' "endpoint" "req/s" "p50" "p99" "non-2xx" "redis_rt" "ia_calls" "moneta_us" "redis_us"
run_wrk "nginx return 200 (baseline)" "http://127.0.0.1:$BASE_P" "$ROOT/bench/load/heartbeat.lua" "$WORK/heartbeat.txt"
run_wrk "moneta start (warm)" "http://127.0.0.1:$MONETA_P" "$ROOT/bench/load/start.lua" "$WORK/start.txt" moneta
run_wrk "moneta heartbeat" "http://127.0.0.1:$MONETA_P" "$ROOT/bench/load/heartbeat.lua" "$WORK/heartbeat.txt" moneta
echo "moneta_us / redis_us: CPU microseconds per request of the moneta / redis-server process over the run."
echo "redis_rt: Redis round trips per request (worker connections). ia_calls: internal-API calls during the run: start = reads (warm: 0); heartbeat = write-behind batches (one per flush interval)."

echo
log "micro benchmarks (CPU of the pure start/heartbeat parts, baselines marked Baseline_)"
taskset -c $CPU_SUT "$RELEASE_DIR/bench/micro/moneta_micro_bench" --benchmark_min_time=0.2 2>/dev/null \
    | grep -E '^(BM_|Benchmark|-)' || true
