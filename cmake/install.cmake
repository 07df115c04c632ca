# Where `cmake --install` puts the engine, and the Debian package (CPack
# DEB).  Included by the top-level CMakeLists.txt once the aioring target
# exists (FIO_SOURCE_DIR set).
#
# 1. libaioring.so in the standard library directory (GNUInstallDirs:
#    lib/<multiarch> under /usr on Debian), so `--ioengine=libaioring.so`
#    finds it through the dynamic linker's cache, and
#    `--ioengine=external:<libdir>/libaioring.so` by its path.  ldconfig
#    runs after a real install (not into DESTDIR or a package).
# 2. If the target fio was configured with --dynamic-libengines, a copy as
#    <fio's engine dir>/fio-libaioring.so: fio looks there for
#    `--ioengine=libaioring` (ioengines.c, dlopen_external()).  fio's
#    engine dir is compiled in: FIO_EXT_ENG_DIR of os/os-linux.h
#    (/usr/local/lib/fio in every release 3.25..3.42).
# 3. README.md and the engine options under <datadir>/doc/libaioring.

install(TARGETS aioring LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

# fio's engine directory, if it has one.
set(aior_fio_engine_dir "")
file(STRINGS "${FIO_SOURCE_DIR}/config-host.h" aior_dynamic
	REGEX "^#define CONFIG_DYNAMIC_ENGINES")
if(aior_dynamic AND EXISTS "${FIO_SOURCE_DIR}/os/os-linux.h")
	file(STRINGS "${FIO_SOURCE_DIR}/os/os-linux.h" aior_eng_dir_line
		REGEX "^#define[ \t]+FIO_EXT_ENG_DIR")
	string(REGEX REPLACE ".*\"(.*)\".*" "\\1" aior_fio_engine_dir
		"${aior_eng_dir_line}")
endif()
set(AIOR_FIO_ENGINE_DIR "${aior_fio_engine_dir}" CACHE PATH
	"fio's dynamic engine directory: install fio-libaioring.so there (empty: fio has none)")
if(AIOR_FIO_ENGINE_DIR)
	message(STATUS "fio ${fio_version} loads dynamic engines from "
		"${AIOR_FIO_ENGINE_DIR}: installing fio-libaioring.so there too")
	install(FILES $<TARGET_FILE:aioring> DESTINATION "${AIOR_FIO_ENGINE_DIR}"
		RENAME fio-libaioring.so
		PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
			GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endif()

# The option docs: docs/options.md, titled with the build it describes,
# its links to the README made to the copy installed beside it.
file(READ "${PROJECT_SOURCE_DIR}/docs/options.md" aior_opts)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
	"${PROJECT_SOURCE_DIR}/docs/options.md")
string(REGEX REPLACE "^# Engine options\n" "" aior_opts "${aior_opts}")
string(REPLACE "](../README.md" "](README.md" aior_opts "${aior_opts}")
file(WRITE "${PROJECT_BINARY_DIR}/engine-options.md"
	"# libaioring ${PROJECT_VERSION} for ${fio_version}: engine options\n${aior_opts}")
install(FILES "${PROJECT_BINARY_DIR}/engine-options.md"
	DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES "${PROJECT_SOURCE_DIR}/README.md"
	DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The licence, as Debian's machine-readable copyright file (copyright
# format 1.0: the text indented by one space, "." for an empty line) in the
# doc directory, where Debian policy (12.5) wants it.
file(READ "${PROJECT_SOURCE_DIR}/LICENSE" aior_license)
string(REGEX REPLACE "\n+$" "" aior_license "${aior_license}")
string(REPLACE "\n\n" "\n.\n" aior_license "${aior_license}")
string(REPLACE "\n" "\n " aior_license " ${aior_license}")
file(WRITE "${PROJECT_BINARY_DIR}/copyright"
	"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
	"Upstream-Name: libaioring\n\n"
	"Files: *\n"
	"Copyright: 2026 the libaioring authors\n"
	"License: BSD-3-Clause\n${aior_license}\n")
install(FILES "${PROJECT_BINARY_DIR}/copyright"
	DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ldconfig after a real install: not into DESTDIR, not while CPack stages
# a package (the package's ldconfig trigger does it on the target).
install(CODE "
	set(aior_libdir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}\")
	if(\"\$ENV{DESTDIR}\" STREQUAL \"\" AND NOT CMAKE_INSTALL_PREFIX MATCHES \"/_CPack_Packages/\")
		find_program(aior_ldconfig ldconfig PATHS /sbin /usr/sbin)
		execute_process(COMMAND id -u OUTPUT_VARIABLE aior_uid
			OUTPUT_STRIP_TRAILING_WHITESPACE)
		if(aior_ldconfig AND aior_uid STREQUAL \"0\")
			execute_process(COMMAND \${aior_ldconfig} RESULT_VARIABLE aior_rc)
			message(STATUS \"ran ldconfig (exit \${aior_rc})\")
		else()
			message(STATUS \"run 'ldconfig' as root so --ioengine=libaioring.so finds \${aior_libdir}/libaioring.so\")
		endif()
		execute_process(COMMAND \${aior_ldconfig} -p OUTPUT_VARIABLE aior_cache
			ERROR_QUIET)
		if(NOT aior_cache MATCHES \"libaioring[.]so \")
			message(STATUS \"\${aior_libdir} is not in the dynamic linker's cache: \"
				\"--ioengine=libaioring.so needs LD_LIBRARY_PATH=\${aior_libdir}; \"
				\"--ioengine=external:\${aior_libdir}/libaioring.so always works\")
		endif()
	endif()
")

# ---- The Debian package: cpack -G DEB in a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr (scripts/package.sh does both).
#
# Depends: the exact Debian version of the fio it was built for (from the
# source package's debian/changelog, as apt-get source fetches it; or
# -DAIOR_DEB_FIO_VERSION=...), and the package that owns libaio.
set(aior_deb_fio "")
if(EXISTS "${FIO_SOURCE_DIR}/debian/changelog")
	file(STRINGS "${FIO_SOURCE_DIR}/debian/changelog" aior_chg LIMIT_COUNT 1)
	string(REGEX REPLACE "^fio \\(([^)]*)\\).*" "\\1" aior_deb_fio "${aior_chg}")
	if(aior_deb_fio STREQUAL aior_chg)
		set(aior_deb_fio "")
	endif()
endif()
set(AIOR_DEB_FIO_VERSION "${aior_deb_fio}" CACHE STRING
	"Debian version of the fio the package depends on exactly (e.g. 3.33-3)")

find_program(AIOR_DPKG_QUERY dpkg-query)
set(aior_deb_libaio "")
if(AIOR_DPKG_QUERY)
	get_filename_component(aior_libaio_real "${LIBAIO_LIBRARY}" REALPATH)
	execute_process(COMMAND ${AIOR_DPKG_QUERY} -S "${aior_libaio_real}"
		OUTPUT_VARIABLE aior_owner ERROR_QUIET
		OUTPUT_STRIP_TRAILING_WHITESPACE)
	string(REGEX REPLACE "^([^:,]+).*" "\\1" aior_deb_libaio "${aior_owner}")
endif()

if(AIOR_DEB_FIO_VERSION AND aior_deb_libaio)
	# changelog.Debian.gz: one entry for this build, dated by the last
	# commit (reproducible), compressed as policy wants (gzip -9n).
	set(aior_deb_version "${PROJECT_VERSION}-1")
	set(aior_deb_date "")
	find_program(AIOR_GIT git)
	if(AIOR_GIT AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
		execute_process(COMMAND ${AIOR_GIT} -C "${PROJECT_SOURCE_DIR}"
			log -1 --format=%aD
			OUTPUT_VARIABLE aior_deb_date ERROR_QUIET
			OUTPUT_STRIP_TRAILING_WHITESPACE)
	endif()
	if(NOT aior_deb_date)
		string(TIMESTAMP aior_deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
	endif()
	set(aior_deb_maint "libaioring maintainers <libaioring@localhost>")
	file(WRITE "${PROJECT_BINARY_DIR}/deb/changelog.Debian"
		"libaioring (${aior_deb_version}) unstable; urgency=medium\n\n"
		"  * Built with CPack from the libaioring source tree for\n"
		"    ${fio_version} (Debian fio ${AIOR_DEB_FIO_VERSION}).\n\n"
		" -- ${aior_deb_maint}  ${aior_deb_date}\n")
	find_program(AIOR_GZIP gzip REQUIRED)
	execute_process(COMMAND ${AIOR_GZIP} -9nf
		"${PROJECT_BINARY_DIR}/deb/changelog.Debian")
	# Debian's own files only where the package puts things (/usr,
	# scripts/package.sh), not in a `cmake --install` to /usr/local.
	if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
		install(FILES "${PROJECT_BINARY_DIR}/deb/changelog.Debian.gz"
			DESTINATION ${CMAKE_INSTALL_DOCDIR})
		install(FILES "${PROJECT_SOURCE_DIR}/cmake/lintian-overrides"
			DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
			RENAME libaioring)
	endif()

	set(CPACK_GENERATOR DEB)
	set(CPACK_PACKAGE_NAME libaioring)
	set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
	set(CPACK_PACKAGE_CONTACT "${aior_deb_maint}")
	set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
		"fio ioengine for Linux native AIO with user-space completion reaping")
	# Lines of at most 80 columns (lintian:
	# extended-description-line-too-long); CPack indents each.
	set(CPACK_PACKAGE_DESCRIPTION "libaioring drives Linux native AIO the way SPDK's AIO bdev does: iocbs\nhanded to io_submit() with EAGAIN as backpressure, completions copied\nfrom the kernel's aio ring in user space.  It takes built-in libaio's\njob options, so a libaio job file runs unchanged.\n.\nBuilt for ${fio_version} (Debian fio ${AIOR_DEB_FIO_VERSION}); load it with\nfio --ioengine=libaioring.so.")
	set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
	# A Debian revision: the package is not native to Debian, so its
	# changelog is changelog.Debian.gz (Debian policy 12.7).
	set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
	set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
	# Debug information stays in the build tree, not in the package
	# (lintian: unstripped-binary-or-object).
	set(CPACK_STRIP_FILES ON)
	set(CPACK_DEBIAN_PACKAGE_SECTION misc)
	# dpkg-shlibdeps adds libaio and libc6 with their minimum versions,
	# read from the ELF itself; without it, libaio's package unversioned.
	find_program(AIOR_DPKG_SHLIBDEPS dpkg-shlibdeps)
	if(AIOR_DPKG_SHLIBDEPS)
		set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
		set(CPACK_DEBIAN_PACKAGE_DEPENDS "fio (= ${AIOR_DEB_FIO_VERSION})")
	else()
		set(CPACK_DEBIAN_PACKAGE_DEPENDS
			"fio (= ${AIOR_DEB_FIO_VERSION}), ${aior_deb_libaio}")
	endif()
	# The library lands in a directory of the dynamic linker's cache:
	# the ldconfig trigger (CPack adds postinst/postrm calling ldconfig
	# too, for any package holding a shared library).
	file(WRITE "${PROJECT_BINARY_DIR}/deb/triggers"
		"activate-noawait ldconfig\n")
	set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${PROJECT_BINARY_DIR}/deb/triggers")
	set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
	include(CPack)
	message(STATUS "cpack -G DEB: libaioring ${PROJECT_VERSION}, "
		"Depends: fio (= ${AIOR_DEB_FIO_VERSION}), ${aior_deb_libaio}")
else()
	message(STATUS "no Debian package: the fio tree has no debian/changelog "
		"(set AIOR_DEB_FIO_VERSION) or libaio's package is unknown")
endif()
