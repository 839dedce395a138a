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
# Except the connector tests that fork a child mid-run and SIGKILL it (sync_killed_when): the
# child is forked from a process whose simulator threads keep allocating, and clang 14's ASan
# allocator is not fork-safe, so the child can deadlock on its first allocation (seen in CI).
# They run in the g++ leg above; moving the child to fork+exec is tracked in the issue notes.
ctest --preset sanitize -E '^(Mailchimp\.KilledMid|HubSpot\.KilledMid|SalesforceConnector\.KilledMid|SquareConnector\.KilledMid|CsvFileConnector\.KilledMid|DeliveryTest\.AWorkerKilledMid)'

echo "== all tests passed in $(( $(date +%s) - start )) s"
