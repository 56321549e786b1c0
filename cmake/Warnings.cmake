# Warning and sanitizer flags as INTERFACE targets: every podcd target links
# podcd_warnings (and podcd_sanitize, empty unless PODCD_SANITIZE is on).
add_library(podcd_warnings INTERFACE)
target_compile_options(podcd_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  $<$<BOOL:${PODCD_WERROR}>:-Werror>)

add_library(podcd_sanitize INTERFACE)
if(PODCD_SANITIZE)
  target_compile_options(podcd_sanitize INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(podcd_sanitize INTERFACE -fsanitize=address,undefined)
  # Lets timing-sensitive tests step aside in the sanitizer run (they run in the normal one).
  target_compile_definitions(podcd_sanitize INTERFACE PODCD_SANITIZED=1)
endif()

# podcd_add_library(NAME SOURCES... DEPS ...): one static library per src/ folder.
function(podcd_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE podcd_warnings podcd_sanitize ${ARG_PRIVATE_DEPS})
endfunction()
