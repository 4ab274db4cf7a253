#!/usr/bin/env bash
# ./dev bench [--perf]: issue 11's benchmark (docs/performance.md "Method"). In one run, on this
# machine: the stack exactly as ./dev up runs it (scripts/stack.sh: moneta.json as shipped, access
# log at info, shedding, breakers, metrics; Redis with a password and AOF everysec; nginx with the
# deploy/ edge config and X-Edge-Auth), 100,000 accounts with live sessions, every endpoint
# measured per request (CPU of every process, heap allocations, Redis commands, round trips, AOF
# bytes), with 1 and 2 moneta workers, next to an nginx `return 200` baseline.
#
# Env: BENCH_DURATION (s per row, 10), BENCH_CONNECTIONS (64), BENCH_ACCOUNTS (100000),
#      BENCH_WORKERS ("1 2"), BENCH_TAIL (1: the 80 % open-loop rows), BENCH_MICRO (1),
#      BENCH_TRACING (1: heartbeat and start rows with tracing off, at 1 % and at 100 % sampling,
#      exporting to bench/otlp_sink; issue 12's budget; first worker count only),
#      BENCH_BIN_DIR (a Release tree whose moneta and internal_api are run instead of this tree's,
#      e.g. /work/wt-before/build/release; the load generator, the allocation counter and
#      jwt_tool always come from this tree), BENCH_RESULTS (build/bench/results.json),
#      BENCH_THREADS (0; 1: under each moneta row, its CPU per request by thread, user/system),
#      BENCH_SYSCALLS (a row label's beginning, e.g. "heartbeat @": moneta's syscalls per
#      request under those rows, perf stat), BENCH_HB_RATE (the open-loop direct heartbeat row and its baseline at this rate, req/s,
#      instead of 80 % of the first heartbeat row's maximum: for comparing trees across runs).
# --perf: also record `perf record -g` of moneta under the heartbeat and start loads (1 worker)
#      and print the top symbols.
# --callgrind: also count moneta's instructions per steady heartbeat under valgrind's callgrind
#      (BENCH_CALLGRIND_N heartbeats, 20000; 1 worker) and print the top functions, inclusive: a
#      figure that does not move with this VM's neighbours, for before/after of small changes.
# --cluster: then the heartbeat (first, steady) and warm start rows again with moneta on a Redis
#      Cluster (scripts/cluster.sh, 3 masters + 3 replicas), first worker count only: rows marked
#      [cluster], "redis_mode":"cluster" in results.json (bench/lib.sh cluster_rows).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PERF=0
CLUSTER=0
CALLGRIND=0
for arg in "$@"; do
    case "$arg" in
        --perf) PERF=1 ;;
        --cluster) CLUSTER=1 ;;
        --callgrind) CALLGRIND=1 ;;
        *) echo "usage: ./dev bench [--perf] [--cluster] [--callgrind]" >&2; exit 2 ;;
    esac
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/moneta-bench.XXXXXX")"
# The stack's state (secrets, pid files, logs, Redis AOF) lives in the bench's own directory, on
# ports of its own: a running ./dev up is left alone.
export MONETA_DEV_DIR="$WORK/dev"
source "$ROOT/scripts/lib.sh"
source "$ROOT/bench/lib.sh"

DURATION="${BENCH_DURATION:-10}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
ACCOUNTS="${BENCH_ACCOUNTS:-100000}"
WORKER_SETS="${BENCH_WORKERS:-1 2}"
TAIL="${BENCH_TAIL:-1}"
MICRO="${BENCH_MICRO:-1}"
BUILD_DIR="$MONETA_BUILD_DIR/release"
BIN_DIR="${BENCH_BIN_DIR:-$BUILD_DIR}"
RESULTS="${BENCH_RESULTS:-$MONETA_BUILD_DIR/bench/results.json}"
FIXTURES="$ROOT/bench/fixtures/bench_100k.json"

