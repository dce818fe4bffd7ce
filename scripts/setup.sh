#!/usr/bin/env bash
# Installs what rstrain needs on a Debian 12 machine (as root), skipping what is already there:
# the four C libraries with their tools, pkg-config, and h5py (tests read checkpoints with it).
set -euo pipefail

packages=(pkg-config libopenmpi-dev openmpi-bin libopenblas-dev libgdal-dev gdal-bin libhdf5-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to apt-get install: ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: the Swift toolchain (swift) is not on PATH; install Swift 5.9 or newer" >&2
  exit 1
fi

if ! python3 -c "import h5py, numpy" >/dev/null 2>&1; then
  echo "setup: installing h5py and numpy (used by the tests to read rstrain's HDF5 files)"
  python3 -m pip install --quiet h5py numpy 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages h5py numpy
fi
