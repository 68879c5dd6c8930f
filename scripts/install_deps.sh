#!/usr/bin/env bash
# Install the Debian packages latent needs, only those that are missing.
#   scripts/install_deps.sh [test|demo|bench|torch|all]   (default: test)
# As root: apt-get installs them (apt-get update runs first, only when
# something is missing). Otherwise: prints the exact command and exits 1.
set -euo pipefail

set_name="${1:-test}"
build=(cmake ninja-build g++ pkg-config libeigen3-dev zlib1g-dev)
case "$set_name" in
  test)  wanted=("${build[@]}" catch2 openmpi-bin libopenmpi-dev) ;;  # MPI: tests/mpi (skipped, saying so, without it)
  demo)  wanted=("${build[@]}" libcli11-dev libstb-dev dataset-fashion-mnist) ;;
  bench) wanted=("${build[@]}" libbenchmark-dev) ;;
  torch) wanted=(python3-torch) ;;  # only for scripts/bench.sh's PyTorch comparisons
  all)   wanted=("${build[@]}" catch2 openmpi-bin libopenmpi-dev libbenchmark-dev libcli11-dev libstb-dev dataset-fashion-mnist python3-torch) ;;
  *) echo "usage: $0 [test|demo|bench|torch|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  status="$(dpkg -s "$p" 2>/dev/null || true)"
  [[ "$status" == *"Status: install ok installed"* ]] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "install_deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install_deps: missing packages; run:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
