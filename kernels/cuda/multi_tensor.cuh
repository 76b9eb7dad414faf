// Multi-tensor launches for the optimizers: one kernel launch updates a whole list of parameters
// (and their gradients and state), as PyTorch's multi_tensor_apply does, instead of one launch per
// tensor per step.
//
// Layout: each tensor is cut into chunks of kChunk elements and every block handles one chunk.
// The table of tensors (pointers for each of the Depth lists, element counts, and the first block
// of each tensor) travels by value as a kernel parameter: no device allocation and no copy, so the
// launch is also capturable in a CUDA graph. Up to kMaxTensors tensors go in one launch (about
// 6.6 KB of parameters at Depth 5; sm_90 with CUDA 12.1+ accepts 32 KB); longer lists take a few
// launches. Short lists use a table of kSmallTable tensors (under 0.5 KB): the parameters are
// copied at every launch, and a small model's step is short enough for that to show. A block
// finds its tensor by binary search over the first-block table.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

#include "ember/core/error.h"
#include "ember/kernels/cuda/check.h"

namespace ember::kernels::cuda_impl {

inline constexpr int kMaxTensors = 128;
inline constexpr int kSmallTable = 8;
inline constexpr std::int64_t kChunk = 8192;    // elements per block
inline constexpr int kMultiTensorBlock = 256;   // threads per block (32 elements each)

template <int Depth, int Capacity = kMaxTensors> struct TensorTable {
  void* ptrs[Depth][Capacity];
  std::int64_t numel[Capacity];
  int first_block[Capacity + 1];  // tensor t owns blocks [first_block[t], first_block[t + 1])
  int count;
};

// The chunk of the table this block works on: tensor `tensor`, elements [begin, end).
struct Chunk {
  int tensor;
  std::int64_t begin, end;
};

template <int Depth, int Capacity>
__device__ __forceinline__ Chunk this_block_chunk(const TensorTable<Depth, Capacity>& table) {
  const int block = static_cast<int>(blockIdx.x);
  int lo = 0, hi = table.count - 1;  // the last t with first_block[t] <= block
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (table.first_block[mid] <= block) lo = mid;
    else hi = mid - 1;
  }
  const std::int64_t begin = static_cast<std::int64_t>(block - table.first_block[lo]) * kChunk;
  const std::int64_t end = begin + kChunk < table.numel[lo] ? begin + kChunk : table.numel[lo];
  return {lo, begin, end};
}

// Fills tables from a list of tensors and calls launch(table, blocks) whenever one is full, and
// once at the end for the rest. A tensor is never split across launches. Empty tensors are
// skipped unless keep_empty; kept, they own no block, and a table of empty tensors only gets one
// block (which finds no elements to work on).
template <int Depth, int Capacity = kMaxTensors> class TensorTableBuilder {
 public:
  explicit TensorTableBuilder(bool keep_empty = false) : keep_empty_(keep_empty) { reset(); }

  template <typename Launch> void add(const std::array<void*, Depth>& ptrs, std::int64_t numel, Launch&& launch) {
    if (numel == 0 && !keep_empty_) return;
    const std::int64_t chunks = (numel + kChunk - 1) / kChunk;
    EMBER_CHECK(chunks < std::numeric_limits<int>::max() / 2, "ember (CUDA backend) optimizer: tensor of ", numel,
                " elements is too large");
    if (table_.count == Capacity || blocks_ + chunks > std::numeric_limits<int>::max() / 2) flush(launch);
    const int t = table_.count++;
    for (int d = 0; d < Depth; ++d) table_.ptrs[d][t] = ptrs[d];
    table_.numel[t] = numel;
    table_.first_block[t] = static_cast<int>(blocks_);
    blocks_ += chunks;
    table_.first_block[t + 1] = static_cast<int>(blocks_);
  }

  template <typename Launch> void flush(Launch&& launch) {
    if (table_.count > 0) launch(table_, static_cast<unsigned>(std::max<std::int64_t>(blocks_, 1)));
    reset();
  }

 private:
  void reset() {
    table_ = {};
    blocks_ = 0;
  }

  bool keep_empty_;
  TensorTable<Depth, Capacity> table_;
  std::int64_t blocks_ = 0;
};

}  // namespace ember::kernels::cuda_impl
