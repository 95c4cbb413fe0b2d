# Install rules: the library, its public headers, a CMake package (asyncredisConfig.cmake,
# used by find_package(asyncredis CONFIG)) and a pkg-config file. Included at the end of the
# top-level CMakeLists.txt, after the asyncredis target exists.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ASYNCREDIS_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/asyncredis"
    CACHE STRING "Where asyncredisConfig.cmake is installed, relative to the prefix")
mark_as_advanced(ASYNCREDIS_INSTALL_CMAKEDIR)

install(TARGETS asyncredis
  EXPORT asyncredisTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")

# Only headers: include/ holds the public API and nothing else, but stray editor files must
# not end up in a package.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/asyncredis"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h" PATTERN "*.ipp")

install(EXPORT asyncredisTargets
  NAMESPACE asyncredis::
  FILE asyncredisTargets.cmake
  DESTINATION "${ASYNCREDIS_INSTALL_CMAKEDIR}")

# hiredis is a PRIVATE dependency: a shared library hides it, but the link line of a static
# libasyncredis.a carries $<LINK_ONLY:Hiredis::Hiredis>, so the consumer needs that target.
get_target_property(_asyncredis_type asyncredis TYPE)
if(_asyncredis_type STREQUAL "STATIC_LIBRARY")
  set(ASYNCREDIS_STATIC ON)
else()
  set(ASYNCREDIS_STATIC OFF)
endif()

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/asyncredisConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/asyncredisConfig.cmake"
  INSTALL_DESTINATION "${ASYNCREDIS_INSTALL_CMAKEDIR}"
  NO_SET_AND_CHECK_MACRO NO_CHECK_REQUIRED_COMPONENTS_MACRO)
# 0.x releases: SameMajorVersion accepts any 0.y for a request of 0.x. Fine while the API is
# young; revisit (SameMinorVersion) if 0.y releases start breaking it.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/asyncredisConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/asyncredisConfig.cmake"
  "${PROJECT_BINARY_DIR}/asyncredisConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/FindHiredis.cmake"
  DESTINATION "${ASYNCREDIS_INSTALL_CMAKEDIR}")

# pkg-config. The prefix is written at install time, so `cmake --install --prefix P` (as the
# install check does) yields a file pointing into P, not into the configure-time prefix.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(ASYNCREDIS_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(ASYNCREDIS_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(ASYNCREDIS_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(ASYNCREDIS_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# A static libasyncredis.a carries none of its dependencies: the plain `pkg-config --cflags
# --libs asyncredis` the README gives must then name hiredis, OpenSSL and the thread library
# itself (pkg-config puts them after -lasyncredis, where a static link looks for them). A
# shared library records its own dependencies, so they stay private there.
if(BUILD_SHARED_LIBS)
  set(ASYNCREDIS_PC_REQUIRES "nlohmann_json >= 3.10")
  set(ASYNCREDIS_PC_REQUIRES_PRIVATE "hiredis, openssl")
  set(ASYNCREDIS_PC_LIBS "")
  set(ASYNCREDIS_PC_LIBS_PRIVATE "-pthread")
else()
  set(ASYNCREDIS_PC_REQUIRES "nlohmann_json >= 3.10, hiredis, openssl")
  set(ASYNCREDIS_PC_REQUIRES_PRIVATE "")
  set(ASYNCREDIS_PC_LIBS "-pthread")
  set(ASYNCREDIS_PC_LIBS_PRIVATE "")
endif()
set(ASYNCREDIS_PC_PREFIX "@ASYNCREDIS_PC_PREFIX@")  # kept for the install-time pass
configure_file("${PROJECT_SOURCE_DIR}/cmake/asyncredis.pc.in"
               "${PROJECT_BINARY_DIR}/asyncredis.pc.in" @ONLY)
install(CODE "
  set(ASYNCREDIS_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_BINARY_DIR}/asyncredis.pc.in\" \"${PROJECT_BINARY_DIR}/asyncredis.pc\" @ONLY)
")
install(FILES "${PROJECT_BINARY_DIR}/asyncredis.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
