set(VCPKG_BUILD_TYPE release) # header-only port

# Source: this overlay port lives in latent's repository
# (packaging/vcpkg/ports/latent) and builds the checkout it belongs to, so
# `vcpkg install latent --overlay-ports=<checkout>/packaging/vcpkg/ports`
# needs no download and no release archive.
# A port for a registry pins a published release instead:
#   vcpkg_from_github(
#       OUT_SOURCE_PATH SOURCE_PATH
#       REPO <owner>/latent
#       REF "v${VERSION}"
#       SHA512 <sha512 of the release archive>
#       HEAD_REF main
#   )
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/include/latent/version.hpp")
    message(FATAL_ERROR "latent overlay port: expected the latent sources four levels above "
                        "${CMAKE_CURRENT_LIST_DIR}, found no include/latent/version.hpp in ${SOURCE_PATH}")
endif()
file(STRINGS "${SOURCE_PATH}/include/latent/version.hpp" _latent_version_lines
     REGEX "#define LATENT_VERSION_(MAJOR|MINOR|PATCH) ")
string(REGEX REPLACE "[^;]*LATENT_VERSION_[A-Z]+ ([0-9]+)" "\\1" _latent_version "${_latent_version_lines}")
string(REPLACE ";" "." _latent_version "${_latent_version}")
if(DEFINED VERSION AND NOT VERSION STREQUAL _latent_version)
    message(FATAL_ERROR "latent overlay port: vcpkg.json says ${VERSION}, the sources say ${_latent_version}")
endif()

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DLATENT_BUILD_TESTS=OFF
        -DLATENT_BUILD_EXAMPLES=OFF
        -DLATENT_BUILD_BENCHMARKS=OFF
        -DLATENT_INSTALL=ON
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/latent)
vcpkg_fixup_pkgconfig()

# Header-only: nothing under lib/ or debug/. The license goes to copyright.
file(REMOVE_RECURSE
    "${CURRENT_PACKAGES_DIR}/debug"
    "${CURRENT_PACKAGES_DIR}/lib"
    "${CURRENT_PACKAGES_DIR}/share/doc"
)

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
