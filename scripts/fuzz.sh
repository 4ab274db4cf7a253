# shellcheck shell=bash
# ./dev fuzz and the fuzz step of ./dev test: libFuzzer targets (fuzz/, docs/fuzzing.md). Sourced.
#
#   ./dev fuzz [SECONDS] [--merge] [TARGET...]   every target (or the named ones) SECONDS each
#                                                (default 60), one after the other, one job each
#   fuzz_smoke (from ./dev test)                 replay corpus + regressions, then each target
#                                                MONETA_FUZZ_SECONDS (default 5) seconds
#
# Runs happen in $MONETA_BUILD_DIR/fuzz/work/<target>: the scratch corpus grows there across
# runs, the checked-in fuzz/corpus/<target> and fuzz/regressions/<target> are only read. With
# --merge the inputs that add coverage are merged back into fuzz/corpus/<target> (then commit).

: "${MONETA_FUZZ_SECONDS:=5}"
: "${MONETA_FUZZ_CC:=clang-14}"
: "${MONETA_FUZZ_CXX:=clang++-14}"

# Targets whose inputs are JSON get fuzz/dict/json.dict as well as their own dictionary.
MONETA_FUZZ_JSON_TARGETS=" moneta_requests catalog_codec internal_api config "

fuzz_targets() {
    local f
    for f in "$ROOT"/fuzz/*_fuzz.cpp; do
        f="$(basename "$f")"
        echo "${f%_fuzz.cpp}"
    done
}

# Configures (once) and builds build/fuzz with clang: only the fuzz targets and what they link.
fuzz_build() {
    command -v "$MONETA_FUZZ_CXX" >/dev/null || die "$MONETA_FUZZ_CXX not found (apt-get install clang-14 libfuzzer-14-dev libclang-rt-14-dev)"
    local dir="$MONETA_BUILD_DIR/fuzz" start=$SECONDS
    if [[ ! -f "$dir/build.ninja" ]]; then
        CC="$MONETA_FUZZ_CC" CXX="$MONETA_FUZZ_CXX" cmake -S "$ROOT" -B "$dir" -G Ninja \
            -DCMAKE_BUILD_TYPE=Debug -DMONETA_FUZZ=ON -DMONETA_SANITIZE=OFF \
            -DMONETA_BUILD_TESTS=OFF -DMONETA_BUILD_BENCH=OFF >/dev/null
    fi
    log "building the fuzz targets (clang, libFuzzer + ASan + UBSan) in $dir with $MONETA_JOBS jobs"
    cmake --build "$dir" -j "$MONETA_JOBS"
    log "fuzz build (configure included) took $((SECONDS - start))s"
}

fuzz_env() {
    # halt_on_error: the first report is the finding; leaks are findings too.
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
}

# fuzz_dict <target> <work dir>: prints the dictionary file to use (possibly merged), or nothing.
fuzz_dict() {
    local name="$1" work="$2" out="$2/dict"
    : >"$out"
    [[ "$MONETA_FUZZ_JSON_TARGETS" == *" $name "* ]] && cat "$ROOT/fuzz/dict/json.dict" >>"$out"
    [[ -f "$ROOT/fuzz/dict/$name.dict" ]] && cat "$ROOT/fuzz/dict/$name.dict" >>"$out"
    [[ -s "$out" ]] && echo "$out"
}

# fuzz_replay <target>: every checked-in input once (corpus and minimised crashers).
fuzz_replay() {
    local name="$1" bin="$MONETA_BUILD_DIR/fuzz/fuzz/${1}_fuzz"
    local dirs=("$ROOT/fuzz/corpus/$name")
    [[ -d "$ROOT/fuzz/regressions/$name" ]] && dirs+=("$ROOT/fuzz/regressions/$name")
    local log_file="$MONETA_BUILD_DIR/fuzz/work/$name/replay.log"
    mkdir -p "$(dirname "$log_file")"
    if ! "$bin" -runs=0 -timeout=5 -rss_limit_mb=2048 "${dirs[@]}" >"$log_file" 2>&1; then
        tail -n 40 "$log_file" >&2
        die "fuzz replay of $name failed (a checked-in input crashes; log: $log_file)"
    fi
}

# fuzz_run <target> <seconds> <merge 0|1>: one bounded run; prints one table row; returns
# non-zero on a crash, leak, timeout or OOM (the input is saved in the work dir).
fuzz_run() {
    local name="$1" seconds="$2" merge="$3"
    local bin="$MONETA_BUILD_DIR/fuzz/fuzz/${name}_fuzz"
    local work="$MONETA_BUILD_DIR/fuzz/work/$name"
    mkdir -p "$work/corpus"
    rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work"/slow-unit-*
    # One process, one job (the CPU is shared); HTTP heads get room for the 8 KiB limits.
    local max_len=4096
    [[ "$name" == http_request ]] && max_len=16384
    local args=(-max_total_time="$seconds" -max_len="$max_len" -timeout=5 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$work/")
    local dict
    dict="$(fuzz_dict "$name" "$work")" && args+=(-dict="$dict")
    local dirs=("$work/corpus" "$ROOT/fuzz/corpus/$name")
    [[ -d "$ROOT/fuzz/regressions/$name" ]] && dirs+=("$ROOT/fuzz/regressions/$name")
    local rc=0
    "$bin" "${args[@]}" "${dirs[@]}" >"$work/run.log" 2>&1 || rc=$?
    local status_line execs eps cov ft corp crashes
    status_line="$(grep -E '^#[0-9]+' "$work/run.log" | tail -n 1)"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/run.log")"
    eps="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/run.log")"
    [[ -n "$execs" ]] || execs="$(sed -E 's/^#([0-9]+).*/\1/' <<<"$status_line")"
    cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$status_line")"
    ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$status_line")"
    corp="$(find "$work/corpus" -type f | wc -l)"
    crashes="$(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)"
    printf '%-16s %11s %8s %6s %7s %7s %8s\n' "$name" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$crashes"
    if [[ $rc -ne 0 || $crashes -ne 0 ]]; then
        echo "    FAILED (exit $rc): see $work/run.log; saved input(s):" >&2
        find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) >&2
        grep -E -m 3 'FUZZ INVARIANT|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$work/run.log" >&2 || true
        return 1
    fi
    if [[ "$merge" == 1 ]]; then
        "$bin" -merge=1 -max_len="$max_len" -timeout=5 "$ROOT/fuzz/corpus/$name" "$work/corpus" >"$work/merge.log" 2>&1 ||
            { tail -n 20 "$work/merge.log" >&2; return 1; }
    fi
}

