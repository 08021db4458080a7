#!/usr/bin/env bash
# constnet's two entry points, each doing all setup on a fresh Debian 12:
#   ./build.sh demo   install dependencies, build, run the d2l chapter demo
#   ./build.sh test   install dependencies, build, run the whole test suite
#   ./build.sh sanitize   the test suite built with clang, ASan + UBSan (in
#                     <build>-asan), then the concurrency tests with TSan (<build>-tsan)
# BUILD_DIR (default build/) and JOBS (default: all cores) may be set.
set -euo pipefail
cd "$(dirname "$0")"
build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}

.ci/install-deps
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
case "${1:-}" in
  demo)
    cmake --build "$build" -j "$jobs" --target demo ;;
  test)
    cmake --build "$build" -j "$jobs"
    ctest --test-dir "$build" --output-on-failure -j "$jobs" ;;
  sanitize)
    export CC=clang CXX=clang++
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    cmake -S . -B "$build-asan" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONSTNET_SANITIZE=address,undefined >/dev/null
    cmake --build "$build-asan" -j "$jobs"
    ctest --test-dir "$build-asan" --output-on-failure -j "$jobs"
    # host-tsan: Halide instruments its generated code and runtime too, so TSan
    # sees the thread pool's synchronization (without it: false reports).
    cmake -S . -B "$build-tsan" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONSTNET_SANITIZE=thread \
      -DCONSTNET_TARGET=host-tsan >/dev/null
    cmake --build "$build-tsan" -j "$jobs" --target test_aot
    "$build-tsan/tests/aot/test_aot" "[concurrency],[fit]" ;;
  *)
    echo "usage: $0 demo|test|sanitize" >&2; exit 2 ;;
esac
