#!/usr/bin/env bash
# Build every example program (Release) into build-release/examples/.
#   scripts/build_examples.sh [target ...]   (default: all examples)
# scripts/demo.sh builds only the one it runs; this builds the rest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh demo

jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S . -B build-release -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DLATENT_BUILD_TESTS=OFF \
  -DLATENT_BUILD_EXAMPLES=ON \
  -DLATENT_BUILD_BENCHMARKS=OFF
if [ $# -gt 0 ]; then
  cmake --build build-release -j "$jobs" --target "$@"
else
  cmake --build build-release -j "$jobs"
fi