fuzz_header() {
    printf '%-16s %11s %8s %6s %7s %7s %8s\n' target executions exec/s cov ft corpus crashes
}

# ./dev fuzz [SECONDS] [--merge] [TARGET...]
run_fuzz() {
    local seconds=60 merge=0 names=()
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --merge) merge=1 ;;
            ''|*[!0-9]*) names+=("$1") ;;
            *) seconds="$1" ;;
        esac
        shift
    done
    [[ ${#names[@]} -gt 0 ]] || mapfile -t names < <(fuzz_targets)
    ensure_packages
    fuzz_build
    fuzz_env
    local name failed=()
    for name in "${names[@]}"; do
        [[ -f "$ROOT/fuzz/${name}_fuzz.cpp" ]] || die "no fuzz target $name (have: $(fuzz_targets | tr '\n' ' '))"
        fuzz_replay "$name"
    done
    log "fuzzing ${#names[@]} target(s), ${seconds}s each$([[ $merge == 1 ]] && echo ', merging new inputs into fuzz/corpus')"
    fuzz_header
    for name in "${names[@]}"; do
        fuzz_run "$name" "$seconds" "$merge" || failed+=("$name")
    done
    [[ ${#failed[@]} -eq 0 ]] || die "fuzz findings in: ${failed[*]}"
    [[ $merge == 1 ]] && log "merged: review and commit fuzz/corpus (git status fuzz/corpus)"
    return 0
}

# The fuzz step of ./dev test: replay every checked-in input, then each target briefly.
fuzz_smoke() {
    fuzz_build
    fuzz_env
    local start=$SECONDS name names=() failed=()
    mapfile -t names < <(fuzz_targets)
    for name in "${names[@]}"; do
        fuzz_replay "$name"
    done
    log "fuzz smoke: corpus and regressions replayed; each target ${MONETA_FUZZ_SECONDS}s"
    fuzz_header
    for name in "${names[@]}"; do
        fuzz_run "$name" "$MONETA_FUZZ_SECONDS" 0 || failed+=("$name")
    done
    log "fuzz step took $((SECONDS - start))s"
    [[ ${#failed[@]} -eq 0 ]] || die "fuzz findings in: ${failed[*]}"
}
