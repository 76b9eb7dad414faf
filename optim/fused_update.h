// Runs a fused optimizer kernel over parameters grouped by what one launch can share: device,
// dtype, and a key such as the step count. Internal to optim/.
#pragma once

#include <cstdint>
#include <tuple>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::optim::detail {

struct GroupKey {
  Device device;
  DType dtype;
  std::int64_t key;
  friend bool operator==(const GroupKey&, const GroupKey&) = default;
};

// Calls fn(key, indices) once per distinct GroupKey, in first-seen order.
template <typename KeyFn, typename Fn>
void for_each_group(const std::vector<std::size_t>& indices, KeyFn key_of, Fn fn) {
  std::vector<std::pair<GroupKey, std::vector<std::size_t>>> groups;
  for (std::size_t i : indices) {
    const GroupKey k = key_of(i);
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == k; });
    if (it == groups.end()) groups.push_back({k, {i}});
    else it->second.push_back(i);
  }
  for (auto& [key, members] : groups) fn(key, members);
}

}  // namespace ember::optim::detail
