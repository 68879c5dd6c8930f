#!/usr/bin/env bash
# The main demo: a dense autoencoder on Fashion-MNIST against PCA.
#   scripts/demo.sh [flags for the undercomplete example, e.g. --epochs 5 --code 16]
# Builds just this program (Release, build-release; scripts/build_examples.sh
# builds them all), installing what is missing first, then runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build_examples.sh undercomplete
exec ./build-release/examples/undercomplete "$@"
