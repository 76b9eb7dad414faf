#include "ember/distributed/sampler.h"

#include <numeric>

#include "ember/core/error.h"
#include "ember/distributed/process_group.h"
#include "ember/kernels/philox.h"

namespace ember::distributed {

DistributedSampler::DistributedSampler(std::int64_t dataset_size, int num_replicas, int rank, Options options)
    : dataset_size_(dataset_size), num_replicas_(num_replicas), rank_(rank), options_(options) {
  EMBER_CHECK(dataset_size >= 0, "DistributedSampler: dataset size ", dataset_size, " is negative");
  EMBER_CHECK(num_replicas >= 1 && rank >= 0 && rank < num_replicas, "DistributedSampler: rank ", rank,
              " is not in [0, ", num_replicas, ")");
  if (options.drop_last && dataset_size % num_replicas != 0) {
    num_samples_ = dataset_size / num_replicas;  // drop the tail so that no index repeats
  } else {
    num_samples_ = (dataset_size + num_replicas - 1) / num_replicas;
  }
  EMBER_CHECK(num_samples_ > 0 || dataset_size == 0, "DistributedSampler: ", dataset_size,
              " samples over ", num_replicas, " ranks with drop_last leaves none per rank");
}

DistributedSampler::DistributedSampler(std::int64_t dataset_size, const ProcessGroup& group, Options options)
    : DistributedSampler(dataset_size, group.world_size(), group.rank(), options) {}

std::vector<std::int64_t> DistributedSampler::indices() const {
  std::vector<std::int64_t> order(static_cast<std::size_t>(dataset_size_));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  if (options_.shuffle) {
    // Fisher-Yates with Philox keyed by (seed, epoch): the same permutation on every rank and
    // every platform, whatever the standard library.
    const std::uint64_t key = options_.seed * 0x9E3779B97F4A7C15ull + epoch_;
    for (std::int64_t i = dataset_size_ - 1; i > 0; --i) {
      const kernels::philox::U32x4 r = kernels::philox::philox4x32_10(static_cast<std::uint64_t>(i), key);
      const std::uint64_t bits = (static_cast<std::uint64_t>(r.v[0]) << 32) | r.v[1];
      // The modulo's bias is below (i + 1) / 2^64: nil for any real data set.
      const auto j = static_cast<std::int64_t>(bits % static_cast<std::uint64_t>(i + 1));
      std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
    }
  }
  const std::int64_t total = total_size();
  std::vector<std::int64_t> mine;
  mine.reserve(static_cast<std::size_t>(num_samples_));
  for (std::int64_t k = rank_; k < total; k += num_replicas_) {
    mine.push_back(order[static_cast<std::size_t>(k % dataset_size_)]);  // k >= size: padding
  }
  return mine;
}

}  // namespace ember::distributed
