# shellcheck shell=bash
# Helpers of bench/run.sh (./dev bench). Sourced after scripts/lib.sh; uses run.sh's globals
# (WORK, LOAD, SHIM, CPU_*, ports, pids).

BENCH_PIDS=()
CLK_TCK=$(getconf CLK_TCK)
ROW_SEQ=0          # rows so far: each row's @SEQ@ starts above the previous row's
LIVE=0             # live sessions prepared
MEM_PER_SESSION="" # Redis used_memory per live session (first preparation)
ROW_RPS=0
ROW_N=0            # answers of the last row
ROW_NEXT=0         # the load generator's next_offset after the last row
HB_OFFSET=0        # where the next heartbeat row starts in heartbeat.tsv
MONETA_PID=""
REDIS_PIDS=()      # the redis-server processes whose CPU a row counts: the single one, or every cluster node
REDIS_STAT_PORTS=() # the Redis servers whose INFO a row reads: the single one, or the cluster's masters
ROW_REDIS_MODE=single # "redis_mode" of the rows (results.json)
ROW_SUFFIX=""      # appended to every row's label (" [cluster]")

first_word() {
    local -a words
    read -r -a words <<<"$1"
    echo "${words[0]:-}"
}

# free_port: a port nothing listens on, below Linux's ephemeral range (32768-60999): a port in
# that range can be some outgoing connection's local port, which connect() cannot see and which
# makes the listener's bind() fail (seen once: the baseline nginx could not bind).
free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 12000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    die "no free port"
}

# linux-perf for ./dev bench --perf (not in MONETA_PACKAGES: only the profile needs it).
ensure_bench_perf() {
    if ! command -v perf >/dev/null; then
        if [[ $(id -u) -eq 0 ]]; then
            log "installing linux-perf"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >/dev/null \
                || log "linux-perf could not be installed"
        fi
    fi
    command -v perf >/dev/null || { log "perf unavailable (install linux-perf): --perf ignored"; PERF=0; return 0; }
    if ! perf record -q -o "$WORK/perf.probe" -- true >/dev/null 2>&1; then
        log "perf cannot record here (kernel.perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo ?)," \
            "not root, or perf_event_open blocked by the container): --perf ignored." \
            "As root: sysctl kernel.perf_event_paranoid=1"
        # shellcheck disable=SC2034 # PERF is bench/run.sh's --perf flag, read there
        PERF=0
    fi
}

bench_cleanup() {
    local p
    for p in "${BENCH_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    stack_down >/dev/null 2>&1 || true
    for p in "${BENCH_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}

# --- request files (bench/load/request_file.hpp: METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY) ---------------

# write_request_files <dir> <tokens>: tokens lines are "token account profile content".
write_request_files() {
    local dir="$1" tokens="$2"
    awk -v dir="$dir" 'BEGIN { OFS = "\t"; caps = "\"capabilities\":{\"protocols\":[\"dash\",\"hls\"],\"drm\":[\"widevine\"],\"video_codecs\":[\"avc\",\"hevc\"],\"max_height\":1080}" }
    {
        tok = $1; acct = $2; content = $4
        print "POST", "/v1/playback/sessions", tok, "{\"content_id\":\"" content "\",\"device\":{\"id\":\"hb-" acct "\",\"type\":\"tv\",\"name\":\"bench\"}," caps "}" > dir "/prepare.tsv"
        print "POST", "/v1/playback/sessions", tok, "{\"content_id\":\"" content "\",\"device\":{\"id\":\"bench-" acct "\",\"type\":\"web\",\"name\":\"bench\"}," caps "}" > dir "/start.tsv"
        print "PUT", "/v1/me/progress/" content, tok, "{\"position_sec\":" (600 + NR % 3000) ".5,\"duration_sec\":7200,\"updated_at_ms\":@NOWMS@,\"seq\":@SEQ@}" > dir "/progress_put.tsv"
        print "GET", "/v1/me/progress?content_ids=" content, tok > dir "/progress_get.tsv"
        print "GET", "/v1/me/continue-watching?limit=20", tok > dir "/continue.tsv"
        print "GET", "/v1/playback/sessions", tok > dir "/list.tsv"
        print "POST", "/v1/playback/sessions/0123456789abcdef0123456789abcdef/heartbeat", tok, "{\"position_sec\":" (100 + NR % 3000) ".5,\"state\":\"playing\",\"seq\":@SEQ@}" > dir "/heartbeat_base.tsv"
    }' "$tokens"
}

# write_session_files <dir> <tokens> <sids>: heartbeat and stop requests of the live sessions.
write_session_files() {
    local dir="$1"
    paste -d ' ' "$2" "$3" | awk -v dir="$dir" 'BEGIN { OFS = "\t" } NF == 5 {
        tok = $1; sid = $5; pos = (100 + NR % 3000) ".5"
        print "POST", "/v1/playback/sessions/" sid "/heartbeat", tok, "{\"position_sec\":" pos ",\"state\":\"playing\",\"seq\":@SEQ@}" > dir "/heartbeat.tsv"
        # The same sessions 30 s of playback later: a steady-state heartbeat (the position moved).
        print "POST", "/v1/playback/sessions/" sid "/heartbeat", tok, "{\"position_sec\":" (pos + 30) ",\"state\":\"playing\",\"seq\":@SEQ@}" > dir "/heartbeat_next.tsv"
        print "POST", "/v1/playback/sessions/" sid "/stop", tok, "{\"position_sec\":" pos ",\"reason\":\"user\",\"seq\":@SEQ@}" > dir "/stop.tsv"
    }'
}

# --- moneta -----------------------------------------------------------------------------------

