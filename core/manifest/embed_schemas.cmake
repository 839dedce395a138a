# cdphub_embed_manifest_schemas(<target> <schema dir>)
#
# Compiles every <schema dir>/*.schema.json into <target> as string constants (generated header
# manifest/embedded_schemas.inc), so that the hub validates against the very files the
# documentation shows, from any working directory. Each file <name>.schema.json becomes
# k_<name>_schema ('-' written '_') and an entry {"<name>", text} of k_embedded_schemas, in name
# order. The header is written at configure time; editing a schema re-runs the configure step on
# the next build (CMAKE_CONFIGURE_DEPENDS), and so does adding or removing one (the glob is
# CONFIGURE_DEPENDS). file(CONFIGURE) rewrites the header only when the content changed, so
# nothing rebuilds needlessly.
function(cdphub_embed_manifest_schemas target schema_dir)
  file(GLOB files CONFIGURE_DEPENDS ${schema_dir}/*.schema.json)
  list(SORT files)
  if(NOT files)
    message(FATAL_ERROR "no *.schema.json in ${schema_dir}")
  endif()
  set(content "// Generated from ${schema_dir} by core/manifest/embed_schemas.cmake. Do not edit.\n")
  string(APPEND content "#pragma once\n")
  set(table "")
  foreach(file IN LISTS files)
    get_filename_component(base ${file} NAME)
    string(REGEX REPLACE "\\.schema\\.json$" "" name "${base}")
    if(NOT name MATCHES "^[a-z][a-z0-9-]*$")
      message(FATAL_ERROR "${file}: schema names are lower-case letters, digits and '-'")
    endif()
    string(REPLACE "-" "_" ident "${name}")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
    file(READ ${file} hex HEX)
    # Every byte as a \xNN escape: no quoting or raw-string delimiter can break, and the text is
    # kept byte for byte. Hex escapes are cut into short literals that the compiler concatenates.
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
    string(REPEAT "." 96 line)  # 24 escapes: cuts never split one
    string(REGEX REPLACE "(${line})" "\\1\"\n  \"" escaped "${escaped}")
    string(APPEND content "inline constexpr char k_${ident}_schema[] =\n  \"${escaped}\";\n")
    string(APPEND table "    {\"${name}\", {k_${ident}_schema, sizeof(k_${ident}_schema) - 1}},\n")
  endforeach()
  string(APPEND content "inline constexpr cdphub::manifest::detail::EmbeddedSchema k_embedded_schemas[] = {\n")
  string(APPEND content "${table}};\n")
  set(out ${CMAKE_CURRENT_BINARY_DIR}/generated/manifest/embedded_schemas.inc)
  file(CONFIGURE OUTPUT ${out} CONTENT "${content}" @ONLY)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated)
endfunction()
