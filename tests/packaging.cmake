# Packaging tests (label "packaging"), included by tests/CMakeLists.txt:
#   packaging.install           cmake --install into a temp prefix (fixture)
#   packaging.find_package      tests/consumer through find_package(latent CONFIG) on that prefix
#   packaging.test_package      the Conan test_package/ project on that prefix (what CMakeDeps provides)
#   packaging.pkg_config        test_package.cpp compiled with `pkg-config --cflags latent` on that prefix,
#                               by the system's c++ with -Wall -Wextra -Wpedantic -Werror
#   packaging.add_subdirectory  tests/consumer with add_subdirectory(<source tree>)
#   packaging.fetchcontent      tests/consumer with FetchContent (FETCHCONTENT_SOURCE_DIR_LATENT)
#   packaging.vcpkg_port        the overlay port's portfile.cmake, run with stand-ins for vcpkg's helpers (fixture)
#   packaging.vcpkg_consumer    tests/consumer through find_package on what that port staged
#   packaging.conan_recipe      conanfile.py's methods, run with stand-ins for the conan API (fixture)
#   packaging.conan_test_package  test_package/ on what the recipe packaged, via a CMakeDeps-like config
#   test_odr                    two translation units including latent.hpp, linked together
# Each case works in its own directory under ${CMAKE_CURRENT_BINARY_DIR}/packaging,
# so `ctest -j` is safe; the install prefix is shared through a fixture.

set(_pkg_dir "${CMAKE_CURRENT_BINARY_DIR}/packaging")
set(_pkg_prefix "${_pkg_dir}/prefix")
set(_consumer_src "${CMAKE_CURRENT_SOURCE_DIR}/consumer")
set(_build_type "${CMAKE_BUILD_TYPE}")
if(NOT _build_type)
  set(_build_type Release)
endif()
# Drive the consumer builds with the same generator and compiler as ours.
set(_driver_args
  "-DGENERATOR=${CMAKE_GENERATOR}"
  "-DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}"
  "-DCXX=${CMAKE_CXX_COMPILER}"
  "-DBUILD_TYPE=${_build_type}")
set(_eigen_opt "-DEigen3_DIR=${Eigen3_DIR}")

function(latent_packaging_case name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "CHECK_NO_INSTALL;NEEDS_INSTALL" "SOURCE;EXE" "OPTIONS")
  # A consumer only has to build and run: in a Debug tree, no debug info (a
  # quarter of each consumer's compile).
  list(APPEND arg_OPTIONS "-DCMAKE_CXX_FLAGS_DEBUG=-O0")
  string(REPLACE ";" "|" _opts "${arg_OPTIONS}")
  add_test(NAME packaging.${name}
           COMMAND "${CMAKE_COMMAND}" ${_driver_args}
                   "-DSOURCE=${arg_SOURCE}" "-DBINARY=${_pkg_dir}/${name}" "-DEXE=${arg_EXE}"
                   "-DOPTIONS=${_opts}" "-DCHECK_NO_INSTALL=${arg_CHECK_NO_INSTALL}"
                   -P "${_consumer_src}/build_and_run.cmake")
  set_tests_properties(packaging.${name} PROPERTIES LABELS packaging TIMEOUT 600)
  if(arg_NEEDS_INSTALL)
    set_tests_properties(packaging.${name} PROPERTIES FIXTURES_REQUIRED latent_installed)
  endif()
endfunction()

# --- through an installed tree ------------------------------------------------
if(LATENT_INSTALL)
  add_test(NAME packaging.install
           COMMAND "${CMAKE_COMMAND}" "-DBUILD_DIR=${PROJECT_BINARY_DIR}" "-DSOURCE_DIR=${PROJECT_SOURCE_DIR}"
                   "-DPREFIX=${_pkg_prefix}"
                   "-DCONFIG=$<CONFIG>" -P "${_consumer_src}/install_tree.cmake")
  set_tests_properties(packaging.install PROPERTIES LABELS packaging FIXTURES_SETUP latent_installed)

  latent_packaging_case(find_package NEEDS_INSTALL
    SOURCE "${_consumer_src}" EXE consumer
    OPTIONS -DLATENT_CONSUMER_MODE=find_package "-DCMAKE_PREFIX_PATH=${_pkg_prefix}" ${_eigen_opt}
            "-DLATENT_EXPECT_DIR=${_pkg_prefix}/share/cmake/latent"
            "-DLATENT_EXPECT_VERSION=${PROJECT_VERSION}")
  latent_packaging_case(test_package NEEDS_INSTALL
    SOURCE "${PROJECT_SOURCE_DIR}/test_package" EXE test_package
    OPTIONS "-DCMAKE_PREFIX_PATH=${_pkg_prefix}" ${_eigen_opt})

  find_program(LATENT_PKG_CONFIG NAMES pkgconf pkg-config)
  # A Makefile user: the system's c++ (g++ on Debian, also when the tests
  # themselves build with clang), warnings on and fatal.
  find_program(LATENT_SYSTEM_CXX NAMES c++ g++)
  if(NOT LATENT_SYSTEM_CXX)
    set(LATENT_SYSTEM_CXX "${CMAKE_CXX_COMPILER}")
  endif()
  mark_as_advanced(LATENT_PKG_CONFIG LATENT_SYSTEM_CXX)
  add_test(NAME packaging.pkg_config
           COMMAND "${CMAKE_COMMAND}" "-DPKG_CONFIG=${LATENT_PKG_CONFIG}" "-DPREFIX=${_pkg_prefix}"
                   "-DCXX=${LATENT_SYSTEM_CXX}" "-DBINARY=${_pkg_dir}/pkg_config"
                   "-DSOURCE=${PROJECT_SOURCE_DIR}/test_package/test_package.cpp"
                   "-DVERSION=${PROJECT_VERSION}"
                   -P "${_consumer_src}/pkg_config_build.cmake")
  set_tests_properties(packaging.pkg_config PROPERTIES LABELS packaging FIXTURES_REQUIRED latent_installed
                       TIMEOUT 600)
  if(NOT LATENT_PKG_CONFIG)
    set_tests_properties(packaging.pkg_config PROPERTIES DISABLED TRUE)  # shows as "Not Run (Disabled)"
    message(STATUS "pkg-config not found: packaging.pkg_config is disabled (scripts/install_deps.sh installs it)")
  endif()
