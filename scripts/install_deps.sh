#!/usr/bin/env bash
# Install the Debian packages latent needs, only those that are missing.
#   scripts/install_deps.sh [test|demo|bench|torch|fuzz|all]   (default: test)
# As root: apt-get installs them (apt-get update runs first, only when
# something is missing). Otherwise: prints the exact command and exits 1.
set -euo pipefail

set_name="${1:-test}"
build=(cmake ninja-build g++ pkg-config libeigen3-dev zlib1g-dev)
case "$set_name" in
  test)  wanted=("${build[@]}" catch2 locales openmpi-bin libopenmpi-dev clang-14 libomp-14-dev lld) ;;  # locales: the decimal-comma tests; MPI: tests/mpi (skipped, saying so, without it); clang + lld: test.sh builds with them (twice as fast as g++ + ld.bfd)
  demo)  wanted=("${build[@]}" libcli11-dev libstb-dev dataset-fashion-mnist python3-sklearn python3-skimage) ;;  # sklearn: its CSV tables (examples/tabular); skimage: its colour photos (examples/colorization); the build never needs them
  bench) wanted=("${build[@]}" libbenchmark-dev) ;;
  torch) wanted=(python3-torch) ;;  # only for scripts/bench.sh's PyTorch comparisons
  fuzz)  wanted=("${build[@]}" clang-14 libfuzzer-14-dev libclang-rt-14-dev) ;;  # scripts/fuzz.sh, test.sh --tsan
  all)   wanted=("${build[@]}" catch2 locales openmpi-bin libopenmpi-dev libomp-14-dev libbenchmark-dev libcli11-dev libstb-dev dataset-fashion-mnist
                 python3-sklearn python3-skimage python3-torch clang-14 libfuzzer-14-dev libclang-rt-14-dev) ;;
  *) echo "usage: $0 [test|demo|bench|torch|fuzz|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  status="$(dpkg -s "$p" 2>/dev/null || true)"
  [[ "$status" == *"Status: install ok installed"* ]] || missing+=("$p")
done
# The number-text tests run under a decimal-comma locale: generate it once
# (as root; otherwise those tests SKIP with a message).
ensure_locale() {
  case "$set_name" in test|all) ;; *) return 0 ;; esac
  locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$' && return 0
  if [ "$(id -u)" -eq 0 ] && [ -f /etc/locale.gen ] && command -v locale-gen >/dev/null; then
    sed -i 's/^# *de_DE.UTF-8 UTF-8/de_DE.UTF-8 UTF-8/' /etc/locale.gen
    locale-gen >/dev/null
  fi
  return 0
}

if [ ${#missing[@]} -eq 0 ]; then
  ensure_locale
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  echo "install_deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  ensure_locale
else
  echo "install_deps: missing packages; run:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
