# The segment_client fixture's setup: installs the pinned client libraries into the build tree.
# Run by ctest as `cmake -DSOURCE_DIR=... -DWORK_DIR=... -P npm_ci.cmake`.
#
# package.json and package-lock.json are copied next to the test's script in the build tree and
# `npm ci` runs there, so node_modules/ never appears in the source tree. npm is looked up now,
# not at configure time, so installing Node after configuring needs no re-configure. A missing
# npm fails this setup (and with it every test that needs it): a client compatibility test that
# skipped itself on a machine without Node would pass without having tested anything.
cmake_minimum_required(VERSION 3.22)

foreach(var SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "npm_ci.cmake: -D${var}=... is required")
  endif()
endforeach()

find_program(NPM npm)
find_program(NODE node)
if(NOT NPM OR NOT NODE)
  set(missing)
  foreach(tool NODE NPM)
    if(NOT ${tool})
      string(TOLOWER ${tool} name)
      list(APPEND missing ${name})
    endif()
  endforeach()
  list(JOIN missing ", " missing)
  message(FATAL_ERROR
    "the segment client tests need Node.js (18 or later) and npm; not found on PATH: ${missing}. "
    "Install them (scripts/install-deps.sh does, from Debian's nodejs and npm packages) and run "
    "the tests again.")
endif()

execute_process(COMMAND "${NODE}" --version OUTPUT_VARIABLE node_version
  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT node_version MATCHES "^v([0-9]+)\\.")
  message(FATAL_ERROR "'${NODE} --version' failed (${rc}): ${node_version}")
endif()
if(CMAKE_MATCH_1 LESS 18)
  message(FATAL_ERROR "Node.js ${node_version} at ${NODE} is too old: the pinned "
    "@segment/analytics-node needs Node 18 or later")
endif()

file(MAKE_DIRECTORY "${WORK_DIR}")
foreach(f package.json package-lock.json send_events.js)
  file(COPY_FILE "${SOURCE_DIR}/${f}" "${WORK_DIR}/${f}" ONLY_IF_DIFFERENT)
endforeach()

# npm ci deletes node_modules and installs again from the lock file. When the lock file is the one
# installed last time, that is a re-download for nothing: the copy of the lock file made after a
# successful install says which one that was.
set(installed "${WORK_DIR}/node_modules/.cdphub-installed-lock.json")
if(EXISTS "${installed}" AND EXISTS "${WORK_DIR}/node_modules/@segment/analytics-node/package.json")
  file(SHA256 "${installed}" before)
  file(SHA256 "${WORK_DIR}/package-lock.json" now)
  if(before STREQUAL now)
    message(STATUS "node ${node_version}: node_modules is up to date with package-lock.json")
    return()
  endif()
endif()

message(STATUS "node ${node_version}: npm ci in ${WORK_DIR}")
execute_process(COMMAND "${NPM}" ci --no-audit --no-fund
  WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "'npm ci' failed (${rc}) in ${WORK_DIR}: the npm registry must be reachable "
    "for the first run")
endif()
file(COPY_FILE "${WORK_DIR}/package-lock.json" "${installed}")
