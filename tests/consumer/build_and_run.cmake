# cmake -P driver for one packaging case: configure SOURCE into a fresh BINARY
# dir, build it, run EXE and check that it reports a training step.
#   -DSOURCE= -DBINARY= -DGENERATOR= [-DMAKE_PROGRAM=] -DCXX= -DBUILD_TYPE= -DEXE=
#   [-DOPTIONS=a|b|c]          extra -D options for the configure step, '|'-separated
#   [-DCHECK_NO_INSTALL=ON]    `cmake --install` of the consumer must install nothing of latent's
cmake_minimum_required(VERSION 3.16)

foreach(_v SOURCE BINARY GENERATOR CXX EXE)
  if(NOT DEFINED ${_v})
    message(FATAL_ERROR "build_and_run.cmake: ${_v} is not set")
  endif()
endforeach()

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${_rc}):\n${_out}")
  endif()
  set(step_output "${_out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${BINARY}")
string(REPLACE "|" ";" _options "${OPTIONS}")
set(_configure "${CMAKE_COMMAND}" -S "${SOURCE}" -B "${BINARY}" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
if(MAKE_PROGRAM)
  list(APPEND _configure "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
run_step("configure ${SOURCE}" ${_configure} ${_options})
message(STATUS "${step_output}")
set(_config_arg)
if(BUILD_TYPE)
  set(_config_arg --config "${BUILD_TYPE}")
endif()
run_step("build ${BINARY}" "${CMAKE_COMMAND}" --build "${BINARY}" ${_config_arg})

set(_exe "${BINARY}/${EXE}")
if(NOT EXISTS "${_exe}" AND EXISTS "${BINARY}/${BUILD_TYPE}/${EXE}")
  set(_exe "${BINARY}/${BUILD_TYPE}/${EXE}")  # multi-config generators
endif()
run_step("run ${EXE}" "${_exe}")
message(STATUS "${step_output}")
if(NOT step_output MATCHES "one training step, loss [0-9]")
  message(FATAL_ERROR "${EXE} did not report a finite training loss:\n${step_output}")
endif()

if(CHECK_NO_INSTALL)
  set(_prefix "${BINARY}/_install_check")
  run_step("install ${BINARY}" "${CMAKE_COMMAND}" --install "${BINARY}" --prefix "${_prefix}" ${_config_arg})
  file(GLOB_RECURSE _installed LIST_DIRECTORIES false "${_prefix}/*")
  if(_installed)
    message(FATAL_ERROR "a parent project's install picked up latent's files:\n${_installed}")
  endif()
endif()
