# Compiler settings and dependencies of the pgguard library. Shared by the repository's
# top-level CMakeLists.txt and by src/CMakeLists.txt when a BOSH packaging script builds src/
# on its own (a BOSH package sees only src/ and blobs/).
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

option(PGGUARD_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
# On for development and CI. A BOSH compilation VM builds with whatever compiler its stemcell
# has, whose new warnings (or false positives, like GCC 12's -Wstringop-overflow at -O3 inside
# libstdc++) must not make a release undeployable: packaging turns this off.
option(PGGUARD_WERROR "Treat compiler warnings as errors" ON)

find_package(PkgConfig REQUIRED)
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)
pkg_check_modules(LIBCAP REQUIRED IMPORTED_TARGET libcap)
pkg_check_modules(NFTNL REQUIRED IMPORTED_TARGET libnftnl)
pkg_check_modules(MNL REQUIRED IMPORTED_TARGET libmnl)
pkg_check_modules(SELINUX REQUIRED IMPORTED_TARGET libselinux)
pkg_check_modules(SEMANAGE REQUIRED IMPORTED_TARGET libsemanage)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
# pgguard-pgpool only: pgpool's AES and MD5 password forms (src/pgpool/pool_crypto.hpp).
find_package(OpenSSL 3 REQUIRED COMPONENTS Crypto)

# Flags for the project's own code only; third-party headers come in as SYSTEM.
add_library(pgguard_warnings INTERFACE)
target_compile_options(pgguard_warnings INTERFACE -Wall -Wextra -Wshadow -Wconversion
                                                  -Wno-sign-conversion)
if(PGGUARD_WERROR)
  target_compile_options(pgguard_warnings INTERFACE -Werror)
endif()
if(PGGUARD_SANITIZE)
  target_compile_options(pgguard_warnings INTERFACE -fsanitize=address,undefined
                                                    -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(pgguard_warnings INTERFACE -fsanitize=address,undefined)
endif()
