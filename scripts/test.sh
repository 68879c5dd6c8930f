#!/usr/bin/env bash
# Build latent's tests (Debug, warnings as errors) and run them with CTest.
#   scripts/test.sh [extra ctest args, e.g. -L packaging]
# Build dir: build-test (override with LATENT_TEST_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh test

build_dir="${LATENT_TEST_BUILD_DIR:-build-test}"
jobs="$(nproc 2>/dev/null || echo 2)"

cmake -S . -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=Debug \
  -DLATENT_BUILD_TESTS=ON \
  -DLATENT_BUILD_EXAMPLES=OFF \
  -DLATENT_BUILD_BENCHMARKS=OFF \
  -DLATENT_WARNINGS_AS_ERRORS=ON \
  -DLATENT_TEST_UNITY=ON
cmake --build "$build_dir" -j "$jobs"
cd "$build_dir"
ctest --output-on-failure -j2 "$@"