ensure_packages
[[ $PERF -eq 1 ]] && ensure_bench_perf
log "building (Release) in $BUILD_DIR"
build_tree "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DMONETA_BUILD_TESTS=OFF -DMONETA_BUILD_BENCH=ON
cmake -S "$ROOT" -B "$BUILD_DIR" -DMONETA_BUILD_BENCH=ON >/dev/null
targets=(moneta_load moneta_alloc_count jwt_tool moneta_otlp_sink)
[[ "$MICRO" == 1 ]] && targets+=(moneta_micro_bench)
[[ -z "${BENCH_BIN_DIR:-}" ]] && targets+=(moneta internal_api)
cmake --build "$BUILD_DIR" -j "$MONETA_JOBS" --target "${targets[@]}" >/dev/null
LOAD="$BUILD_DIR/bench/load/moneta_load"
SHIM="$BUILD_DIR/bench/alloc_count/libmoneta_alloc_count.so"
JWT_TOOL="$BUILD_DIR/tools/jwt_tool/jwt_tool"
OTLP_SINK="$BUILD_DIR/bench/otlp_sink/moneta_otlp_sink"
TRACING="${BENCH_TRACING:-1}"
BIN_MONETA_SUT="$BIN_DIR/services/moneta/moneta"
# The SUT's own shipped config (another tree's binary may not know this tree's settings).
SUT_CONFIG="$ROOT/services/moneta/config/moneta.json"
if [[ -n "${BENCH_BIN_DIR:-}" && -f "$BIN_DIR/../../services/moneta/config/moneta.json" ]]; then
    SUT_CONFIG="$(cd "$BIN_DIR/../.." && pwd)/services/moneta/config/moneta.json"
fi
BIN_IA_SUT="$BIN_DIR/services/internal_api/internal_api"
[[ -x "$BIN_MONETA_SUT" && -x "$BIN_IA_SUT" ]] || die "$BIN_DIR lacks services/moneta/moneta or services/internal_api/internal_api"
COMMIT="$(git -C "$(dirname "$BIN_DIR")/.." rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -z "${BENCH_BIN_DIR:-}" ]] && COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"

# Free ports for the bench's own stack (scripts/stack.sh reads these).
MONETA_PORT=$(free_port); MONETA_ADMIN_PORT=$(free_port); MONETA_REDIS_PORT=$(free_port)
INTERNAL_API_PORT=$(free_port); MONETA_EDGE_PORT=$(free_port); BASE_PORT=$(free_port)
MONETA_EDGE_STATUS_PORT=$(free_port)  # nginx's stub_status listener (deploy/nginx)
export MONETA_PORT MONETA_ADMIN_PORT MONETA_REDIS_PORT INTERNAL_API_PORT MONETA_EDGE_PORT MONETA_EDGE_STATUS_PORT
export MONETA_FIXTURES="$FIXTURES"
# All the bench's load comes from one address: nginx's per-address limit (50 r/s as shipped) would
# answer 429 to nearly all of it. Lifted for the bench only; every other edge setting is as shipped.
export MONETA_EDGE_RATE_PER_SEC=10000000 MONETA_EDGE_RATE_BURST=1000000
source "$ROOT/scripts/stack.sh"
BIN_MONETA="$BIN_MONETA_SUT"
BIN_INTERNAL_API="$BIN_IA_SUT"
mkdir -p "$RUN_DIR" "$LOG_DIR" "$MONETA_DEV_DIR/redis" "$MONETA_DEV_DIR/data"
load_stack_secrets
trap bench_cleanup EXIT

# Cores: the system under test on CPU 0; the load generator, redis-server and the internal API on
# CPU 1. With 2 workers moneta gets both cores and shares them with everything (said in the output).
NCPU=$(nproc)
CPU_SUT=0
CPU_LOAD=1
[[ $NCPU -lt 2 ]] && CPU_LOAD=0
CPU_ALL="0-$((NCPU - 1))"

log "starting redis (AOF everysec, password) and the internal API with $FIXTURES"
render_redis_conf
start_bg redis redis-server "$MONETA_REDIS_PORT" "$ENV_REDIS" taskset -c "$CPU_LOAD" redis-server "$RUN_DIR/redis.conf"
start_bg internal_api internal_api "$INTERNAL_API_PORT" "$ENV_INTERNAL_API" taskset -c "$CPU_LOAD" "$BIN_INTERNAL_API" \
    --config "$ROOT/services/internal_api/config/internal_api.json" \
    --port "$INTERNAL_API_PORT" --db "$MONETA_DEV_DIR/data/internal_api.sqlite" --fixtures "$FIXTURES"
