#!/usr/bin/env bash
# Builds both examples the way a partner would: install the hub's SDK to a prefix, then configure
# each example as its own CMake project against that prefix, with the *other* compiler than the
# one that built the hub. Then the installed hub must list both plugins.
# Usage: build_examples.sh <hub build dir> <source dir> <work dir> <hub C compiler id>
set -euo pipefail
bin="$1"; src="$2"; work="$3"; hub_cc="$4"
rm -rf "$work"; mkdir -p "$work/plugins"

if [ "$hub_cc" = "GNU" ]; then cc=clang; cxx=clang++; else cc=gcc; cxx=g++; fi
command -v "$cc" >/dev/null || { echo "needs $cc to build the examples with another compiler" >&2; exit 1; }

cmake --install "$bin" --prefix "$work/prefix" >/dev/null

for ex in c-plugin:EXAMPLE_C_WERROR:"$cc" third-party-plugin:EXAMPLE_WEBHOOK_WERROR:"$cxx"; do
  IFS=: read -r name werror compiler <<<"$ex"
  if [ "$name" = c-plugin ]; then lang=C; else lang=CXX; fi
  cmake -S "$src/examples/$name" -B "$work/build-$name" -G Ninja \
    -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_${lang}_COMPILER="$compiler" -D$werror=ON >/dev/null
  cmake --build "$work/build-$name" >/dev/null
  cp "$work/build-$name"/*.so "$work/plugins/"
done

# Only the entry symbol may be exported (the SDK's version script).
for so in "$work"/plugins/*.so; do
  exported=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDBVWRui]/ {print $3}' | sort -u)
  if [ "$exported" != "cdphub_plugin_entry" ]; then
    echo "$so exports more than cdphub_plugin_entry:" >&2; echo "$exported" >&2; exit 1
  fi
done

# The installed hub lists them (and the first-party plugins installed beside it).
out=$("$work/prefix/bin/cdphub" plugins -P "$work/plugins" -m "$work/no-manifests")
echo "$out"
grep -q "example-c-csv-contacts" <<<"$out"
grep -q "example-webhook-destination" <<<"$out"
grep -q "ndjson-file" <<<"$out"
echo "examples built with $cc/$cxx against the installed SDK and listed by the installed hub"
