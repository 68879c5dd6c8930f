# cmake -P: install latent's build tree BUILD_DIR into a fresh PREFIX and check
# what landed there.   -DBUILD_DIR= -DSOURCE_DIR= -DPREFIX= [-DCONFIG=]
cmake_minimum_required(VERSION 3.16)
file(REMOVE_RECURSE "${PREFIX}")
set(_config_arg)
if(CONFIG)
  set(_config_arg --config "${CONFIG}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${_config_arg}
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${_rc}):\n${_out}")
endif()

foreach(_f include/latent/latent.hpp include/latent/version.hpp
           share/cmake/latent/latentConfig.cmake share/cmake/latent/latentConfigVersion.cmake
           share/cmake/latent/latentTargets.cmake share/pkgconfig/latent.pc)
  if(NOT EXISTS "${PREFIX}/${_f}")
    message(FATAL_ERROR "expected ${_f} in the installed tree, found:\n${_out}")
  endif()
endforeach()

# Nothing the consumer must not inherit: no -march, no warning flags, no
# absolute paths into the build or source tree.
file(READ "${PREFIX}/share/cmake/latent/latentTargets.cmake" _targets)
file(READ "${PREFIX}/share/pkgconfig/latent.pc" _pc)
foreach(_bad "-march" "-Wall" "-Werror" "INTERFACE_COMPILE_OPTIONS" "${BUILD_DIR}")
  if(_targets MATCHES "${_bad}" OR _pc MATCHES "${_bad}")
    message(FATAL_ERROR "the installed package mentions '${_bad}'")
  endif()
endforeach()
# latentConfigVersion.cmake, exercised the way find_package() does:
# SameMajorVersion, and ARCH_INDEPENDENT (a 32-bit consumer is fine).
function(check_version_request request sizeof_void_p expect)
  set(PACKAGE_FIND_VERSION "${request}")
  string(REGEX MATCH "^[0-9]+" PACKAGE_FIND_VERSION_MAJOR "${request}")
  set(CMAKE_SIZEOF_VOID_P ${sizeof_void_p})
  include("${PREFIX}/share/cmake/latent/latentConfigVersion.cmake")
  if(PACKAGE_VERSION_UNSUITABLE)
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
  endif()
  if(NOT "${PACKAGE_VERSION_COMPATIBLE}" STREQUAL "${expect}")
    message(FATAL_ERROR "latentConfigVersion.cmake ${PACKAGE_VERSION}: request ${request} "
                        "(pointer size ${sizeof_void_p}) gave compatible=${PACKAGE_VERSION_COMPATIBLE}, expected ${expect}")
  endif()
endfunction()
file(READ "${SOURCE_DIR}/include/latent/version.hpp" _vh)
string(REGEX MATCH "LATENT_VERSION_MAJOR ([0-9]+)" _m "${_vh}")
set(_major ${CMAKE_MATCH_1})
math(EXPR _next "${_major} + 1")
check_version_request("${_major}" 8 TRUE)
check_version_request("${_major}" 4 TRUE)
check_version_request("${_next}" 8 FALSE)
if(_major GREATER 0)
  math(EXPR _prev "${_major} - 1")
  check_version_request("${_prev}" 8 FALSE)
endif()
message(STATUS "installed latent into ${PREFIX}")
