#!/usr/bin/env bash
# constnet's two entry points, each doing all setup on a fresh Debian 12:
#   ./build.sh demo   install dependencies, build, run the d2l chapter demo
#   ./build.sh test   install dependencies, build, run the whole test suite
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
  *)
    echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