# start_moneta <workers>: moneta as ./dev up starts it (start_bg, its environment only), plus the
# allocation counter (LD_PRELOAD) and MONETA_THREADS; pinned to CPU_SUT (1 worker) or all cores.
start_moneta() {
    local workers="$1" cpus="$CPU_SUT"
    [[ "$workers" -gt 1 ]] && cpus="$CPU_ALL"
    ALLOC_FILE="$WORK/moneta-$workers.alloc"
    export MONETA_THREADS="$workers"
    # Shell variables, not exported: start_bg's scrub_env hands them to moneta alone.
    # shellcheck disable=SC2034 # read by name: they are in start_bg's list of env names
    LD_PRELOAD="$SHIM" ALLOC_COUNT_FILE="$ALLOC_FILE"
    start_bg moneta moneta "$MONETA_PORT" "$ENV_MONETA LD_PRELOAD ALLOC_COUNT_FILE ${ENV_MONETA_EXTRA:-}" \
        taskset -c "$cpus" "$BIN_MONETA" --config "$SUT_CONFIG"
    unset LD_PRELOAD ALLOC_COUNT_FILE
    MONETA_PID=$(pidfile_pid "$RUN_DIR/moneta.pid")
    wait_http "http://127.0.0.1:$MONETA_PORT/readyz" 60 moneta
    wait_http "http://127.0.0.1:$MONETA_EDGE_PORT/readyz" 30 "moneta through nginx"
    [[ -s "$ALLOC_FILE" ]] || die "the allocation counter file was not created (LD_PRELOAD of $SHIM)"
}

# tracing_rows <workers>: issue 12's budget. moneta restarted three times — tracing export off,
# MONETA_TRACE_SAMPLE_RATIO 0.01 and 1 — exporting to bench/otlp_sink (answers 200 to every
# POST, on the load generator's core), each with fresh sessions, then the same heartbeat (first)
# and start (warm) rows: CPU and allocations per request side by side in one run. Sampled
# requests cost the span records, the exporter's thread (counted in moneta's CPU: all threads)
# and its POSTs; unsampled ones the head decision and the held client spans.
tracing_rows() {
    local workers="$1" sink_port ratio label
    sink_port=$(free_port)
    taskset -c "$CPU_LOAD" "$OTLP_SINK" --port "$sink_port" 2>"$WORK/otlp_sink.log" &
    local sink_pid=$!
    BENCH_PIDS+=("$sink_pid")
    for ratio in off 0.01 1; do
        stop_moneta
        if [[ "$ratio" == off ]]; then
            unset MONETA_OTLP_ENDPOINT MONETA_TRACE_SAMPLE_RATIO
            label="tracing off"
        else
            # Shell variables handed to moneta alone by start_bg (ENV_MONETA_EXTRA below).
            # shellcheck disable=SC2034 # read by name: they are in start_bg's list of env names
            MONETA_OTLP_ENDPOINT="http://127.0.0.1:$sink_port/v1/traces"
            # shellcheck disable=SC2034 # read by name: they are in start_bg's list of env names
            MONETA_TRACE_SAMPLE_RATIO="$ratio"
            label="trace $(awk -v r="$ratio" 'BEGIN { printf "%g%%", r * 100 }')"
        fi
        ENV_MONETA_EXTRA="MONETA_OTLP_ENDPOINT MONETA_TRACE_SAMPLE_RATIO" start_moneta "$workers"
        prepare_sessions "$workers" quiet
        ROW_OFFSET=0 ROW_MAX=$LIVE run_row heartbeat "heartbeat (first) [$label]" "$workers" closed "$MONETA_PORT" "$WORK/heartbeat.tsv" moneta
        run_row start "start (warm) [$label]" "$workers" closed "$MONETA_PORT" "$WORK/start.tsv" moneta
        if [[ "$ratio" != off ]]; then
            log "$label: moneta_trace_spans_exported_total $(metric moneta_trace_spans_exported_total)," \
                "dropped $(metric moneta_trace_spans_dropped_total)"
        fi
    done
    unset MONETA_OTLP_ENDPOINT MONETA_TRACE_SAMPLE_RATIO
    kill -TERM "$sink_pid" 2>/dev/null || true
    wait "$sink_pid" 2>/dev/null || true
    log "$(cat "$WORK/otlp_sink.log")"
    stop_moneta
    start_moneta "$workers"
}

# free_port_block <n>: a base port p with p .. p+n-1 and their cluster bus ports (+10000) free,
# all below the ephemeral range (see free_port).
free_port_block() {
    local p i ok
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 2000))
        ok=1
        for ((i = 0; i < $1; i++)); do
            if port_in_use $((p + i)) || port_in_use $((p + i + 10000)); then
                ok=0
                break
            fi
        done
        [[ $ok -eq 1 ]] && { echo "$p"; return 0; }
    done
    die "no block of $1 free ports"
}

