# Install rules for the header-only package (included when LATENT_INSTALL):
#   include/latent/**.hpp
#   share/cmake/latent/{latentConfig,latentConfigVersion,latentTargets}.cmake
#   share/pkgconfig/latent.pc
#   share/doc/latent/LICENSE
# latent::latent is exported (latent::blas is defined on the consumer's
# side by latent_blas.cmake: find_package(latent COMPONENTS blas); latent::mpi,
# optional component "mpi", adds MPI::MPI_CXX): cxx_std_17, the include dir and
# Eigen3::Eigen. Warning flags and -march=native live on latent_internal /
# latent_fast, which are never installed.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Architecture-independent, so under the data dir (as nlohmann_json and fmt's
# header-only installs do); vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/latent)
# and the CTest install case rely on this path.
set(LATENT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/latent"
    CACHE STRING "Where latentConfig.cmake is installed, relative to the prefix")
set(LATENT_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_DATADIR}/pkgconfig"
    CACHE STRING "Where latent.pc is installed, relative to the prefix")
mark_as_advanced(LATENT_INSTALL_CMAKEDIR LATENT_INSTALL_PKGCONFIGDIR)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/latent"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp")

install(TARGETS latent EXPORT latentTargets)
install(EXPORT latentTargets
        NAMESPACE latent::
        FILE latentTargets.cmake
        DESTINATION "${LATENT_INSTALL_CMAKEDIR}")
# latent::mpi in its own file, loaded only for find_package(latent COMPONENTS mpi),
# so MPI is required only by those who ask for it.
install(TARGETS latent_mpi EXPORT latentMpiTargets)
install(EXPORT latentMpiTargets
        NAMESPACE latent::
        FILE latentMpiTargets.cmake
        DESTINATION "${LATENT_INSTALL_CMAKEDIR}")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/latentConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/latentConfig.cmake"
  INSTALL_DESTINATION "${LATENT_INSTALL_CMAKEDIR}")
# A header-only package fits any architecture; 0.x and 1.x never mix.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/latentConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMajorVersion
  ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/latentConfig.cmake"
              "${PROJECT_BINARY_DIR}/latentConfigVersion.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/latent_blas.cmake"
        DESTINATION "${LATENT_INSTALL_CMAKEDIR}")

# pkg-config: the prefix is found from the .pc file's own place
# (${pcfiledir}), so the file stays right after `cmake --install --prefix X`,
# a DESTDIR install or a relocated tree (as vcpkg_fixup_pkgconfig rewrites it).
if(IS_ABSOLUTE "${LATENT_INSTALL_PKGCONFIGDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(LATENT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(LATENT_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH _latent_pc_up "/root/${LATENT_INSTALL_PKGCONFIGDIR}" "/root")
  string(REGEX REPLACE "/$" "" _latent_pc_up "${_latent_pc_up}")
  set(LATENT_PC_PREFIX "\${pcfiledir}/${_latent_pc_up}")
  set(LATENT_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/latent.pc.in"
               "${PROJECT_BINARY_DIR}/latent.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/latent.pc"
        DESTINATION "${LATENT_INSTALL_PKGCONFIGDIR}")

if(EXISTS "${PROJECT_SOURCE_DIR}/LICENSE")
  install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
endif()
