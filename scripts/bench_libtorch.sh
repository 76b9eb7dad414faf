#!/usr/bin/env bash
# SimpleNet on one CPU thread: Ember (bench/simple_net_bench) and libtorch (Debian's libtorch-dev,
# bench/libtorch/) on this machine, one after the other in the same call. Needs build/ (scripts/test.sh
# or scripts/demo.sh first); installs libtorch-dev if it is missing (root or sudo).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! dpkg -s libtorch-dev >/dev/null 2>&1; then
  sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends libtorch-dev >/dev/null
fi
cmake -S bench/libtorch -B build/libtorch -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/libtorch -j"$(nproc)" >/dev/null
cmake --build build --target simple_net_bench -j"$(nproc)" >/dev/null
echo "$(date -u +%F) $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores), commit $(git rev-parse --short HEAD)"
build/bench/simple_net_bench --device cpu
build/libtorch/simple_net_libtorch
