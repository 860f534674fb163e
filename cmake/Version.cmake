# Generates version.hpp with the project version and the git revision. The
# revision is read at build time (not only at configure time), so a rebuild
# after a commit reports the new revision; the file is rewritten only when its
# content changes, so nothing recompiles needlessly.
set(MLWM_VERSION_DIR ${CMAKE_BINARY_DIR}/generated)
add_custom_target(mlwm_version_header
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUT=${MLWM_VERSION_DIR}/version.hpp
          -DVERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/write_version.cmake
  BYPRODUCTS ${MLWM_VERSION_DIR}/version.hpp
  COMMENT "Reading the git revision")