# cluster_rows <workers>: ./dev bench --cluster. The first (heartbeat) and steady heartbeat rows
# and the warm start row again, on a Redis Cluster as ./dev up --cluster runs it
# (scripts/cluster.sh: 3 masters + 3 replicas, AOF everysec, the password; every node pinned to
# CPU_LOAD as the single redis-server is), moneta restarted with MONETA_REDIS_MODE=cluster. The
# cluster starts empty: the caches are warmed (cold starts) and sessions prepared again first.
# Rows carry "redis_mode":"cluster" and " [cluster]". Their redis column is the CPU of all six
# nodes (the replicas' replication included); cmds, lua, aof_B and reads are the masters'.
cluster_rows() {
    local workers="$1" port pid role
    stop_moneta
    MONETA_CLUSTER_PORT=$(free_port_block "$CLUSTER_NODES")
    log "starting a redis cluster on 127.0.0.1:$MONETA_CLUSTER_PORT-$((MONETA_CLUSTER_PORT + CLUSTER_NODES - 1))"
    cluster_up
    REDIS_PIDS=()
    REDIS_STAT_PORTS=()
    for port in $(cluster_ports); do
        pid=$(pidfile_pid "$RUN_DIR/redis-cluster-$port.pid")
        taskset -a -p -c "$CPU_LOAD" "$pid" >/dev/null
        REDIS_PIDS+=("$pid")
        redis_cli_at "$port" CONFIG SET auto-aof-rewrite-percentage 0 >/dev/null
        role=$(redis_cli_at "$port" ROLE | head -n 1)
        [[ "$role" == master ]] && REDIS_STAT_PORTS+=("$port")
    done
    [[ ${#REDIS_STAT_PORTS[@]} -eq 3 ]] || die "the cluster has ${#REDIS_STAT_PORTS[@]} masters, not 3"
    # Shell variables handed to moneta alone by start_bg (ENV_MONETA_EXTRA below).
    # shellcheck disable=SC2034 # read by name: they are in start_bg's list of env names
    MONETA_REDIS_MODE=cluster
    # shellcheck disable=SC2034 # as above
    MONETA_REDIS_NODES=$(cluster_seeds)
    ROW_REDIS_MODE=cluster
    ROW_SUFFIX=" [cluster]"
    ENV_MONETA_EXTRA="MONETA_REDIS_MODE MONETA_REDIS_NODES" start_moneta "$workers"
    warm_caches "$workers"
    prepare_sessions "$workers"
    ROW_OFFSET=0 ROW_MAX=$LIVE run_row heartbeat "moneta heartbeat (first)" "$workers" closed "$MONETA_PORT" "$WORK/heartbeat.tsv" moneta
    local hb_next=$ROW_NEXT
    ROW_OFFSET=0 ROW_MAX=$hb_next run_row heartbeat "moneta heartbeat (steady)" "$workers" closed "$MONETA_PORT" "$WORK/heartbeat_next.tsv" moneta
    run_row start "moneta start (warm)" "$workers" closed "$MONETA_PORT" "$WORK/start.tsv" moneta
    stop_moneta
    unset MONETA_REDIS_MODE MONETA_REDIS_NODES
    ROW_REDIS_MODE=single
    ROW_SUFFIX=""
}

stop_moneta() {
    stop_pid moneta moneta TERM 30
    MONETA_PID=""
}

# once_with_retry <port> <file> <sids> <connections>: sends each line once; lines that got no
# session id (a 503 while the caches are cold, a 429) are sent again, up to 3 more passes.
once_with_retry() {
    local port="$1" file="$2" sids="$3" conns="$4"
    for _ in 1 2 3; do
        awk 'NR == FNR { if ($0 == "") m[FNR] = 1; next } FNR in m' "$sids" "$file" >"$WORK/retry.tsv"
        [[ -s "$WORK/retry.tsv" ]] || return 0
        ROW_CAPTURE="$WORK/retry_sids.txt" CONNECTIONS="$conns" run_load "$port" "$WORK/retry.tsv" once >/dev/null
        awk 'NR == FNR { r[FNR] = $0; next } { if ($0 == "") { ++k; print r[k] } else print }' \
            "$WORK/retry_sids.txt" "$sids" >"$sids.new"
        mv "$sids.new" "$sids"
    done
}

# warm_caches <workers>: one start per account on its "bench-" device, the first time moneta sees
# the accounts (each is read from the internal API: a cold start), retried until cached.
warm_caches() {
    local workers="$1"
    ROW_CAPTURE="$WORK/warm_sids.txt" CONNECTIONS=16 \
        run_row start_cold "start (cold: internal-API reads)" "$workers" once "$MONETA_PORT" "$WORK/start.tsv" moneta
    once_with_retry "$MONETA_PORT" "$WORK/start.tsv" "$WORK/warm_sids.txt" 16
}

# prepare_sessions <workers> [quiet]: one start per account on its "hb-" device through moneta's
# real endpoint (replacing that device's previous session), then the heartbeat/stop files over the
# session ids it returned. Leases last 90 s as shipped, so rows that need live sessions follow it.
prepare_sessions() {
    local workers="$1" quiet="${2:-}"
    if [[ -z "$quiet" ]]; then
        ROW_CAPTURE="$WORK/sids.txt" run_row prepare "start (prepare hb- sessions)" "$workers" once "$MONETA_PORT" "$WORK/prepare.tsv" moneta
    else
        ROW_CAPTURE="$WORK/sids.txt" run_load "$MONETA_PORT" "$WORK/prepare.tsv" once >/dev/null
    fi
    once_with_retry "$MONETA_PORT" "$WORK/prepare.tsv" "$WORK/sids.txt" "$CONNECTIONS"
    write_session_files "$WORK" "$WORK/tokens.txt" "$WORK/sids.txt"
    LIVE=$(grep -c . "$WORK/sids.txt" || true)
    # shellcheck disable=SC2034 # a global of bench/run.sh, read there
    HB_OFFSET=0
    [[ "$LIVE" -gt 0 ]] || die "no live session could be created (see $LOG_DIR/moneta.log)"
}

# --- measurements -------------------------------------------------------------------------------

# ticks <pid...>: their CPU ticks (all threads; 0 for none), user + system; sys_ticks <pid...>: the system (kernel) part
# alone: syscalls, the loopback network stack and the softirqs run on their behalf.
ticks() { stat_ticks all "$@"; }
sys_ticks() { stat_ticks sys "$@"; }

# stat_ticks all|sys <pid...>: utime + stime, or stime, summed from /proc/<pid>/stat.
stat_ticks() {
    local with_user=0 total=0 p stat
    [[ "$1" == all ]] && with_user=1
    shift
    for p in "$@"; do
        stat="$(cat "/proc/$p/stat" 2>/dev/null)" || continue
        local -a f
        read -r -a f <<<"${stat##*) }"
        total=$((total + f[12] + with_user * f[11]))
    done
    echo "$total"
}

# thread_ticks: one line per moneta thread, "tid name utime stime" (ticks; /proc/<pid>/task).
thread_ticks() {
    [[ -n "${MONETA_PID:-}" ]] || return 0
    local t stat name
    for t in /proc/"$MONETA_PID"/task/*; do
        stat="$(cat "$t/stat" 2>/dev/null)" || continue
        name="$(cat "$t/comm" 2>/dev/null)" || continue
        local -a f
        read -r -a f <<<"${stat##*) }"
        echo "${t##*/} ${name// /_} ${f[11]} ${f[12]}"
    done
}

# thread_cpu_line <before> <after> <requests>: moneta's CPU per request by thread name, user/system
# µs, busiest first (a thread that started during the row counts from zero; one that ended, not).
thread_cpu_line() {
    awk -v n="$3" -v hz="$CLK_TCK" '
        FNR == NR { u0[$1] = $3; s0[$1] = $4; next }
        { u[$2] += $3 - u0[$1]; s[$2] += $4 - s0[$1] }
        END { for (k in u) if (u[k] + s[k] > 0) printf "%d %s %.1f/%.1f\n", u[k] + s[k], k, u[k] * 1e6 / hz / n, s[k] * 1e6 / hz / n }' \
        <(echo "$1") <(echo "$2") | sort -rn | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $3 } END { if (NR == 0) printf "none" }'
}

# tree <pid>: the pid and its children (nginx master and workers).
tree() {
    local p="$1"
    [[ -n "$p" ]] || return 0
    echo "$p"
    cat "/proc/$p/task/$p/children" 2>/dev/null || true
}

softirq_ticks() { awk -v c="cpu$1" '$1 == c { print $8 }' /proc/stat; }

# redis_cli_at <port> <args...>; redis_cli: the single redis-server.
redis_cli_at() {
    local port="$1"
    shift
    REDISCLI_AUTH="$MONETA_REDIS_PASSWORD" redis-cli --no-auth-warning -p "$port" "$@"
}
redis_cli() { redis_cli_at "$MONETA_REDIS_PORT" "$@"; }

# The open-loop rows' slowest Redis commands (SLOWLOG, 1 ms and up, reset per row): which command a
# stall was, next to LATENCY's "that there was one". A script call is named by its first key with
# the hash tag removed (e.g. "EVALSHA moneta:due:{}"), the count and the worst duration per name.
slowest_commands() {
    command -v python3 >/dev/null || { echo "n/a (no python3)"; return; }
    redis_cli --json SLOWLOG GET 1000 2>/dev/null | python3 -c '
import json, re, sys
try:
    entries = json.load(sys.stdin)
except ValueError:
    entries = []
worst = {}
for e in entries:
    argv = e[3] if len(e) > 3 and isinstance(e[3], list) else []
    cmd = str(argv[0]).upper() if argv else "?"
    if cmd in ("EVALSHA", "EVAL") and len(argv) > 3:
        cmd += " " + re.sub(r"\{[^}]*\}", "{}", str(argv[3]))[:48]
    n, us = worst.get(cmd, (0, 0))
    worst[cmd] = (n + 1, max(us, int(e[2])))
top = sorted(worst.items(), key=lambda kv: -kv[1][1])[:4]
print(", ".join("%s x%d max %.1f ms" % (k, n, us / 1000) for k, (n, us) in top) or "none")'
}

wait_redis() {
    local i
    for ((i = 0; i < 100; i++)); do
        [[ "$(redis_cli PING 2>/dev/null)" == PONG ]] && return 0
        sleep 0.1
    done
    die "redis-server did not start (see $LOG_DIR/redis.log)"
}

# redis_info <section> <field>: the field summed over REDIS_STAT_PORTS (the single server by default).
redis_info() {
    local port total=0 v
    for port in "${REDIS_STAT_PORTS[@]:-$MONETA_REDIS_PORT}"; do
        v=$(redis_cli_at "$port" INFO "$1" | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }')
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# From one INFO commandstats: all commands Redis executed, those run inside scripts included
# (Redis 7 counts redis.call in commandstats), minus the bench's own INFO/AUTH/PING; then the
# server µs inside scripts (EVALSHA/EVAL/FCALL usec, their redis.call work included: the rest of
# Redis's CPU is its event loop, replies, AOF writes and the kernel). Prints "calls usec".
# Summed over REDIS_STAT_PORTS (a cluster's masters: CLUSTER and READONLY are not moneta's requests'
# work either).
redis_command_stats() {
    local port
    for port in "${REDIS_STAT_PORTS[@]:-$MONETA_REDIS_PORT}"; do
        redis_cli_at "$port" INFO commandstats
    done | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_/ {
        if ($1 ~ /^cmdstat_(evalsha|eval|fcall)$/) u += $5
        if ($1 ~ /^cmdstat_(info|auth|ping|hello|client\|.*|config\|.*|cluster\|.*|readonly)$/) next
        s += $3 } END { printf "%.0f %.0f", s, u }'
}

# metric <name>: the sum of a counter's series on moneta's admin /metrics (no token needed).
metric() {
    curl -fsS "http://127.0.0.1:$MONETA_ADMIN_PORT/metrics" 2>/dev/null | awk -v n="$1" \
        'index($0, n) == 1 && (substr($0, length(n) + 1, 1) == " " || substr($0, length(n) + 1, 1) == "{") { s += $NF } END { printf "%.0f", s }'
}

# alloc_counts: moneta's heap allocations so far, all threads and the request threads (those the
# HTTP server names worker-<n>), from the shim's per-thread slots (bench/alloc_count/alloc_count.h:
# slots of 8 u64s from byte 64 on: tid, allocations, frees, …); a slot's thread is looked up by its
# id. A thread that has exited counts in the total only.
alloc_counts() {
    od -An -tu8 -w64 -v -j64 "$ALLOC_FILE" | awk -v pid="$MONETA_PID" '
        $2 > 0 {
            total += $2; name = ""; f = "/proc/" pid "/task/" $1 "/comm"
            if ((getline name < f) > 0 && name ~ /^worker-/) workers += $2
            close(f)
        }
        END { printf "%d %d\n", total, workers }'
}

# snapshot: every counter a row compares, as one line of numbers.
snapshot() {
    local m=0 ms=0 a=0 aw=0 rt=0
    if [[ -n "$MONETA_PID" ]]; then
        m=$(ticks "$MONETA_PID"); ms=$(sys_ticks "$MONETA_PID")
        read -r a aw <<<"$(alloc_counts)"; rt=$(metric moneta_redis_round_trips_total)
    fi
    # shellcheck disable=SC2046 # tree prints pids (integers): one argument each, as intended
    echo "$m $(ticks "${REDIS_PIDS[@]}") $(ticks $(tree "$BASE_PID")) $(ticks $(tree "$EDGE_PID")) $(softirq_ticks "$CPU_SUT")" \
        "$(softirq_ticks "$CPU_LOAD") $a $(redis_command_stats) $(redis_info persistence aof_current_size) $rt" \
        "$(redis_info persistence aof_rewrites) $(redis_info stats total_reads_processed) $aw $ms" \
        "$(sys_ticks $(tree "$BASE_PID"))"
}

# run_load <port> <file> <mode>: the load generator on ROW_LOAD_CPU (default CPU_LOAD); prints
# its key=value line. ROW_CAPTURE: a file for the session ids (once); ROW_OFFSET: the first line
# (closed/open).
run_load() {
    local port="$1" file="$2" mode="$3" args=()
    case "$mode" in
        closed) args=(--duration "$DURATION") ;;
        once) args=(--once) ;;
        open@*) args=(--duration "$DURATION" --rate "${mode#open@}") ;;
    esac
    [[ -n "${ROW_CAPTURE:-}" ]] && args+=(--capture "$ROW_CAPTURE")
    [[ -n "${ROW_OFFSET:-}" && "$mode" != once ]] && args+=(--offset "$ROW_OFFSET")
    [[ -n "${ROW_MAX:-}" && "$mode" != once ]] && args+=(--max-requests "$ROW_MAX")
    ROW_SEQ=$((ROW_SEQ + 1))
    taskset -c "${ROW_LOAD_CPU:-$CPU_LOAD}" "$LOAD" --port "$port" --requests "$file" --connections "$CONNECTIONS" \
        --seq-start $((ROW_SEQ * 20000000)) "${args[@]}"
}

# open_loop_cpu <workers>: the core for an open-loop row's load generator, after the closed-loop
# row of the same path just measured (ROW_SUT_US: moneta + the nginx edge on CPU_SUT; ROW_REDIS_US:
# redis-server on CPU_LOAD). An open-loop generator pays a timer wake-up per request (2-3x its
# closed-loop CPU), and at 80 % of a maximum that Redis's core set, left beside Redis it fills
# that core past 100 %: the tail would measure the generator's queue. It goes on the core the
# service used less (docs/performance.md, thirteenth round); with more than one worker moneta
# spans every core and the generator stays on CPU_LOAD. run_row calls it for every open-loop row
# (each follows its path's closed-loop row) and it sets run_row's ROW_LOAD_CPU and ROW_LOAD_WHY.
# A baseline row (0 workers) with SAME_LOAD_CPU set puts it where the moneta row before it had it.
open_loop_cpu() {
    ROW_LOAD_CPU="$CPU_LOAD"
    if [[ "$1" -eq 0 && -n "${SAME_LOAD_CPU:-}" ]]; then
        ROW_LOAD_CPU="$SAME_LOAD_CPU"
        ROW_LOAD_WHY="load generator on CPU $ROW_LOAD_CPU, as in the moneta row before it"
        return 0
    fi
    if [[ "$1" -eq 1 && "$CPU_SUT" != "$CPU_LOAD" ]] &&
        awk -v s="${ROW_SUT_US:-0}" -v r="${ROW_REDIS_US:-0}" 'BEGIN { exit !(s < r) }'; then
        ROW_LOAD_CPU="$CPU_SUT"
    fi
    ROW_LOAD_WHY="load generator on CPU $ROW_LOAD_CPU (the last closed-loop row, per request: CPU $CPU_SUT ${ROW_SUT_US:-?} us, redis on CPU $CPU_LOAD ${ROW_REDIS_US:-?} us)"
}

kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

print_header() {
    printf 'cores: %s. moneta (1 worker): CPU %s alone with the nginx baseline and the nginx edge; load generator, redis-server and internal-api: CPU %s.\n' \
        "$NCPU" "$CPU_SUT" "$CPU_LOAD"
    printf 'moneta (2 workers): CPUs %s, shared with nginx (CPU %s) and the load generator, redis-server, internal-api (CPU %s).\n' \
        "$CPU_ALL" "$CPU_SUT" "$CPU_LOAD"
    printf 'config: services/moneta/config/moneta.json as shipped (access log on, level info, shedding, breakers, metrics); per-account start limit %s/min as shipped;\n' \
        "$MONETA_START_RATE_PER_MIN"
    printf '        redis AOF everysec + password (auto-rewrite off); nginx edge = deploy/nginx (per-address limit lifted: all load comes from 127.0.0.1); %s accounts; %s connections; %ss per row; binaries: %s (%s)\n' \
        "$ACCOUNTS_GOT" "$CONNECTIONS" "$DURATION" "$BIN_DIR" "$COMMIT"
    printf 'load average at start: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf '%-36s %2s %-11s %8s %7s %7s %7s %7s | %7s %6s %7s %7s %6s %6s | %7s %6s %6s %5s %6s %5s %5s\n' \
        endpoint w mode "req/s" p50 p99 p99.9 non2xx moneta sys redis nginx load sirq allocs req_al cmds rt aof_B lua reads
}

print_legend() {
    cat <<LEGEND

Per request: moneta / redis / nginx / load = CPU µs (user+system, all threads, /proc/<pid>/stat) of
moneta, redis-server, nginx (the baseline's or the edge's master+workers on rows through it) and
the load generator; sys = the system (kernel) part of the moneta column (of the nginx column on the
baseline row): syscalls, the loopback TCP stack and softirqs run in the process's context; sirq = softirq µs of CPU $CPU_SUT (/proc/stat; loopback traffic of every process on
that core); allocs = heap allocations of moneta (LD_PRELOAD counter, all threads, background work
included: the write-behind flusher, the log writer, the exporters, the admin port the bench scrapes);
req_al = those of the request threads alone (worker-<n>); cmds = Redis commands (INFO commandstats, calls inside scripts included); rt = Redis
round trips (moneta_redis_round_trips_total); aof_B = AOF bytes (aof_current_size delta;
"rewrite" when Redis rewrote its AOF during the row); lua = Redis server µs inside scripts
(EVALSHA/EVAL usec in commandstats: the rest of the redis column is its event loop, replies, AOF
writes and the kernel); reads = Redis socket reads per request (total_reads_processed: how well
requests share a read). With BENCH_THREADS=1, under each moneta row: its CPU per request by thread
(user/system µs; worker-<n> serve requests, log-writer formats and writes the access log, flusher
writes progress behind, admin serves /metrics). With BENCH_SYSCALLS=<a row label's beginning>, under
those rows: moneta's syscalls per request over the row (perf stat on syscall tracepoints; EAGAIN =
reads that found nothing), which the per-request kernel time mostly follows on this VM.
p50/p99/p99.9 in µs; open@R = open loop at R req/s (80 % of the row's closed-loop maximum),
latency from the intended send time; an open-loop row's load generator runs on the core its path's
closed-loop row used less (printed under the row; with 1 worker only). Redis used_memory per live session ($ACCOUNTS_GOT accounts, first
preparation, account and catalog caches included): ${MEM_PER_SESSION:-?} bytes over ${LIVE_ALL:-?} live sessions.
Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure).
LEGEND
    if [[ "${CLUSTER:-0}" == 1 ]]; then
        cat <<LEGEND
