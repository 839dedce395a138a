# cdphub_embed_manifest_schemas(<target> <schema dir>)
#
# Compiles manifests/schema/{hub,connector}.schema.json into <target> as string constants
# (generated header manifest/embedded_schemas.inc), so that the hub validates against the very
# files the documentation shows, from any working directory. The header is written at configure
# time; editing a schema re-runs the configure step on the next build (CMAKE_CONFIGURE_DEPENDS),
# and file(CONFIGURE) rewrites it only when the content changed, so nothing rebuilds needlessly.
function(cdphub_embed_manifest_schemas target schema_dir)
  set(content "// Generated from ${schema_dir} by core/manifest/embed_schemas.cmake. Do not edit.\n")
  string(APPEND content "#pragma once\n")
  foreach(name hub connector)
    set(file ${schema_dir}/${name}.schema.json)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
    file(READ ${file} hex HEX)
    # Every byte as a \xNN escape: no quoting or raw-string delimiter can break, and the text is
    # kept byte for byte. Hex escapes are cut into short literals that the compiler concatenates.
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
    string(REPEAT "." 96 line)  # 24 escapes: cuts never split one
    string(REGEX REPLACE "(${line})" "\\1\"\n  \"" escaped "${escaped}")
    string(APPEND content "inline constexpr char k_${name}_schema[] =\n  \"${escaped}\";\n")
  endforeach()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/generated/manifest/embedded_schemas.inc)
  file(CONFIGURE OUTPUT ${out} CONTENT "${content}" @ONLY)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated)
endfunction()
