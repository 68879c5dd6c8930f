# Settings for latent's own tests, examples and benchmarks only.
include(GNUInstallDirs)

add_library(latent_internal INTERFACE)
target_link_libraries(latent_internal INTERFACE latent::latent)
# Eigen as SYSTEM so its warnings never break -Werror in our targets.
get_target_property(_eigen_inc Eigen3::Eigen INTERFACE_INCLUDE_DIRECTORIES)
target_include_directories(latent_internal SYSTEM INTERFACE ${_eigen_inc})
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(latent_internal INTERFACE -Wall -Wextra -Wpedantic)
  if(LATENT_WARNINGS_AS_ERRORS)
    target_compile_options(latent_internal INTERFACE -Werror)
  endif()
endif()

if(LATENT_WITH_OPENMP)
  find_package(OpenMP)
  if(OpenMP_CXX_FOUND)
    target_link_libraries(latent_internal INTERFACE OpenMP::OpenMP_CXX)
  endif()
endif()

if(LATENT_WITH_ZLIB)
  find_package(ZLIB)
  if(ZLIB_FOUND)
    target_link_libraries(latent_internal INTERFACE ZLIB::ZLIB)
    target_compile_definitions(latent_internal INTERFACE LATENT_HAS_ZLIB=1)
  endif()
endif()

# Speed for programs that train (examples, benchmarks): -O3 and, optionally,
# -march=native. Only on our own executables, never on latent::latent.
add_library(latent_fast INTERFACE)
target_link_libraries(latent_fast INTERFACE latent_internal)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(latent_fast INTERFACE $<$<NOT:$<CONFIG:Debug>>:-O3>)
  if(LATENT_NATIVE)
    target_compile_options(latent_fast INTERFACE -march=native)
  endif()
endif()
# GCC 12 at -O3 with AVX-512 warns "'__Y' (may be) used uninitialized" from its
# own avx512fintrin.h (_mm512_undefined_ps, GCC bug 105593, fixed in 13):
# a false positive that would bury real warnings in every example build.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(latent_fast INTERFACE "$<$<NOT:$<CONFIG:Debug>>:-Wno-maybe-uninitialized;-Wno-uninitialized>")
endif()

# Optional: a BLAS as a candidate GEMM engine (latent::blas, defined in
# the top-level CMakeLists when LATENT_WITH_BLAS is ON) for our tests,
# examples and benchmarks.
if(TARGET latent::blas)
  target_link_libraries(latent_internal INTERFACE latent::blas)
endif()
