# The Debian package (cpack -G DEB, or `cmake --build B --target package`),
# for a build configured with -DMLWM_PACKAGE=ON -DCMAKE_INSTALL_PREFIX=/usr:
# the mlwm binary and Python module, the systemd unit (ExecStart at this
# prefix), /etc/mlwm/mlwm.yaml as a conffile, the mlwm user and its folders
# (systemd-sysusers and systemd-tmpfiles, run by postinst), the Prometheus
# rules and Grafana dashboard under /usr/share/mlwm. Runtime Depends: computed
# by dpkg-shlibdeps from the shared libraries the files link.
include(GNUInstallDirs)
set(pkg ${CMAKE_SOURCE_DIR}/deploy/debian)

file(READ ${CMAKE_SOURCE_DIR}/systemd/mlwm.service unit)
string(REPLACE "/usr/local/bin/mlwm" "${CMAKE_INSTALL_FULL_BINDIR}/mlwm" unit "${unit}")
string(REPLACE "file:///usr/local/share/doc/mlwm/README.md"
       "file://${CMAKE_INSTALL_FULL_DOCDIR}/README.md" unit "${unit}")
string(REPLACE "Install: deploy/install.sh (or copy to /etc/systemd/system)."
       "Installed by the mlwm package." unit "${unit}")
file(WRITE ${CMAKE_BINARY_DIR}/packaging/mlwm.service "${unit}")

install(FILES ${CMAKE_BINARY_DIR}/packaging/mlwm.service DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/mlwm.yaml DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/mlwm)
install(DIRECTORY DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/mlwm/configurations)
install(FILES ${pkg}/mlwm.sysusers DESTINATION lib/sysusers.d RENAME mlwm.conf)
install(FILES ${pkg}/mlwm.tmpfiles DESTINATION lib/tmpfiles.d RENAME mlwm.conf)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/prometheus/mlwm-alerts.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/mlwm/prometheus)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/grafana/mlwm-dashboard.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/mlwm/grafana)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/configurations/ USE_SOURCE_PERMISSIONS
        DESTINATION ${CMAKE_INSTALL_DATADIR}/mlwm/configurations)
# the Debian changelog (its version must be the project's) and copyright
file(STRINGS ${pkg}/changelog first LIMIT_COUNT 1)
if(NOT first MATCHES "^mlwm \\(${PROJECT_VERSION}\\)")
  message(FATAL_ERROR "deploy/debian/changelog starts with '${first}': add an entry for ${PROJECT_VERSION}")
endif()
execute_process(COMMAND gzip -9n -c ${pkg}/changelog OUTPUT_FILE ${CMAKE_BINARY_DIR}/packaging/changelog.gz
                COMMAND_ERROR_IS_FATAL ANY)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${pkg}/copyright ${CMAKE_BINARY_DIR}/packaging/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles "${CMAKE_INSTALL_FULL_SYSCONFDIR}/mlwm/mlwm.yaml\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mlwm)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(MLWM_MAINTAINER "mlwm maintainers <mlwm-maintainers@example.org>" CACHE STRING
    "Maintainer: field of the Debian package")
set(CPACK_PACKAGE_CONTACT "${MLWM_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "runs machine-learning weather models in operations")
set(CPACK_PACKAGE_DESCRIPTION
    "mlwm polls S3 for newly arrived input datasets of each analysis time, runs\n"
    "every configured model's inference container through the Docker Engine API\n"
    "and publishes its outputs (the mlwm daemon, a systemd service), with the\n"
    "tools a model team needs: paths, build-artifact, build-image, run, validate.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # merged with: the unit's ExecReload runs /bin/kill;
# postinst runs systemd-sysusers and systemd-tmpfiles: systemd's on a host, the
# standalone ones where systemd is not installed (the mlwm image)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "procps, systemd | systemd-standalone-sysusers, systemd | systemd-standalone-tmpfiles")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "docker.io | podman")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3, awscli")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/packaging/conffiles ${pkg}/postinst ${pkg}/prerm ${pkg}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
include(CPack)