[cluster] rows: moneta with MONETA_REDIS_MODE=cluster on a Redis Cluster of 3 masters + 3 replicas
(AOF everysec, all six nodes on CPU $CPU_LOAD); redis = CPU of all six nodes (replication to the
replicas included), cmds / lua / aof_B / reads = the three masters' (the replicas write as much AOF again).
LEGEND
    fi
}

# run_row <key> <label> <workers> <mode> <port> <file> <sut>: one measured row; prints it and
# appends it to results.jsonl. Sets ROW_RPS.
run_row() {
    local key="$1" label="$2$ROW_SUFFIX" workers="$3" mode="$4" port="$5" file="$6" sut="$7"
    local s0 s1 out ROW_LOAD_CPU="$CPU_LOAD" ROW_LOAD_WHY=""
    if [[ "$mode" == open@* ]]; then
        open_loop_cpu "$workers"
        redis_cli LATENCY RESET >/dev/null
        redis_cli CONFIG SET slowlog-log-slower-than 1000 >/dev/null
        redis_cli SLOWLOG RESET >/dev/null
    fi
    local t0="" t1=""
    [[ "${BENCH_THREADS:-0}" == 1 && "$sut" != base ]] && t0=$(thread_ticks)
    s0=$(snapshot)
    local sc_pid=""
    if [[ -n "${BENCH_SYSCALLS:-}" && "$label" == "$BENCH_SYSCALLS"* && -n "${MONETA_PID:-}" ]] &&
        command -v perf >/dev/null; then
        perf stat -x, -o "$WORK/syscalls.csv" -e raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait \
            -e syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto,context-switches \
            -e syscalls:sys_exit_recvfrom --filter 'ret == -11' -p "$MONETA_PID" >/dev/null 2>&1 &
        sc_pid=$!
    fi
    out=$(run_load "$port" "$file" "$mode")
    if [[ -n "$sc_pid" ]]; then
        kill -INT "$sc_pid" 2>/dev/null || true
        wait "$sc_pid" 2>/dev/null || true
    fi
    # run_load's ROW_SEQ increment happened in the $(...) subshell: repeat it here, or every row
    # would start @SEQ@ at the same value (the steady heartbeat row then re-sent the first row's
    # seqs, which the progress guard answers as stale: it measured no progress write at all).
    ROW_SEQ=$((ROW_SEQ + 1))
    # shellcheck disable=SC2034 # read by bench/run.sh: the core this row's load generator had
    ROW_LOAD_CPU_USED="$ROW_LOAD_CPU"
    s1=$(snapshot)
    [[ -n "$t0" ]] && t1=$(thread_ticks)
    local n rps p50 p99 p999 non2xx errors load_us statuses
    n=$(kv requests "$out"); rps=$(kv rps "$out"); p50=$(kv p50_us "$out"); p99=$(kv p99_us "$out")
    p999=$(kv p999_us "$out"); non2xx=$(kv non2xx "$out"); errors=$(kv errors "$out")
    load_us=$(kv load_cpu_us_per_req "$out"); statuses=$(kv statuses "$out")
    # The row's served rate (2xx only): a closed loop that the adaptive limit sheds answers many
    # cheap 503s, and 80 % of a rate counting them would overload the open-loop rows that follow.
    # shellcheck disable=SC2034 # the row's results: globals that bench/run.sh reads
    ROW_RPS=$(awk -v r="${rps:-0}" -v n="${n:-0}" -v bad="${non2xx:-0}" \
        'BEGIN { printf "%.0f", (n > 0 ? r * (n - bad) / n : 0) }')
    # shellcheck disable=SC2034 # as above
    ROW_N="${n:-0}"
    # shellcheck disable=SC2034 # as above
    ROW_NEXT="$(kv next_offset "$out")"
    [[ -n "$n" && "$n" -gt 0 ]] || { log "$label: no answer ($out)"; n=1; }
    local line
    line=$(awk -v a="$s0" -v b="$s1" -v n="$n" -v hz="$CLK_TCK" -v sut="$sut" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        us = 1e6 / hz / n
        m = (sut == "base") ? "-" : sprintf("%.1f", (y[1] - x[1]) * us)
        r = sprintf("%.1f", (y[2] - x[2]) * us)
        ng = (sut == "base") ? sprintf("%.1f", (y[3] - x[3]) * us) : (sut == "edge") ? sprintf("%.1f", (y[4] - x[4]) * us) : "-"
        sq = sprintf("%.1f", (y[5] - x[5]) * us)
        al = (sut == "base") ? "-" : sprintf("%.2f", (y[7] - x[7]) / n)
        cm = sprintf("%.2f", (y[8] - x[8]) / n)
        lua = sprintf("%.1f", (y[9] - x[9]) / n)
        aof = (y[12] != x[12]) ? "rewrite" : sprintf("%.0f", (y[10] - x[10]) / n)
        rt = (sut == "base") ? "-" : sprintf("%.2f", (y[11] - x[11]) / n)
        rd = sprintf("%.2f", (y[13] - x[13]) / n)
        aw = (sut == "base") ? "-" : sprintf("%.2f", (y[14] - x[14]) / n)
        sy = (sut == "base") ? sprintf("%.1f", (y[16] - x[16]) * us) : sprintf("%.1f", (y[15] - x[15]) * us)
        print m, r, ng, sq, al, aw, cm, rt, aof, lua, rd, sy }')
    local m r ng sq al aw cm rt aof lua rd sy
    read -r m r ng sq al aw cm rt aof lua rd sy <<<"$line"
    # shellcheck disable=SC2034 # read by open_loop_cpu: what the row cost each core, per request
    ROW_SUT_US=$(awk -v m="$m" -v ng="$ng" 'BEGIN { printf "%.1f", (m == "-" ? 0 : m) + (ng == "-" ? 0 : ng) }')
    # shellcheck disable=SC2034 # as above
    ROW_REDIS_US="$r"
    printf '%-36s %2s %-11s %8s %7s %7s %7s %7s | %7s %6s %7s %7s %6s %6s | %7s %6s %6s %5s %6s %5s %5s\n' \
        "$label" "$workers" "$mode" "$rps" "$p50" "$p99" "$p999" "$non2xx" "$m" "$sy" "$r" "$ng" "$load_us" "$sq" "$al" "$aw" "$cm" "$rt" "$aof" "$lua" "$rd"
    if [[ "$non2xx" != 0 || "$errors" != 0 ]]; then
        printf '%-36s statuses %s, connection errors %s\n' "" "$statuses" "$errors"
    fi
    if [[ -n "$sc_pid" && -s "$WORK/syscalls.csv" ]]; then
        printf '%-36s moneta syscalls per request: %s\n' "" "$(awk -F, -v n="$n" '
            $3 ~ /^(raw_syscalls|syscalls|context)/ { c[$3] = $1 }
            END {
                printf "all %.2f, epoll_wait %.2f, recvfrom %.2f (EAGAIN %.2f), sendmsg %.2f, sendto %.2f; context switches %.2f",
                    c["raw_syscalls:sys_enter"] / n, c["syscalls:sys_enter_epoll_wait"] / n,
                    c["syscalls:sys_enter_recvfrom"] / n, c["syscalls:sys_exit_recvfrom"] / n,
                    c["syscalls:sys_enter_sendmsg"] / n, c["syscalls:sys_enter_sendto"] / n, c["context-switches"] / n
            }' "$WORK/syscalls.csv")"
        rm -f "$WORK/syscalls.csv"
    fi
    if [[ -n "$t1" ]]; then
        printf '%-36s moneta threads, user/sys us: %s\n' "" "$(thread_cpu_line "$t0" "$t1" "$n")"
    fi
    if [[ "$mode" == open@* ]]; then
        # LATENCY LATEST: event, time, latest ms, max ms per event (redis-cli prints one per line).
        printf '%-36s redis stalls >= 1 ms: %s\n' "" "$(redis_cli LATENCY LATEST | awk '
            NR % 4 == 1 { e = $0 } NR % 4 == 0 { printf "%s%s max %s ms", sep, e, $0; sep = ", " }
            END { if (NR == 0) printf "none" }')"
        printf '%-36s slowest redis commands: %s\n' "" "$(slowest_commands)"
        printf '%-36s %s\n' "" "$ROW_LOAD_WHY"
    fi
    num() { [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?$ ]] && echo "$1" || echo null; }
    printf '{"endpoint":"%s","label":"%s","redis_mode":"%s","workers":%s,"mode":"%s","commit":"%s","requests":%s,"rps":%s,"p50_us":%s,"p99_us":%s,"p999_us":%s,"non_2xx":%s,"errors":%s,"statuses":"%s","moneta_cpu_us":%s,"redis_cpu_us":%s,"nginx_cpu_us":%s,"load_cpu_us":%s,"softirq_us":%s,"allocs":%s,"allocs_request_threads":%s,"redis_cmds":%s,"redis_round_trips":%s,"aof_bytes":%s,"redis_script_us":%s,"redis_reads":%s,"sut_system_cpu_us":%s}\n' \
        "$key" "$label" "$ROW_REDIS_MODE" "$workers" "$mode" "$COMMIT" "$n" "$(num "$rps")" "$(num "$p50")" "$(num "$p99")" "$(num "$p999")" \
        "$(num "$non2xx")" "$(num "$errors")" "$statuses" "$(num "$m")" "$(num "$r")" "$(num "$ng")" "$(num "$load_us")" \
        "$(num "$sq")" "$(num "$al")" "$(num "$aw")" "$(num "$cm")" "$(num "$rt")" "$(num "$aof")" "$(num "$lua")" "$(num "$rd")" "$(num "$sy")" >>"$WORK/results.jsonl"
}

