#!/usr/bin/env bash
# Installs the Debian packages cdphub needs to build, test and run. Non-interactive; only runs
# apt-get when something is missing. Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config g++ clang libclang-rt-14-dev
  libboost-dev libboost-filesystem-dev libboost-system-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev curl
  nlohmann-json3-dev libvalijson-dev libcli11-dev libspdlog-dev
  libsqlitecpp-dev libsqlite3-dev sqlite3 libphonenumber-dev libre2-dev libsimdjson-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
# Node.js and npm run Segment's own client library in tests/clients. Debian's packages only when
# no npm is on PATH: a Node installed another way (NodeSource, nvm, a CI image) is used as it is,
# never replaced or shadowed by Debian's (and NodeSource's nodejs conflicts with Debian's npm).
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root or install sudo" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
