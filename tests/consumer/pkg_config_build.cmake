# cmake -P: compile SOURCE with nothing but `pkg-config --cflags latent`
# against the installed PREFIX, then run it.
#   -DPKG_CONFIG= -DPREFIX= -DCXX= -DBINARY= -DSOURCE= -DVERSION=
cmake_minimum_required(VERSION 3.16)

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${_rc}):\n${_out}\n${_err}")
  endif()
  set(step_output "${_out}" PARENT_SCOPE)
endfunction()

# Only the temp prefix is added; eigen3.pc comes from the system's search path.
if(DEFINED ENV{PKG_CONFIG_PATH} AND NOT "$ENV{PKG_CONFIG_PATH}" STREQUAL "")
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig:$ENV{PKG_CONFIG_PATH}")
else()
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig")
endif()

run_step("pkg-config --modversion latent" "${PKG_CONFIG}" --modversion latent)
if(NOT step_output STREQUAL VERSION)
  message(FATAL_ERROR "pkg-config says latent ${step_output}, expected ${VERSION}")
endif()
run_step("pkg-config --cflags latent" "${PKG_CONFIG}" --cflags latent)
set(_cflags "${step_output}")
message(STATUS "pkg-config --cflags latent: ${_cflags}")
separate_arguments(_cflag_list UNIX_COMMAND "${_cflags}")

# The include dir must resolve to the prefix the tree was installed into.
set(_found_prefix FALSE)
get_filename_component(_want "${PREFIX}/include" REALPATH)
foreach(_f IN LISTS _cflag_list)
  if(_f MATCHES "^-I(.+)$")
    get_filename_component(_dir "${CMAKE_MATCH_1}" REALPATH)
    if(_dir STREQUAL _want AND EXISTS "${_dir}/latent/latent.hpp")
      set(_found_prefix TRUE)
    endif()
  endif()
endforeach()
if(NOT _found_prefix)
  message(FATAL_ERROR "pkg-config --cflags latent does not point at ${PREFIX}/include: ${_cflags}")
endif()
run_step("pkg-config --libs latent" "${PKG_CONFIG}" --libs latent)
set(_libs "${step_output}")
separate_arguments(_lib_list UNIX_COMMAND "${_libs}")

file(REMOVE_RECURSE "${BINARY}")
file(MAKE_DIRECTORY "${BINARY}")
run_step("compile ${SOURCE}" "${CXX}" -std=c++17 -Wall -Wextra -Wpedantic -Werror ${_cflag_list} "${SOURCE}" -o "${BINARY}/pkg_config_consumer" ${_lib_list})
run_step("run pkg_config_consumer" "${BINARY}/pkg_config_consumer")
message(STATUS "${step_output}")
if(NOT step_output MATCHES "one training step, loss [0-9]")
  message(FATAL_ERROR "pkg_config_consumer did not report a finite training loss:\n${step_output}")
endif()
