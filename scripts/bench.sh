#!/usr/bin/env bash
# Build the Google Benchmark programs (Release) and run each of them, then
# the PyTorch reference scripts in benchmarks/ when Debian's python3-torch
# is importable.
#   scripts/bench.sh [flags for every bench_* program, e.g. --benchmark_filter=Dense]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh bench
scripts/install_deps.sh torch || echo "bench: the PyTorch comparisons will be skipped" >&2

jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S . -B build-bench -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DLATENT_BUILD_TESTS=OFF \
  -DLATENT_BUILD_EXAMPLES=OFF \
  -DLATENT_BUILD_BENCHMARKS=ON
cmake --build build-bench -j "$jobs"

shopt -s nullglob
benches=(build-bench/benchmarks/bench_*)
ran=0
for b in "${benches[@]}"; do
  [ -f "$b" ] && [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" "$@"
  ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || echo "bench: no bench_* programs were built" >&2

py=/usr/bin/python3  # Debian's python, where python3-torch lives (not a pyenv one on PATH)
if [ -x "$py" ] && "$py" -c "import torch" >/dev/null 2>&1; then
  for s in benchmarks/*.py; do
    echo "== $s (PyTorch $("$py" -c 'import torch; print(torch.__version__)'))"
    "$py" "$s"
  done
else
  echo "bench: /usr/bin/python3 cannot import torch; skipping the PyTorch comparisons (apt-get install python3-torch)" >&2
fi
