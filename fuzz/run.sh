#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs
# each for a bounded time or number of executions, starting from the seed
# corpus constnet writes itself. Findings (crash-*, leak-*, oom-*, timeout-*)
# land in build-fuzz/findings/<target>/ and make the script fail; copy each
# into fuzz/regressions/<target>/ once fixed (the test suite replays them).
#
#   fuzz/run.sh [--time SECONDS | --runs N] [TARGET...]    (default: --time 60, all targets)
set -euo pipefail
cd "$(dirname "$0")/.."
limit=(-max_total_time=60)
targets=()
while (($#)); do
  case "$1" in
    --time) limit=(-max_total_time="$2"); shift 2 ;;
    --runs) limit=(-runs="$2"); shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(safetensors idx checkpoint)

.ci/install-deps
build=${FUZZ_BUILD_DIR:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONSTNET_FUZZ=ON \
  -DCONSTNET_BUILD_TESTS=OFF -DCONSTNET_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target fuzz_make_corpus $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null
"$build/fuzz/fuzz_make_corpus" "$build/seeds"

status=0
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t" findings="$build/findings/$t"
  mkdir -p "$corpus" "$findings"
  log="$build/fuzz_$t.log"
  # -malloc_limit_mb: no input may make a loader allocate more than this at once.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 "$build/fuzz/fuzz_$t" "${limit[@]}" \
    -malloc_limit_mb=512 -rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$corpus" "$build/seeds/$t" >"$log" 2>&1 || status=1
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  found=$(find "$findings" -type f | wc -l)
  printf '%-12s %12s executions  %s findings  corpus %s files  (log %s)\n' "$t" "$runs" "$found" \
    "$(find "$corpus" -type f | wc -l)" "$log"
  ((found == 0)) || status=1
done
exit $status
