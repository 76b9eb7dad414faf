#!/usr/bin/env bash
# Builds Ember in build/ (Release, warnings as errors) and runs the whole test suite with CTest.
# GPU tests are reported as skipped on a machine without a GPU. Exits non-zero on any failure.
# Extra arguments go to the CMake configure step, e.g. scripts/test.sh -DEMBER_CUDA=OFF
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEMBER_WERROR=ON "$@"
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
