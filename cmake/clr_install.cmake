# Installation: headers, the exported targets and clrConfig.cmake, so that another project
# does find_package(clr REQUIRED) and target_link_libraries(app clr::clr).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY include/clr DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(clr_export_targets clr)
if(CLR_WITH_CUDA)
  list(APPEND clr_export_targets clr_cuda)
endif()
if(CLR_WITH_MPI)
  list(APPEND clr_export_targets clr_mpi)
endif()
install(TARGETS ${clr_export_targets} EXPORT clrTargets)
set(clr_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/clr)
install(EXPORT clrTargets NAMESPACE clr:: DESTINATION ${clr_cmake_dir})
configure_package_config_file(cmake/clrConfig.cmake.in
  ${PROJECT_BINARY_DIR}/clrConfig.cmake INSTALL_DESTINATION ${clr_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/clrConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/clrConfig.cmake ${PROJECT_BINARY_DIR}/clrConfigVersion.cmake
        DESTINATION ${clr_cmake_dir})
