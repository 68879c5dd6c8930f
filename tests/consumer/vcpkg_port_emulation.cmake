# cmake -P: run packaging/vcpkg/ports/latent/portfile.cmake without vcpkg.
# The vcpkg client cannot run here (no registry access), so the helper
# functions the portfile calls are stood in for by small versions that do
# what vcpkg's do to a header-only CMake project: configure + install the
# release build into CURRENT_PACKAGES_DIR, move the CMake config from
# CONFIG_PATH to share/<port> and fix its relative prefix computation,
# check pkg-config files, write the copyright. Then a few of vcpkg's
# post-build checks. The caller then builds a consumer against the result.
#   -DPORT_DIR= -DWORK_DIR= -DGENERATOR= [-DMAKE_PROGRAM=] -DCXX= [-DEIGEN3_DIR=]
cmake_minimum_required(VERSION 3.16)

set(PORT latent)
set(TARGET_TRIPLET x64-linux)
set(CURRENT_BUILDTREES_DIR "${WORK_DIR}/buildtrees")
set(CURRENT_PACKAGES_DIR "${WORK_DIR}/packages")
file(REMOVE_RECURSE "${WORK_DIR}")
file(READ "${PORT_DIR}/vcpkg.json" _manifest)
string(REGEX MATCH "\"version-semver\": \"([^\"]+)\"" _m "${_manifest}")
set(VERSION "${CMAKE_MATCH_1}")

function(_emu_run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${_rc}):\n${_out}")
  endif()
endfunction()

function(vcpkg_cmake_configure)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "SOURCE_PATH" "OPTIONS;OPTIONS_RELEASE;OPTIONS_DEBUG")
  if(NOT VCPKG_BUILD_TYPE STREQUAL "release")
    message(FATAL_ERROR "a header-only port builds release only (set(VCPKG_BUILD_TYPE release))")
  endif()
  set(_args -S "${arg_SOURCE_PATH}" -B "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel" -G "${GENERATOR}"
      -DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}" "-DCMAKE_CXX_COMPILER=${CXX}"
      -DCMAKE_INSTALL_LIBDIR=lib)  # vcpkg's toolchain fixes lib, not lib/<multiarch>
  if(MAKE_PROGRAM)
    list(APPEND _args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  if(EIGEN3_DIR)
    list(APPEND _args "-DEigen3_DIR=${EIGEN3_DIR}")
  endif()
  _emu_run("vcpkg_cmake_configure" "${CMAKE_COMMAND}" ${_args} ${arg_OPTIONS} ${arg_OPTIONS_RELEASE})
endfunction()

function(vcpkg_cmake_install)
  _emu_run("vcpkg_cmake_install" "${CMAKE_COMMAND}" --install "${CURRENT_BUILDTREES_DIR}/${TARGET_TRIPLET}-rel")
endfunction()

function(vcpkg_cmake_config_fixup)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "PACKAGE_NAME;CONFIG_PATH" "")
  if(NOT arg_PACKAGE_NAME)
    set(arg_PACKAGE_NAME "${PORT}")
  endif()
  set(_from "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}")
  set(_to "${CURRENT_PACKAGES_DIR}/share/${arg_PACKAGE_NAME}")
  if(NOT IS_DIRECTORY "${_from}")
    message(FATAL_ERROR "vcpkg_cmake_config_fixup: '${_from}' does not exist")
  endif()
  if(NOT _from STREQUAL _to)
    file(GLOB _files "${_from}/*")
    file(MAKE_DIRECTORY "${_to}")
    file(COPY ${_files} DESTINATION "${_to}")
    file(REMOVE_RECURSE "${_from}")
  endif()
  # Relative prefix: share/<name> is two levels below the prefix.
  file(GLOB _cmake_files "${_to}/*.cmake")
  foreach(_f IN LISTS _cmake_files)
    file(READ "${_f}" _c)
    string(REGEX REPLACE "get_filename_component\\(PACKAGE_PREFIX_DIR \"\\\${CMAKE_CURRENT_LIST_DIR}/[./]*\" ABSOLUTE\\)"
           "get_filename_component(PACKAGE_PREFIX_DIR \"\${CMAKE_CURRENT_LIST_DIR}/../../\" ABSOLUTE)" _c "${_c}")
    string(REGEX REPLACE "(get_filename_component\\(_IMPORT_PREFIX \"\\\${_IMPORT_PREFIX}\" PATH\\)\n)+"
           "get_filename_component(_IMPORT_PREFIX \"\${_IMPORT_PREFIX}\" PATH)\nget_filename_component(_IMPORT_PREFIX \"\${_IMPORT_PREFIX}\" PATH)\n"
           _c "${_c}")
    file(WRITE "${_f}" "${_c}")
  endforeach()
  file(GLOB _left "${CURRENT_PACKAGES_DIR}/share/cmake/*")
  if(NOT _left)
    file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/share/cmake")
  endif()
endfunction()

function(vcpkg_fixup_pkgconfig)
  file(GLOB _pcs "${CURRENT_PACKAGES_DIR}/lib/pkgconfig/*.pc" "${CURRENT_PACKAGES_DIR}/share/pkgconfig/*.pc")
  if(NOT _pcs)
    message(FATAL_ERROR "vcpkg_fixup_pkgconfig: no .pc file installed")
  endif()
  foreach(_pc IN LISTS _pcs)
    file(READ "${_pc}" _c)
    if(_c MATCHES "${CURRENT_PACKAGES_DIR}" OR _c MATCHES "${CURRENT_BUILDTREES_DIR}")
      message(FATAL_ERROR "${_pc} holds an absolute path into the package or build tree:\n${_c}")
    endif()
  endforeach()
endfunction()

function(vcpkg_install_copyright)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "FILE_LIST")
  set(_text "")
  foreach(_f IN LISTS arg_FILE_LIST)
    if(NOT EXISTS "${_f}")
      message(FATAL_ERROR "vcpkg_install_copyright: ${_f} does not exist")
    endif()
    file(READ "${_f}" _t)
    string(APPEND _text "${_t}")
  endforeach()
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${_text}")
endfunction()

include("${PORT_DIR}/portfile.cmake")

# A few of vcpkg's post-build checks.
foreach(_must share/${PORT}/copyright share/${PORT}/usage share/${PORT}/latentConfig.cmake
              share/${PORT}/latentConfigVersion.cmake share/${PORT}/latentTargets.cmake include/latent/latent.hpp)
  if(NOT EXISTS "${CURRENT_PACKAGES_DIR}/${_must}")
    message(FATAL_ERROR "the port did not install ${_must}")
  endif()
endforeach()
foreach(_mustnot debug lib share/cmake share/doc)
  if(EXISTS "${CURRENT_PACKAGES_DIR}/${_mustnot}")
    message(FATAL_ERROR "the port left ${_mustnot} in a header-only package")
  endif()
endforeach()
file(GLOB _root_files LIST_DIRECTORIES false "${CURRENT_PACKAGES_DIR}/*")
if(_root_files)
  message(FATAL_ERROR "files at the root of the package: ${_root_files}")
endif()
message(STATUS "port ${PORT} ${VERSION} staged in ${CURRENT_PACKAGES_DIR}")