REDIS_PIDS=("$(pidfile_pid "$RUN_DIR/redis.pid")")
wait_redis
# AOF rewrites (a fork every time the file doubles) would make aof_current_size shrink in the
# middle of a row: off for the bench, so AOF bytes per request are exact. Appends stay everysec.
redis_cli CONFIG SET auto-aof-rewrite-percentage 0 >/dev/null
# Redis's own record of its stalls (an event loop turn, a command, an AOF write or fsync of 1 ms
# or more): printed under the open-loop rows, where they explain the tail. Only events above the
# threshold are recorded, so it costs nothing in between.
redis_cli CONFIG SET latency-monitor-threshold 1 >/dev/null

# Tokens for every account (one process, HS256, valid 2 h) while the internal API loads its
# SQLite (~130,000 generated accounts, of which ACCOUNTS can start playback).
t_prep=$SECONDS
"$BIN_IA_SUT" --dump-bench-accounts "$ACCOUNTS" --fixtures "$FIXTURES" >"$WORK/accounts.txt"
MONETA_JWT_SECRET="$MONETA_JWT_SECRET" "$JWT_TOOL" sign-bulk --secret-env MONETA_JWT_SECRET --ttl 7200 \
    --iss moneta-dev --aud moneta <"$WORK/accounts.txt" >"$WORK/tokens.txt"
ACCOUNTS_GOT=$(wc -l <"$WORK/tokens.txt")
[[ $ACCOUNTS_GOT -ge 1 ]] || die "no bench accounts"
write_request_files "$WORK" "$WORK/tokens.txt"
wait_http "http://127.0.0.1:$INTERNAL_API_PORT/healthz" 180 internal_api

render_nginx_conf
start_bg nginx nginx "$MONETA_EDGE_PORT" "$ENV_NGINX" taskset -c "$CPU_SUT" nginx -p "$RUN_DIR/nginx" \
    -c "$RUN_DIR/nginx/nginx.conf" -e "$RUN_DIR/nginx/error.log"
EDGE_PID=$(pidfile_pid "$RUN_DIR/nginx.pid")
mkdir -p "$WORK/base"
sed -e "s#@RUN_DIR@#$WORK/base#g" -e "s#@PORT@#$BASE_PORT#" -e "s#@CPU_MASK@#$(printf '%x' $((1 << CPU_SUT)))#" \
    "$ROOT/bench/load/nginx_baseline.conf.template" >"$WORK/base/nginx.conf"
taskset -c "$CPU_SUT" nginx -p "$WORK/base" -c "$WORK/base/nginx.conf" -e "$WORK/base/error.log" &
BASE_PID=$!
BENCH_PIDS+=("$BASE_PID")
wait_http "http://127.0.0.1:$BASE_PORT/" 30 "nginx baseline"

: >"$WORK/results.jsonl"
echo
print_header
run_row baseline "nginx return 200 (baseline)" 0 closed "$BASE_PORT" "$WORK/heartbeat_base.tsv" base

