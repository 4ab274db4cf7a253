# shellcheck shell=bash
# ./dev test: install, build with ASan+UBSan, run every test, then the fuzz smoke step. Sourced
# by ./dev.

run_tests() {
    local fuzz_requested="${MONETA_FUZZ_SECONDS:-}"
    ensure_packages
    local dir="$MONETA_BUILD_DIR/asan"
    log "building tests (Debug + ASan + UBSan) in $dir with $MONETA_JOBS jobs"
    build_tree "$dir" -DCMAKE_BUILD_TYPE=Debug -DMONETA_SANITIZE=ON -DMONETA_BUILD_BENCH=OFF
    local start=$SECONDS
    cmake --build "$dir" -j "$MONETA_JOBS"
    log "build took $((SECONDS - start))s"
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    start=$SECONDS
    ctest --test-dir "$dir" --output-on-failure -j "$MONETA_JOBS" "$@"
    log "tests took $((SECONDS - start))s"
    # The fuzz step (docs/fuzzing.md): every checked-in fuzz input replayed, then each target a
    # few seconds. Skipped for a filtered run (ctest arguments) unless MONETA_FUZZ_SECONDS is
    # set; MONETA_FUZZ_SECONDS=0 skips it.
    if [[ $# -eq 0 || -n "$fuzz_requested" ]] && [[ "${MONETA_FUZZ_SECONDS:-5}" != 0 ]]; then
        source "$ROOT/scripts/fuzz.sh"
        fuzz_smoke
    fi
}
