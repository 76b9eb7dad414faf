#!/usr/bin/env bash
# Installs Ember's build dependencies on Debian/Ubuntu with apt-get, only those that are missing,
# and the data sets its tests and examples read (Fashion-MNIST; tests that need it skip without it).
# Safe to run again: when everything is present it does nothing (and needs no network or root).
# Tools count as present when they are on PATH (e.g. a pip- or tarball-installed CMake >= 3.24);
# libraries when their Debian package is installed.
set -euo pipefail

min_cmake=3.24
tools=(cmake make g++)
# zlib1g-dev: zlib, which reads gzipped data sets (data/idx.cpp).
libraries=(libeigen3-dev catch2 libspdlog-dev libopenmpi-dev openmpi-bin zlib1g-dev)
# Installed where the archive has them, else skipped with a warning: nothing needs them to build.
datasets=(dataset-fashion-mnist)  # /usr/share/datasets/fashion-mnist (data/fashion_mnist.h)

installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }

tool_ok() {
  command -v "$1" >/dev/null 2>&1 || return 1
  if [ "$1" = cmake ]; then
    local v
    v=$(cmake --version | head -n1 | awk '{print $3}')
    [ "$(printf '%s\n%s\n' "$min_cmake" "$v" | sort -V | head -n1)" = "$min_cmake" ] || return 1
  fi
}

if ! command -v dpkg >/dev/null 2>&1; then
  echo "install_deps: not a Debian/Ubuntu system; please install: ${tools[*]} ${libraries[*]}" >&2
  exit 0
fi

missing=()
for t in "${tools[@]}"; do
  tool_ok "$t" || installed "$t" || missing+=("$t")
done
for p in "${libraries[@]}"; do
  installed "$p" || missing+=("$p")
done
missing_data=()
for p in "${datasets[@]}"; do
  installed "$p" || missing_data+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ ${#missing_data[@]} -eq 0 ]; then
  exit 0
fi

wanted=("${missing[@]}" "${missing_data[@]}")
echo "install_deps: installing ${wanted[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install_deps: need root (or sudo) to install: ${wanted[*]}" >&2
    [ ${#missing[@]} -eq 0 ] && exit 0  # only data sets are missing: the build can go on
    exit 1
  fi
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -qq; then
  echo "install_deps: apt-get update failed" >&2
  [ ${#missing[@]} -eq 0 ] && exit 0
  exit 1
fi
if [ ${#missing[@]} -gt 0 ] &&
   ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "install_deps: apt-get could not install: ${missing[*]}" >&2
  exit 1
fi
for p in "${missing_data[@]}"; do
  if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1; then
    echo "install_deps: warning: could not install the data set $p; the tests that read it will skip" >&2
  fi
done
