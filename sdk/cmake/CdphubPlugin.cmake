# cdphub_add_plugin(<target> [C] <sources>...)
# Builds a connector plugin as a loadable module: hidden symbols (only the entry symbol is
# exported, so the plugin's copy of any library never collides with the hub's), no undefined
# symbols left for the hub to provide, and no "lib" prefix. Pass C to link only the C header.
function(cdphub_add_plugin target)
  set(sdk cdphub::sdk)
  if(ARGV1 STREQUAL "C")
    set(sdk cdphub::sdk_c)
    list(REMOVE_AT ARGN 0)
  endif()
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE ${sdk})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    # Hidden visibility still leaves weak template instantiations (std::vector<...>) exported;
    # a version script makes the entry symbol the only one, whatever the compiler emits.
    set(map ${CMAKE_BINARY_DIR}/cdphub_plugin_exports.map)
    if(NOT EXISTS ${map})
      file(WRITE ${map} "{ global: cdphub_plugin_entry; local: *; };\n")
    endif()
    target_link_options(${target} PRIVATE "LINKER:--exclude-libs,ALL" "LINKER:--version-script=${map}")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${map})
    # Catch missing symbols at link time, not at load time. Sanitizer runtimes live in the
    # executable, so a sanitized plugin legitimately leaves their symbols undefined.
    if(NOT CDPHUB_SANITIZE)
      target_link_options(${target} PRIVATE "LINKER:--no-undefined")
    endif()
  endif()
endfunction()