for WORKERS in $WORKER_SETS; do
    start_moneta "$WORKERS"
    first=0
    [[ "$WORKERS" == "$(first_word "$WORKER_SETS")" ]] && first=1
    [[ $first -eq 1 ]] && mem0=$(redis_info memory used_memory)
    [[ $first -eq 1 ]] && warm_caches "$WORKERS"
    prepare_sessions "$WORKERS"
    if [[ $first -eq 1 ]]; then
        mem1=$(redis_info memory used_memory)
        LIVE_ALL=$((LIVE + $(grep -c . "$WORK/warm_sids.txt" || true)))
        MEM_PER_SESSION=$(awk -v a="$mem0" -v b="$mem1" -v n="$LIVE_ALL" 'BEGIN { printf "%.0f", (b - a) / n }')
        log "Redis used_memory: $mem0 -> $mem1 bytes with $LIVE_ALL live sessions (bench- and hb- devices of $LIVE accounts)"
        log "preparation (tokens, SQLite, caches, sessions) took $((SECONDS - t_prep)) s"
    fi
    # Heartbeat rows walk on through heartbeat.tsv (ROW_OFFSET), so every session keeps its lease.
    # At most one pass over the sessions: a session's second heartbeat seconds after its first
    # does less work and would skew the row (docs/performance.md).
    ROW_OFFSET=0 ROW_MAX=$LIVE run_row heartbeat "moneta heartbeat (first)" "$WORKERS" closed "$MONETA_PORT" "$WORK/heartbeat.tsv" moneta
    HB_MAX=$ROW_RPS; HB_OFFSET=$ROW_NEXT
    # The steady state: the sessions the first row reached, 30 s of playback later (position
    # moved, seq higher). A player heartbeats every 30 s for the whole title, so this is the
    # heartbeat a capacity plan multiplies; the first one is paid once per session.
    ROW_OFFSET=0 ROW_MAX=$HB_OFFSET run_row heartbeat "moneta heartbeat (steady)" "$WORKERS" closed "$MONETA_PORT" "$WORK/heartbeat_next.tsv" moneta
    if [[ "$TAIL" == 1 ]]; then
        # 80 % of each path's own maximum: through nginx the edge shares moneta's core (CPU 0) on
        # this machine, so its maximum is lower, and 80 % of the direct maximum would be an
        # overload that measures a growing queue, not a tail.
        # BENCH_HB_RATE fixes the direct row's rate instead: per-request CPU and syscalls depend
        # on the rate (batching), so trees compared across runs need the same one.
        hb_rate=$(awk -v r="$HB_MAX" 'BEGIN { printf "%.0f", r * 0.8 }')
        hb_label="heartbeat @80% direct"
        if [[ -n "${BENCH_HB_RATE:-}" ]]; then
            hb_rate="$BENCH_HB_RATE"
            hb_label="heartbeat @$hb_rate/s direct"
        fi
        ROW_OFFSET=$HB_OFFSET ROW_MAX=$LIVE run_row heartbeat "$hb_label" "$WORKERS" "open@$hb_rate" "$MONETA_PORT" "$WORK/heartbeat.tsv" moneta
        HB_OFFSET=$ROW_NEXT
        # The baseline at the same arrival rate, its generator on the same core: CPU per request
        # depends on the load (at its own maximum nginx never sleeps and reads many requests per
        # wake-up; at a heartbeat's rate it does not), so this is the like-for-like ratio at the
        # operating point a capacity plan uses; the closed-loop baseline row stays the upper bound.
        SAME_LOAD_CPU=$ROW_LOAD_CPU_USED run_row baseline_at_heartbeat_rate "nginx return 200 @ that rate" 0 "open@$hb_rate" "$BASE_PORT" "$WORK/heartbeat_base.tsv" base
        ROW_OFFSET=$HB_OFFSET ROW_MAX=$LIVE run_row heartbeat "heartbeat via nginx" "$WORKERS" closed "$MONETA_EDGE_PORT" "$WORK/heartbeat.tsv" edge
        HB_OFFSET=$ROW_NEXT
        hb_edge_rate=$(awk -v r="$ROW_RPS" 'BEGIN { printf "%.0f", r * 0.8 }')
        ROW_OFFSET=$HB_OFFSET ROW_MAX=$LIVE run_row heartbeat "heartbeat @80% via nginx" "$WORKERS" "open@$hb_edge_rate" "$MONETA_EDGE_PORT" "$WORK/heartbeat.tsv" edge
    fi
    run_row start "moneta start (warm)" "$WORKERS" closed "$MONETA_PORT" "$WORK/start.tsv" moneta
    START_MAX=$ROW_RPS; START_OFFSET=$ROW_NEXT
    if [[ "$TAIL" == 1 ]]; then
        st_rate=$(awk -v r="$START_MAX" 'BEGIN { printf "%.0f", r * 0.8 }')
        ROW_OFFSET=$START_OFFSET run_row start "start @80% direct" "$WORKERS" "open@$st_rate" "$MONETA_PORT" "$WORK/start.tsv" moneta
        START_OFFSET=$ROW_NEXT
        ROW_OFFSET=$START_OFFSET run_row start "start via nginx" "$WORKERS" closed "$MONETA_EDGE_PORT" "$WORK/start.tsv" edge
        START_OFFSET=$ROW_NEXT
        st_edge_rate=$(awk -v r="$ROW_RPS" 'BEGIN { printf "%.0f", r * 0.8 }')
        ROW_OFFSET=$START_OFFSET run_row start "start @80% via nginx" "$WORKERS" "open@$st_edge_rate" "$MONETA_EDGE_PORT" "$WORK/start.tsv" edge
    fi
    run_row progress_put "moneta PUT /v1/me/progress/{id}" "$WORKERS" closed "$MONETA_PORT" "$WORK/progress_put.tsv" moneta
    # The reads go to the profiles the PUT row just wrote (a cached answer, the steady state): a
    # profile never read before is an internal-API read (measured by the cold start row).
    head -n "$((ROW_N > 0 ? ROW_N : 1))" "$WORK/progress_get.tsv" >"$WORK/progress_get_now.tsv"
    head -n "$((ROW_N > 0 ? ROW_N : 1))" "$WORK/continue.tsv" >"$WORK/continue_now.tsv"
    run_row progress_get "moneta GET /v1/me/progress" "$WORKERS" closed "$MONETA_PORT" "$WORK/progress_get_now.tsv" moneta
    # A profile's first continue-watching since Redis last held its whole list loads it from the
    # internal API (4 round trips); every later one is a read (2). The PUT row wrote one title per
    # profile but loaded no list, so the first worker count's first row is that first read; the
    # steady row then reads lists already loaded (later worker counts find them all loaded).
    cw_file="$WORK/continue_now.tsv"
    if [[ $first -eq 1 ]]; then
        run_row continue_watching "moneta continue-watching (first)" "$WORKERS" closed "$MONETA_PORT" "$cw_file" moneta
        head -n "$((ROW_N > 0 ? ROW_N : 1))" "$cw_file" >"$WORK/continue_loaded.tsv"
        cw_file="$WORK/continue_loaded.tsv"
    fi
    run_row continue_watching "moneta continue-watching (steady)" "$WORKERS" closed "$MONETA_PORT" "$cw_file" moneta
    run_row session_list "moneta GET /v1/playback/sessions" "$WORKERS" closed "$MONETA_PORT" "$WORK/list.tsv" moneta
    # Stop consumes sessions: fresh ones (leases are 90 s), each once, at most as many as the
    # heartbeat row answered in BENCH_DURATION, so the row lasts about that long.
    prepare_sessions "$WORKERS" quiet
    stop_n=$(awk -v r="$HB_MAX" -v d="$DURATION" -v n="$LIVE" 'BEGIN { m = int(r * d); if (m < 1) m = 1; print (m < n ? m : n) }')
    head -n "$stop_n" "$WORK/stop.tsv" >"$WORK/stop_now.tsv"
    run_row stop "moneta stop" "$WORKERS" once "$MONETA_PORT" "$WORK/stop_now.tsv" moneta
    if [[ "$TRACING" == 1 && $first -eq 1 ]]; then
        tracing_rows "$WORKERS"
    fi
    if [[ $PERF -eq 1 && $first -eq 1 ]]; then
        prepare_sessions "$WORKERS" quiet
        # Profile the steady heartbeat: one first heartbeat per session, then the next ones.
        warmed=$(kv next_offset "$(ROW_MAX=$LIVE run_load "$MONETA_PORT" "$WORK/heartbeat.tsv" closed)")
        ROW_MAX=${warmed:-$LIVE} perf_profile "heartbeat (steady)" "$WORK/heartbeat_next.tsv"
        perf_profile start "$WORK/start.tsv"
    fi
    if [[ $CALLGRIND -eq 1 && $first -eq 1 ]]; then
        callgrind_profile "$WORKERS" "${BENCH_CALLGRIND_N:-20000}"
    fi
    stop_moneta
done
[[ $CLUSTER -eq 1 ]] && cluster_rows "$(first_word "$WORKER_SETS")"
print_legend
write_results_json

if [[ "$MICRO" == 1 ]]; then
    echo
    log "micro benchmarks (CPU of the pure start/heartbeat parts, baselines marked Baseline_)"
    taskset -c "$CPU_SUT" "$BUILD_DIR/bench/micro/moneta_micro_bench" --benchmark_min_time=0.2 2>/dev/null \
        | grep -E '^(BM_|Benchmark|-)' || true
fi
