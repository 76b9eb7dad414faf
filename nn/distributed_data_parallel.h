// DistributedDataParallel: data-parallel training over a ProcessGroup, as torch.nn.parallel.
// DistributedDataParallel. Each rank runs the wrapped module on its own part of the batch; the
// gradients are averaged over the ranks during backward, so every rank's optimizer step applies
// the same update and the replicas stay identical.
//
//   using namespace ember;
//   auto group = distributed::ProcessGroup::init();
//   nn::Linear fc(10, 2);
//   fc->to(group->device());
//   nn::DistributedDataParallel model(fc, group);  // rank 0's weights are copied to every rank
//   optim::Adam opt(model->parameters(), {.lr = 0.01});
//   nn::MSELoss loss;
//   Tensor x_local = randn({16, 10}).to(group->device());  // this rank's share of the batch
//   Tensor y_local = randn({16, 2}).to(group->device());
//   opt.zero_grad();
//   loss(model(x_local), y_local).backward();  // gradients come back averaged over the ranks
//   opt.step();
//
// How: the parameters are grouped into buckets of about `bucket_cap_bytes`, in reverse order of
// registration (the order backward produces their gradients). When the last gradient of a bucket
// is written, the bucket's gradients are copied into one flat buffer and all-reduced (NCCL or MPI)
// while backward goes on with the other layers. Each .grad then becomes a view of its bucket, so
// the averages need no copy back (PyTorch's gradient_as_bucket_view); at the end of backward the
// device's stream waits for the all-reduces. Buckets are reduced in the same order on every rank.
// Gradients accumulated over several backward passes before a step are averaged correctly.
//
// A parameter that gets no gradient on a rank in some backward pass counts as a zero gradient
// there. Move the module to its device before wrapping it; parameters must not change afterwards.
#pragma once

#include <cstddef>
#include <memory>

#include "ember/distributed/process_group.h"
#include "ember/nn/module.h"

namespace ember::nn {

struct DistributedDataParallelOptions {
  std::size_t bucket_cap_bytes = std::size_t{25} << 20;    // as PyTorch's bucket_cap_mb = 25
  std::size_t first_bucket_cap_bytes = std::size_t{1} << 20;  // small: the first all-reduce starts early
  bool broadcast_initial_state = true;  // copy rank 0's parameters and buffers to every rank
};

class DistributedDataParallelImpl : public UnaryModule {
 public:
  DistributedDataParallelImpl(std::shared_ptr<Module> module,
                              std::shared_ptr<distributed::ProcessGroup> group,
                              DistributedDataParallelOptions options = {});
  // From a module holder: DistributedDataParallel(Linear(10, 2), group).
  template <typename Holder>
    requires requires(const Holder& h) { std::shared_ptr<Module>(h.ptr()); }
  DistributedDataParallelImpl(const Holder& module, std::shared_ptr<distributed::ProcessGroup> group,
                              DistributedDataParallelOptions options = {})
      : DistributedDataParallelImpl(std::shared_ptr<Module>(module.ptr()), std::move(group), options) {}
  ~DistributedDataParallelImpl() override;

  // The wrapped module's forward (it must be a UnaryModule; call module() for others).
  Tensor forward(const Tensor& input) override;
  Module& module() const { return *module_; }
  distributed::ProcessGroup& group() const { return *group_; }
  // How the parameters were bucketed: number of buckets (for tests and logs).
  std::size_t bucket_count() const;

  class Reducer;

  // Gradient accumulation without communication, as PyTorch's no_sync(): while the returned guard
  // lives, backward passes only accumulate local gradients; the first backward after it averages
  // the accumulated sums over the ranks.
  //   { auto guard = model->no_sync(); loss(model(x1), y1).backward(); }
  //   loss(model(x2), y2).backward();  // all-reduces the sum of both passes' gradients
  class NoSyncGuard {
   public:
    explicit NoSyncGuard(std::shared_ptr<Reducer> reducer);
    ~NoSyncGuard();
    NoSyncGuard(const NoSyncGuard&) = delete;
    NoSyncGuard& operator=(const NoSyncGuard&) = delete;

   private:
    std::shared_ptr<Reducer> reducer_;
    bool previous_;
  };
  [[nodiscard]] NoSyncGuard no_sync();

 private:
  std::shared_ptr<Module> module_;
  std::shared_ptr<distributed::ProcessGroup> group_;
  std::shared_ptr<Reducer> reducer_;
};

using DistributedDataParallel = ModuleHolder<DistributedDataParallelImpl>;

}  // namespace ember::nn