write_results_json() {
    mkdir -p "$(dirname "$RESULTS")"
    {
        echo "["
        sed -e "s/}\$/,\"redis_bytes_per_live_session\":${MEM_PER_SESSION:-null},\"live_sessions\":${LIVE_ALL:-$LIVE}}/" \
            -e '$!s/$/,/' "$WORK/results.jsonl"
        echo "]"
    } >"$RESULTS"
    log "wrote $RESULTS"
}

# perf_profile <name> <file>: perf record -g of moneta under a closed-loop load of <file>.
perf_profile() {
    local name="$1" file="$2" data="$WORK/perf.${1%% *}.data"
    run_load "$MONETA_PORT" "$file" closed >/dev/null &
    local load_pid=$!
    sleep 1
    local secs=$((DURATION > 3 ? DURATION - 2 : 1))
    perf record -q -g -p "$MONETA_PID" -o "$data" -- sleep "$secs" >/dev/null 2>&1 &
    local moneta_perf=$!
    perf record -q -g -p "${REDIS_PIDS[0]}" -o "$data.redis" -- sleep "$secs" >/dev/null 2>&1 || true
    wait "$moneta_perf" || true
    wait "$load_pid" || true
    local who file
    for who in moneta redis-server; do
        file=$data
        [[ $who == moneta ]] || file=$data.redis
        echo
        echo "perf: $who under the $name load (perf report --stdio --no-children, top symbols)"
        perf report -i "$file" --stdio --no-children -g none --percent-limit 0.7 2>/dev/null \
            | grep -v '^#' | grep -v '^$' | head -n 25 || echo "(no samples)"
    done
}

