#!/usr/bin/env bash
# Builds Ember in build/ (Release; the CUDA backend is built when CMake finds a CUDA toolkit) and
# runs the SimpleNet example on the CPU and, when a GPU is present, on CUDA, with both times.
# Extra arguments go to the CMake configure step, e.g. scripts/demo.sh -DEMBER_CUDA=OFF
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j"$(nproc)"
build/examples/simple_net --device all
