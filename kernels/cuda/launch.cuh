// Launch configuration shared by the element-wise style kernels.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ember::kernels::cuda_impl {

inline constexpr int kBlockSize = 256;

// Blocks for a grid-stride loop over `work` items: one item per thread, capped at 16 blocks of
// 256 threads per SM (two full waves at 2048 resident threads per SM); the loop covers the rest.
inline unsigned grid_size(std::int64_t work, int sm_count) {
  const std::int64_t wanted = (std::max<std::int64_t>(work, 1) + kBlockSize - 1) / kBlockSize;
  return static_cast<unsigned>(std::min<std::int64_t>(wanted, std::int64_t{16} * std::max(sm_count, 1)));
}

}  // namespace ember::kernels::cuda_impl
