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

# podcd_add_library(NAME SOURCES... [HEADERS...] DEPS ... PRIVATE_DEPS ...): one static library
# per seam. Its public headers are those of its sources (foo.cpp -> foo.hpp) plus HEADERS; they
# are linked into an include directory of its own under the build tree, and only that directory
# (never src/) is on a target's include path. So a file can include the headers of the libraries
# it links and no others: a wrong include is a compile error, not a link error later.
# <folder>/*_internal.hpp are private to the libraries of their folder.
function(podcd_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;HEADERS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  get_filename_component(folder ${CMAKE_CURRENT_SOURCE_DIR} NAME)
  set(headers ${ARG_HEADERS})
  foreach(source ${ARG_SOURCES})
    get_filename_component(stem ${source} NAME_WE)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${stem}.hpp)
      list(APPEND headers ${stem}.hpp)
    endif()
  endforeach()
  set(public_dir ${CMAKE_CURRENT_BINARY_DIR}/include-${name})
  set(private_dir ${CMAKE_CURRENT_BINARY_DIR}/include-${name}-private)
  podcd_link_headers(${public_dir}/${folder} ${headers})
  file(GLOB internal RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*_internal.hpp)
  target_include_directories(${name} PUBLIC ${public_dir})
  if(internal)
    podcd_link_headers(${private_dir}/${folder} ${internal})
    target_include_directories(${name} PRIVATE ${private_dir})
  endif()
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE podcd_warnings podcd_sanitize ${ARG_PRIVATE_DEPS})
endfunction()

# Symlinks DIR/<header> -> the header in the current source folder, and records the claim.
function(podcd_link_headers dir)
  file(MAKE_DIRECTORY ${dir})
  foreach(header ${ARGN})
    set(path ${CMAKE_CURRENT_SOURCE_DIR}/${header})
    if(NOT EXISTS ${path})
      message(FATAL_ERROR "${header}: no such header in ${CMAKE_CURRENT_SOURCE_DIR}")
    endif()
    file(CREATE_LINK ${path} ${dir}/${header} SYMBOLIC)
    get_property(claimed GLOBAL PROPERTY PODCD_CLAIMED_HEADERS)
    if(NOT header MATCHES "_internal[.]hpp$" AND ${path} IN_LIST claimed)
      message(FATAL_ERROR "${path} is claimed by two libraries")
    endif()
    set_property(GLOBAL APPEND PROPERTY PODCD_CLAIMED_HEADERS ${path})
  endforeach()
endfunction()

# Every header in src/ belongs to a library (call after the last podcd_add_library).
function(podcd_check_headers)
  file(GLOB_RECURSE all ${PROJECT_SOURCE_DIR}/src/*.hpp)
  get_property(claimed GLOBAL PROPERTY PODCD_CLAIMED_HEADERS)
  set(orphans "")
  foreach(header ${all})
    if(NOT header IN_LIST claimed)
      list(APPEND orphans ${header})
    endif()
  endforeach()
  if(orphans)
    message(FATAL_ERROR "headers of no library (add them to a podcd_add_library HEADERS): ${orphans}")
  endif()
endfunction()
