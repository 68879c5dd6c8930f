#!/usr/bin/env bash
# The main demo: a dense autoencoder on Fashion-MNIST against PCA.
#   scripts/demo.sh [flags for the undercomplete example, e.g. --epochs 5 --code 16]
# Release build in build-release of just this program (scripts/build_examples.sh
# builds them all); installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh demo

jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S . -B build-release -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DLATENT_BUILD_TESTS=OFF \
  -DLATENT_BUILD_EXAMPLES=ON \
  -DLATENT_BUILD_BENCHMARKS=OFF
cmake --build build-release -j "$jobs" --target undercomplete
exec ./build-release/examples/undercomplete "$@"
