// DistributedSampler: which samples of a data set each rank trains on in an epoch, as PyTorch's
// torch.utils.data.DistributedSampler: every rank gets the same number of indices, the ranks'
// indices together cover the data set (padded by repeating indices from the start when the size
// does not divide, or cut with drop_last), and with shuffle each epoch has its own permutation,
// the same on every rank because it depends only on (seed, epoch).
#pragma once

#include <cstdint>
#include <vector>

namespace ember::distributed {

class ProcessGroup;

class DistributedSampler {
 public:
  struct Options {
    bool shuffle = true;
    std::uint64_t seed = 0;
    bool drop_last = false;
  };

  DistributedSampler(std::int64_t dataset_size, int num_replicas, int rank, Options options);
  DistributedSampler(std::int64_t dataset_size, int num_replicas, int rank)
      : DistributedSampler(dataset_size, num_replicas, rank, Options{}) {}
  // num_replicas and rank from the group.
  DistributedSampler(std::int64_t dataset_size, const ProcessGroup& group, Options options);
  DistributedSampler(std::int64_t dataset_size, const ProcessGroup& group)
      : DistributedSampler(dataset_size, group, Options{}) {}

  // Call at the start of every epoch so each epoch is shuffled differently.
  void set_epoch(std::uint64_t epoch) { epoch_ = epoch; }
  std::uint64_t epoch() const { return epoch_; }

  std::int64_t num_samples() const { return num_samples_; }  // indices per rank
  std::int64_t total_size() const { return num_samples_ * num_replicas_; }
  // This rank's indices for the current epoch.
  std::vector<std::int64_t> indices() const;

 private:
  std::int64_t dataset_size_;
  int num_replicas_;
  int rank_;
  Options options_;
  std::uint64_t epoch_ = 0;
  std::int64_t num_samples_;
};

}  // namespace ember::distributed
