# Included by tests/CMakeLists.txt: every fuzz target's seed corpus replayed
# as a unit test (label fuzz_replay), with the tests' compiler and no
# libFuzzer: replay_<target> is fuzz/fuzz_<target>.cpp + fuzz/replay_main.cpp,
# under ASan + UBSan where the compiler has them. A crash, sanitizer report or
# exception other than latent::Error on any seed fails the case. The fuzzing
# itself (new inputs, minutes per target) is scripts/fuzz.sh.
set(_fuzz_dir "${PROJECT_SOURCE_DIR}/fuzz")
file(GLOB _latent_replays CONFIGURE_DEPENDS ${_fuzz_dir}/fuzz_*.cpp)

set(_replay_sanitize "")
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang" AND NOT CMAKE_CXX_FLAGS MATCHES "-fsanitize")
  set(_replay_sanitize -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
endif()

add_library(latent_replay_main OBJECT ${_fuzz_dir}/replay_main.cpp)
target_link_libraries(latent_replay_main PUBLIC latent_internal)
target_include_directories(latent_replay_main PUBLIC ${_fuzz_dir})
target_compile_options(latent_replay_main PUBLIC ${_replay_sanitize} $<$<CONFIG:Debug>:${LATENT_TEST_DEBUG_FLAGS}>)
target_link_options(latent_replay_main PUBLIC ${_replay_sanitize})

foreach(_src IN LISTS _latent_replays)
  get_filename_component(_name ${_src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" _target ${_name})
  add_executable(replay_${_target} ${_src})
  target_link_libraries(replay_${_target} PRIVATE latent_replay_main)
  add_test(NAME fuzz_replay.${_target} COMMAND replay_${_target} ${_fuzz_dir}/corpus/${_target})
  set_tests_properties(fuzz_replay.${_target} PROPERTIES LABELS "fuzz_replay" TIMEOUT 120
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endforeach()