# --- instructions per request (--callgrind) ----------------------------------------------------

# callgrind_profile <workers> <n>: moneta's user-space instructions per steady heartbeat, counted
# by valgrind's callgrind (every thread of moneta: access-log writer and exporters included). CPU
# µs on this VM move ±20 % between identical runs; instruction counts do not, so a change of a few
# per cent on the request path shows here. Sessions are prepared by the normal moneta; then
# moneta is restarted under callgrind with counting off, takes n first heartbeats (its JWT cache
# and catalog cache warm up, per process; again while any was shed), and counts the next n
# heartbeats of the same sessions (30 s of playback later: the steady row's file). Kernel time
# is not counted: see `--perf`.
callgrind_profile() {
    local workers="$1" n="$2" out="$WORK/callgrind.heartbeat.out"
    if ! command -v callgrind_control >/dev/null && [[ $(id -u) -eq 0 ]]; then
        log "installing valgrind"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null \
            || log "valgrind could not be installed"
    fi
    if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
        log "valgrind is not installed (Debian's valgrind): --callgrind ignored"
        return 0
    fi
    prepare_sessions "$workers" quiet
    stop_moneta
    [[ "$n" -le "$LIVE" ]] || n=$LIVE
    export MONETA_THREADS="$workers"
    # valgrind's process is /usr/bin/valgrind.bin (argv[0]), which start_bg and stop_pid check.
    start_bg moneta valgrind.bin "$MONETA_PORT" "$ENV_MONETA" \
        valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
        "$BIN_MONETA" --config "$SUT_CONFIG"
    MONETA_PID=$(pidfile_pid "$RUN_DIR/moneta.pid")
    wait_http "http://127.0.0.1:$MONETA_PORT/readyz" 120 "moneta under callgrind"
    local warm measured got
    # Under callgrind moneta is ~50x slower, so on 64 connections its adaptive limit sheds: a shed
    # request never reaches the token cache (warm-up) and costs less than a served one (counted).
    # Both run on 8 connections (BENCH_CALLGRIND_CONNECTIONS), the warm-up again while any is shed.
    local conns="${BENCH_CALLGRIND_CONNECTIONS:-8}"
    for _ in 1 2 3; do
        warm=$(CONNECTIONS=$conns DURATION=3600 ROW_OFFSET=0 ROW_MAX=$n run_load "$MONETA_PORT" "$WORK/heartbeat.tsv" closed)
        [[ "$(kv statuses "$warm")" == "200:$n" ]] && break
    done
    callgrind_control --instr=on "$MONETA_PID" >/dev/null
    measured=$(CONNECTIONS=$conns DURATION=3600 ROW_OFFSET=0 ROW_MAX=$n run_load "$MONETA_PORT" "$WORK/heartbeat_next.tsv" closed)
    got=$(kv requests "$measured")
    callgrind_control --dump=steady "$MONETA_PID" >/dev/null
    callgrind_control --instr=off "$MONETA_PID" >/dev/null
    stop_pid moneta valgrind.bin TERM 60
    MONETA_PID=""
    # `--dump=steady` writes "$out.1" (its trigger named inside); "$out" is the exit's remainder.
    local dump total kept="$MONETA_BUILD_DIR/bench/callgrind.heartbeat.out"
    dump=$(grep -l '^desc: Trigger: dump steady' "$out".* 2>/dev/null | head -n 1)
    [[ -n "$dump" ]] || { log "callgrind wrote no dump"; return 0; }
    mkdir -p "${kept%/*}" && cp "$dump" "$kept" && dump=$kept
    total=$(awk '/^summary:/ { print $2; exit }' "$dump")
    echo
    printf 'callgrind: moneta steady heartbeat, %s requests: %s instructions per request (user space, all threads)\n' \
        "${got:-?}" "$(awk -v t="${total:-0}" -v n="${got:-0}" 'BEGIN { if (n > 0) printf "%.0f", t / n; else print "?" }')"
    echo "callgrind: $conns connections; statuses: warm-up $(kv statuses "$warm"), counted $(kv statuses "$measured")"
    [[ "$(kv statuses "$measured")" == "200:$got" ]] || echo "callgrind: NOTE: not every counted request was served: the figure mixes in cheaper refusals"
    echo "callgrind: top functions, inclusive (callgrind_annotate --inclusive=yes; $dump)"
    callgrind_annotate --inclusive=yes "$dump" 2>/dev/null | grep -E '^ *[0-9,]+ ' | head -n 40 || true
}
