# latent::blas: an INTERFACE target that adds a BLAS as a candidate GEMM
# engine (include/latent/core/blas.hpp): it links the BLAS and defines
# LATENT_HAS_CBLAS plus the vendor (LATENT_CBLAS_OPENBLAS or
# LATENT_CBLAS_BLIS), so latent.hpp registers cblas_sgemm/cblas_dgemm and
# sets the BLAS to one thread (latent splits products between threads
# itself). Used by latent's own build (option LATENT_WITH_BLAS) and by
# installed packages: find_package(latent CONFIG COMPONENTS blas).
#
# LATENT_BLAS_VENDOR: OpenBLAS (default) or BLIS.
set(LATENT_BLAS_VENDOR "OpenBLAS" CACHE STRING "BLAS for latent::blas: OpenBLAS or BLIS")
set_property(CACHE LATENT_BLAS_VENDOR PROPERTY STRINGS OpenBLAS BLIS)

function(latent_define_blas_target required)
  if(TARGET latent::blas)
    set(latent_blas_FOUND TRUE PARENT_SCOPE)
    return()
  endif()
  if(LATENT_BLAS_VENDOR STREQUAL "BLIS")
    set(_lib_names blis-mt blis)
    set(_suffixes blis-openmp blis-pthread blis)
    set(_define LATENT_CBLAS_BLIS=1)
  elseif(LATENT_BLAS_VENDOR STREQUAL "OpenBLAS")
    set(_lib_names openblas)
    set(_suffixes openblas-pthread openblas-openmp openblas)
    set(_define LATENT_CBLAS_OPENBLAS=1)
  else()
    message(FATAL_ERROR "LATENT_BLAS_VENDOR: expected OpenBLAS or BLIS, found '${LATENT_BLAS_VENDOR}'")
  endif()
  find_library(LATENT_BLAS_LIBRARY NAMES ${_lib_names})
  # cblas.h: the vendor's own (Debian keeps each in a subdirectory), else the default one
  find_path(LATENT_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES ${_suffixes})
  if(NOT LATENT_BLAS_LIBRARY OR NOT LATENT_CBLAS_INCLUDE_DIR)
    if(required)
      message(FATAL_ERROR "latent::blas: expected ${LATENT_BLAS_VENDOR} (library ${_lib_names} and cblas.h), found "
                          "library '${LATENT_BLAS_LIBRARY}', header dir '${LATENT_CBLAS_INCLUDE_DIR}' "
                          "(Debian: apt install libopenblas-dev or libblis-dev)")
    endif()
    set(latent_blas_FOUND FALSE PARENT_SCOPE)
    return()
  endif()
  add_library(latent::blas INTERFACE IMPORTED GLOBAL)
  set_target_properties(latent::blas PROPERTIES
    INTERFACE_LINK_LIBRARIES "latent::latent;${LATENT_BLAS_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LATENT_CBLAS_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "LATENT_HAS_CBLAS=1;${_define}")
  message(STATUS "latent::blas: ${LATENT_BLAS_VENDOR} (${LATENT_BLAS_LIBRARY}, cblas.h in ${LATENT_CBLAS_INCLUDE_DIR})")
  set(latent_blas_FOUND TRUE PARENT_SCOPE)
endfunction()
