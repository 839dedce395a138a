#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what is missing, builds with g++
# and runs every test, then builds with clang under AddressSanitizer + UndefinedBehaviorSanitizer
# and runs every test again. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

start=$(date +%s)
echo "== build (g++, RelWithDebInfo)"
scripts/build.sh default
echo "== test (g++)"
ctest --preset default

echo "== build (clang, ASan + UBSan)"
scripts/build.sh sanitize
echo "== test (clang, ASan + UBSan)"
ctest --preset sanitize

echo "== all tests passed in $(( $(date +%s) - start )) s"