endif()

# --- as a subproject ------------------------------------------------------------
latent_packaging_case(add_subdirectory CHECK_NO_INSTALL
  SOURCE "${_consumer_src}" EXE consumer
  OPTIONS -DLATENT_CONSUMER_MODE=add_subdirectory "-DLATENT_SOURCE_DIR=${PROJECT_SOURCE_DIR}" ${_eigen_opt})
latent_packaging_case(fetchcontent CHECK_NO_INSTALL
  SOURCE "${_consumer_src}" EXE consumer
  OPTIONS -DLATENT_CONSUMER_MODE=fetchcontent "-DFETCHCONTENT_SOURCE_DIR_LATENT=${PROJECT_SOURCE_DIR}"
          -DFETCHCONTENT_FULLY_DISCONNECTED=ON -DLATENT_GIT_REPOSITORY=unused-the-source-dir-is-given
          ${_eigen_opt})

# --- the vcpkg overlay port, without the vcpkg client ----------------------------
set(_vcpkg_work "${_pkg_dir}/vcpkg_port")
add_test(NAME packaging.vcpkg_port
         COMMAND "${CMAKE_COMMAND}" "-DPORT_DIR=${PROJECT_SOURCE_DIR}/packaging/vcpkg/ports/latent"
                 "-DWORK_DIR=${_vcpkg_work}" ${_driver_args} "-DEIGEN3_DIR=${Eigen3_DIR}"
                 -P "${_consumer_src}/vcpkg_port_emulation.cmake")
set_tests_properties(packaging.vcpkg_port PROPERTIES LABELS packaging FIXTURES_SETUP latent_vcpkg_staged)
latent_packaging_case(vcpkg_consumer
  SOURCE "${_consumer_src}" EXE consumer
  OPTIONS -DLATENT_CONSUMER_MODE=find_package "-DCMAKE_PREFIX_PATH=${_vcpkg_work}/packages" ${_eigen_opt}
          "-DLATENT_EXPECT_DIR=${_vcpkg_work}/packages/share/latent"
          "-DLATENT_EXPECT_VERSION=${PROJECT_VERSION}")
set_tests_properties(packaging.vcpkg_consumer PROPERTIES FIXTURES_REQUIRED latent_vcpkg_staged)

# --- the Conan recipe, without the Conan client ------------------------------------
find_package(Python3 COMPONENTS Interpreter QUIET)
set(_conan_work "${_pkg_dir}/conan")
add_test(NAME packaging.conan_recipe
         COMMAND "${Python3_EXECUTABLE}" "${_consumer_src}/conan_recipe_check.py"
                 "${PROJECT_SOURCE_DIR}" "${_conan_work}" "${PROJECT_VERSION}")
set_tests_properties(packaging.conan_recipe PROPERTIES LABELS packaging FIXTURES_SETUP latent_conan_staged)
latent_packaging_case(conan_test_package
  SOURCE "${PROJECT_SOURCE_DIR}/test_package" EXE test_package
  OPTIONS "-DCMAKE_PREFIX_PATH=${_conan_work}/generators" ${_eigen_opt})
set_tests_properties(packaging.conan_test_package PROPERTIES FIXTURES_REQUIRED latent_conan_staged)
if(NOT Python3_Interpreter_FOUND)
  set_tests_properties(packaging.conan_recipe packaging.conan_test_package PROPERTIES DISABLED TRUE)
  message(STATUS "python3 not found: the Conan recipe checks are disabled")
endif()

# --- ODR: a second translation unit including latent.hpp ------------------------
# test_odr.cpp is picked up by the test_*.cpp glob; its partner is added here
# (its name keeps it out of the glob). A non-inline function or variable
# defined in a header then fails the link with a duplicate symbol.
if(TARGET test_odr)
  target_sources(test_odr PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/odr_second_tu.cpp")
  set_tests_properties(test_odr PROPERTIES LABELS "test_odr;packaging")
endif()
