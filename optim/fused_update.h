// Runs a fused optimizer kernel over parameters grouped by what one launch can share: device,
// dtype, and a key such as the step count. Internal to optim/ (an optimizer keeps a StepScratch).
//
// The grouping and the launch lists live in a StepScratch that the optimizer keeps across steps
// and refills: once its vectors have grown to the model's size, a step allocates nothing on the
// host (on SimpleNet, Adam's vectors were 16 of a CPU step's 38 heap allocations).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "ember/autograd/tensor.h"
#include "ember/kernels/tensor_ref.h"

namespace ember::optim::detail {

struct GroupKey {
  Device device;
  DType dtype;
  std::int64_t key;
  friend bool operator==(const GroupKey&, const GroupKey&) = default;
};

// NumLists operand lists (parameters, gradients, state...) for one launch at a time.
template <std::size_t NumLists>
class StepScratch {
 public:
  // The parameters taking part in this step, emptied for the caller to fill.
  std::vector<std::size_t>& active() {
    active_.clear();
    return active_;
  }

  // Calls fn(key, indices, lists, keep) once per distinct GroupKey among active(), in first-seen
  // order. lists start empty for each group; keep holds tensors that must stay alive until the
  // launch is queued (contiguous copies of gradients) and is emptied after fn returns.
  template <typename KeyFn, typename Fn>
  void for_each_group(KeyFn key_of, Fn fn) {
    std::size_t used = 0;
    for (std::size_t i : active_) {
      const GroupKey k = key_of(i);
      const auto end = groups_.begin() + static_cast<std::ptrdiff_t>(used);
      auto it = std::find_if(groups_.begin(), end, [&](const auto& g) { return g.first == k; });
      if (it == end) {
        if (used == groups_.size()) groups_.emplace_back(k, std::vector<std::size_t>{});
        it = groups_.begin() + static_cast<std::ptrdiff_t>(used++);
        it->first = k;
        it->second.clear();
      }
      it->second.push_back(i);
    }
    for (std::size_t j = 0; j < used; ++j) {
      for (auto& list : lists_) list.clear();
      fn(groups_[j].first, std::as_const(groups_[j].second), lists_, keep_);
      keep_.clear();
    }
  }

 private:
  std::vector<std::size_t> active_;
  std::vector<std::pair<GroupKey, std::vector<std::size_t>>> groups_;  // the first `used` are live
  std::array<std::vector<kernels::TensorRef>, NumLists> lists_;
  std::vector<Tensor> keep_;
};

}  // namespace ember::optim::detail
