#!/usr/bin/env bash
# Build latent's tests (Debug, warnings as errors) and run them with CTest.
#   scripts/test.sh [extra ctest args, e.g. -L packaging]
#   scripts/test.sh --sanitize [ctest args]   the unit suite under ASan + UBSan (GCC, build-asan)
#   scripts/test.sh --tsan [ctest args]       the std::thread tests under ThreadSanitizer
#                                             (clang, OpenMP off: libgomp is opaque to TSan; build-tsan)
# Build dir: build-test (override with LATENT_TEST_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=default
case "${1:-}" in
  --sanitize) mode=asan; shift ;;
  --tsan) mode=tsan; shift ;;
esac

scripts/install_deps.sh test
jobs="$(nproc 2>/dev/null || echo 2)"

# The sanitizer builds take their flags from CMakePresets.json (presets
# "dev": ASan + UBSan, and "tsan"), in their own build directories.
if [ "$mode" = asan ]; then
  build_dir="${LATENT_TEST_BUILD_DIR:-build-asan}"
  cmake --preset dev -B "$build_dir" -DLATENT_TEST_UNITY=ON
  cmake --build "$build_dir" -j "$jobs"
  cd "$build_dir"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  # the packaging cases build consumers with the plain toolchain: nothing to sanitize
  exec ctest --output-on-failure -j2 -LE packaging "$@"
fi

if [ "$mode" = tsan ]; then
  scripts/install_deps.sh fuzz  # clang
  build_dir="${LATENT_TEST_BUILD_DIR:-build-tsan}"
  # The tests that start std::threads (concurrent models, shared losses, ...):
  mapfile -t targets < <(grep -l 'std::thread' tests/test_*.cpp | xargs -n1 basename | sed 's/\.cpp$//')
  cmake --preset tsan -B "$build_dir"
  cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}"
  cd "$build_dir"
  export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
  regex="^($(IFS='|'; echo "${targets[*]}"))\$"
  echo "test.sh --tsan: ${targets[*]}"
  exec ctest --output-on-failure -j2 -R "$regex" "$@"
fi

build_dir="${LATENT_TEST_BUILD_DIR:-build-test}"

# The unit tests build with clang when it is there (install_deps installs
# it): measured on a 2-core AMD EPYC (family 26 model 2, Zen 5, avx512f), clang 14 compiles these template-heavy
# tests in half the time g++ 12 takes (a unity batch: 83 s against 151 s).
# GCC is still covered: packaging.pkg_config compiles a consumer with the
# system's c++ and -Wall -Wextra -Wpedantic -Werror, and the --sanitize
# build uses it. LATENT_TEST_CXX=g++ picks another compiler.
cxx="${LATENT_TEST_CXX:-}"
if [ -z "$cxx" ]; then
  for c in clang++-14 clang++ c++; do
    if command -v "$c" >/dev/null; then cxx="$c"; break; fi
  done
fi
echo "test.sh: compiling the tests with $cxx ($("$cxx" --version | head -1))"

# lld links the test executables in a fraction of ld.bfd's time (the link is
# the last, serial step of the build).
link_flags=""
if command -v ld.lld >/dev/null; then link_flags="-fuse-ld=lld"; fi

cmake -S . -B "$build_dir" -G Ninja \
  -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_EXE_LINKER_FLAGS="$link_flags" \
  -DCMAKE_BUILD_TYPE=Debug \
  -DLATENT_BUILD_TESTS=ON \
  -DLATENT_BUILD_EXAMPLES=OFF \
  -DLATENT_BUILD_BENCHMARKS=OFF \
  -DLATENT_WARNINGS_AS_ERRORS=ON \
  -DLATENT_TEST_UNITY=ON
cmake --build "$build_dir" -j "$jobs"
cd "$build_dir"
ctest --output-on-failure -j2 "$@"
