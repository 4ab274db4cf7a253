# ./dev test: install, build with ASan+UBSan, run every test. Sourced by ./dev.

run_tests() {
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
}
