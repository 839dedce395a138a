#!/usr/bin/env bash
# The main job, from a fresh Debian machine: installs what is missing, builds the hub and its
# first-party plugins, then loads every plugin, validates the demo manifests and shows what is
# enabled and whether each enabled connector passes its check.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh default cdphub cdphub_plugins  # the hub and its first-party plugins only

hub=build/default/bin/cdphub
export CDPHUB_MANIFESTS="${CDPHUB_MANIFESTS:-$PWD/manifests}"

echo
echo "== $($hub --version)"
echo
echo "== cdphub plugins"
$hub plugins
echo
echo "== cdphub validate"
$hub validate
echo
echo "== cdphub connectors"
$hub connectors
echo
echo "== cdphub check --all"
$hub check --all || true
echo
echo "== cdphub import: the demo's CRM and POS files, resolved into profiles"
for f in examples/demo/data/crm/*.ndjson; do $hub import "$f" --source crm-contacts-files; done
for f in examples/demo/data/pos/*.ndjson; do $hub import "$f" --source pos-orders-files; done
echo
echo "== cdphub segment list"
$hub segment list
echo
echo "== cdphub profile explain email:ann.lee@example.com"
$hub profile explain email:ann.lee@example.com
echo
echo "The hub is at $hub; try '$hub --help'. Manifests: $CDPHUB_MANIFESTS"
