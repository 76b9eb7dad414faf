#!/usr/bin/env bash
# Builds Ember here for the lent GPU machine (see the README's "GPU machine" notes) and gathers
# what scripts/device_run*.sh need into .devbin/: libember.so and the stripped test, example and
# benchmark programs, small enough to travel with the tree. MPI is left out: the GPU machine has
# no Open MPI, and its ranks start through scripts/ember_launch.sh (NCCL) instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cmake -S . -B build-device -DBUILD_SHARED_LIBS=ON -DEMBER_CPU_ARCH=x86-64-v3 -DEMBER_WERROR=ON \
  -DEMBER_MPI=OFF -DEMBER_NCCL=ON -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build-device -j"$(nproc)"
rm -rf .devbin && mkdir -p .devbin/tests .devbin/examples .devbin/bench
cp build-device/libember.so* .devbin/
cp build-device/tests/ember_tests build-device/tests/ember_cuda_tests build-device/tests/ember_distributed_tests .devbin/tests/
find build-device/examples -maxdepth 1 -type f -executable -exec cp {} .devbin/examples/ \;
find build-device/bench -maxdepth 2 -type f -executable -exec cp {} .devbin/bench/ \;
strip .devbin/tests/* .devbin/examples/* .devbin/bench/* .devbin/libember.so*
# The build's whole test list, for scripts/device_ctest.py on the GPU machine.
(cd build-device && ctest --show-only=json-v1) > .devbin/ctest.json
printf '%s\n%s\n' "$PWD" "$PWD/build-device" > .devbin/build_paths.txt
du -sh .devbin
