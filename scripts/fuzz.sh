#!/usr/bin/env bash
# Build latent's libFuzzer targets (clang, ASan + UBSan) and run each one.
#   scripts/fuzz.sh [seconds] [target...]   each target for `seconds` (default 60), one at a time
#   scripts/fuzz.sh --ci                    what CI runs: replay every corpus, then 10 s per target (CTest)
# Targets are fuzz/fuzz_<name>.cpp; seeds in fuzz/corpus/<name>/ are read,
# new inputs go to build-fuzz/fuzz/work/<name>/, and a crashing input is
# written to build-fuzz/fuzz/crashes/<name>/ (add it to the corpus as a
# regression seed once fixed). Runs under nice -n 19. Prints executions and
# time per target; exits non-zero when any target finds something.
# Build dir: build-fuzz (override with LATENT_FUZZ_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh fuzz

build_dir="${LATENT_FUZZ_BUILD_DIR:-build-fuzz}"
cmake --preset fuzz -B "$build_dir" >/dev/null  # CMakePresets.json
nice -n 19 cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)"

if [ "${1:-}" = "--ci" ]; then
  cd "$build_dir"
  exec nice -n 19 ctest --output-on-failure -L fuzz
fi

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.cpp; do n="$(basename "$f" .cpp)"; targets+=("${n#fuzz_}"); done
fi

status=0
printf '%-14s %12s %8s  %s\n' target executions seconds result
for t in "${targets[@]}"; do
  work="$build_dir/fuzz/work/$t" crashes="$build_dir/fuzz/crashes/$t"
  mkdir -p "$work" "$crashes"
  log="$build_dir/fuzz/$t.log"
  start=$(date +%s)
  if nice -n 19 "$build_dir/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 \
       -print_final_stats=1 -artifact_prefix="$crashes/" "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    result=ok
  else
    result="FOUND SOMETHING: see $log and $crashes/"
    status=1
  fi
  execs="$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')"
  printf '%-14s %12s %8s  %s\n' "$t" "${execs:-?}" "$(( $(date +%s) - start ))" "$result"
done
exit $status
