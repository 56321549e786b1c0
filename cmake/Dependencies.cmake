# The nine libraries, all from Debian 12's packages (see ../shared/LIBRARIES.md).
find_package(PkgConfig REQUIRED)
pkg_check_modules(PISTACHE REQUIRED IMPORTED_TARGET libpistache)
pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2>=1.5)
# libyaml parses compose files (several times faster than yaml-cpp, which reads podcd.yml).
pkg_check_modules(LIBYAML REQUIRED IMPORTED_TARGET yaml-0.1)
# Argon2id password hashes (src/auth): OpenSSL 3.0 has no Argon2.
pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)
find_package(RapidJSON REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(CURL REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(Threads REQUIRED)

# RapidJSON ships no target; RAPIDJSON_HAS_STDSTRING=1 avoids the reversed
# operator== recursion that crashes under C++20 and later.
add_library(podcd_rapidjson INTERFACE)
target_include_directories(podcd_rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIRS})
target_compile_definitions(podcd_rapidjson INTERFACE RAPIDJSON_HAS_STDSTRING=1)
# RapidJSON 1.1.0's internal::Stack adds to a null pointer on its first push (fixed upstream
# after 1.1.0); UBSan's pointer-overflow check aborts on it in every sanitized parse.
target_compile_options(podcd_rapidjson INTERFACE -fno-sanitize=pointer-overflow)

if(PODCD_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()
