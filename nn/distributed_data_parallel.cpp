#include "ember/nn/distributed_data_parallel.h"

#include <vector>

#include "ember/core/grad_mode.h"
#include "ember/autograd/hooks.h"
#include "ember/core/log.h"
#include "ember/core/ops.h"

namespace ember::nn {

// The bucketed gradient all-reduce behind DistributedDataParallel (see the header).
class DistributedDataParallelImpl::Reducer {
 public:
  Reducer(std::vector<Tensor> params, std::shared_ptr<distributed::ProcessGroup> group,
          const DistributedDataParallelOptions& options)
      : params_(std::move(params)), group_(std::move(group)), bucket_of_(params_.size()) {
    make_buckets(options);
  }

  std::size_t bucket_count() const { return buckets_.size(); }

  bool sync_enabled() const { return sync_; }
  void set_sync(bool on) { sync_ = on; }

  // A parameter's gradient for this backward pass is final.
  void on_gradient_ready(std::size_t param) {
    if (!sync_) return;  // no_sync(): the gradients stay local, summed by the next passes
    if (pass_ != autograd::current_pass_id()) start_pass();
    --buckets_[bucket_of_[param]].pending;
    // Launch in bucket order only, so that every rank issues the same sequence of collectives.
    while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) launch(buckets_[next_launch_++]);
    for (std::size_t b = 0; b < next_launch_; ++b) {
      if (buckets_[b].work) (void)buckets_[b].work->is_completed();  // lets MPI progress
    }
  }

 private:
  struct Bucket {
    std::vector<std::size_t> params;
    std::vector<std::int64_t> offsets;  // of each parameter in `flat`, in elements
    Tensor flat;
    int pending = 0;  // gradients of this pass not final yet; 0: ready to launch
    std::unique_ptr<distributed::Work> work;
  };

  void make_buckets(const DistributedDataParallelOptions& options) {
    // Reverse registration order; a new bucket when the dtype changes or the cap is reached.
    Bucket current;
    std::int64_t numel = 0;
    std::size_t cap = options.first_bucket_cap_bytes;
    auto close = [&] {
      if (current.params.empty()) return;
      const Tensor& first = params_[current.params.front()];
      current.flat = ops::empty(Shape{numel}, first.options());
      buckets_.push_back(std::move(current));
      current = Bucket();
      numel = 0;
      cap = options.bucket_cap_bytes;
    };
    for (std::size_t i = params_.size(); i-- > 0;) {
      const Tensor& p = params_[i];
      if (!current.params.empty() && p.dtype() != params_[current.params.front()].dtype()) close();
      current.params.push_back(i);
      current.offsets.push_back(numel);
      numel += p.numel();
      bucket_of_[i] = buckets_.size();
      if (static_cast<std::size_t>(numel) * element_size(p.dtype()) >= cap) close();
    }
    close();
  }

  void start_pass() {
    if (pass_ != 0) {
      // The previous pass ended in an exception before its end callback: settle what it started.
      logging::warn("DistributedDataParallel: the previous backward pass did not finish; its "
                    "gradients were not averaged");
      for (Bucket& b : buckets_) b.work.reset();  // waits
    }
    pass_ = autograd::current_pass_id();
    next_launch_ = 0;
    for (Bucket& b : buckets_) b.pending = static_cast<int>(b.params.size());
    autograd::queue_callback([this] { finish_pass(); });
  }

  // The slice of the bucket's buffer that holds parameter k of the bucket, shaped like it.
  Tensor slot(const Bucket& b, std::size_t k) const {
    const Tensor& p = params_[b.params[k]];
    return make_view(b.flat, p.shape(), contiguous_strides(p.shape()), b.offsets[k]);
  }

  void launch(Bucket& b) {
    for (std::size_t k = 0; k < b.params.size(); ++k) {
      Tensor p = params_[b.params[k]];
      EMBER_CHECK(p.device() == b.flat.device() && p.dtype() == b.flat.dtype(),
                  "DistributedDataParallel: a parameter (shape ", p.shape(), ", ", p.dtype(), " on ",
                  p.device(), ") changed after the model was wrapped (its bucket is ", b.flat.dtype(),
                  " on ", b.flat.device(), "); move or convert the module before wrapping it");
      const Tensor grad = p.grad();
      const Tensor view = slot(b, k);
      if (is_view_of_bucket(grad, view)) continue;  // accumulated in place into the bucket
      if (grad.defined()) {
        ops::copy_into(view, grad);
      } else {
        ops::fill(view, 0.0);  // no gradient on this rank: it contributes zero
      }
      // From now on the gradient lives in the bucket (PyTorch's gradient_as_bucket_view): the
      // averaged values land in .grad with no copy back, and a gradient accumulated over several
      // backward passes is summed in place there.
      p.set_grad(view);
    }
    b.work = group_->all_reduce_async(b.flat, distributed::ReduceOp::Avg);
  }

  static bool is_view_of_bucket(const Tensor& grad, const Tensor& view) {
    return grad.defined() && grad.impl().storage == view.impl().storage &&
           grad.storage_offset() == view.storage_offset() && grad.strides() == view.strides();
  }

  void finish_pass() {
    pass_ = 0;
    // Buckets with a parameter that got no gradient in this pass go now, still in order.
    while (next_launch_ < buckets_.size()) launch(buckets_[next_launch_++]);
    for (Bucket& b : buckets_) {
      b.work->wait();  // later work on the device (the optimizer step) sees the averages
      b.work.reset();
    }
  }

  std::vector<Tensor> params_;
  std::shared_ptr<distributed::ProcessGroup> group_;
  std::vector<std::size_t> bucket_of_;
  std::vector<Bucket> buckets_;
  std::uint64_t pass_ = 0;  // the backward pass being reduced, 0 between passes
  bool sync_ = true;        // false inside no_sync()
  std::size_t next_launch_ = 0;
};

DistributedDataParallelImpl::DistributedDataParallelImpl(std::shared_ptr<Module> module,
                                                         std::shared_ptr<distributed::ProcessGroup> group,
                                                         DistributedDataParallelOptions options)
    : UnaryModule("DistributedDataParallel"), module_(std::move(module)), group_(std::move(group)) {
  EMBER_CHECK(module_ != nullptr && group_ != nullptr, "DistributedDataParallel: needs a module and a process group");
  register_module("module", module_);
  std::vector<Tensor> params;
  for (const Tensor& p : module_->parameters()) {
    if (p.requires_grad()) params.push_back(p);
  }
  EMBER_CHECK(!params.empty(), "DistributedDataParallel: the module has no parameter that requires grad");
  for (const Tensor& p : params) {
    EMBER_CHECK(p.device() == params.front().device(), "DistributedDataParallel: parameters on ",
                params.front().device(), " and ", p.device(), "; one model replica lives on one device");
  }
  if (options.broadcast_initial_state) {
    NoGradGuard no_grad;
    for (Tensor p : module_->parameters()) group_->broadcast(p, 0);
    for (auto& [name, buffer] : module_->named_buffers()) group_->broadcast(buffer, 0);
  }
  reducer_ = std::make_shared<Reducer>(params, group_, options);
  const std::weak_ptr<Reducer> reducer = reducer_;
  for (std::size_t i = 0; i < params.size(); ++i) {
    autograd::register_post_accumulate_grad_hook(params[i], [reducer, i](const Tensor&) {
      if (const auto r = reducer.lock()) r->on_gradient_ready(i);
    });
  }
  logging::info("DistributedDataParallel: {} parameters in {} buckets, rank {} of {}", params.size(),
                reducer_->bucket_count(), group_->rank(), group_->world_size());
}

DistributedDataParallelImpl::~DistributedDataParallelImpl() {
  for (const Tensor& p : module_->parameters()) {
    if (p.requires_grad()) autograd::clear_hooks(p);
  }
}

Tensor DistributedDataParallelImpl::forward(const Tensor& input) {
  auto* unary = dynamic_cast<UnaryModule*>(module_.get());
  EMBER_CHECK(unary != nullptr, "DistributedDataParallel: the wrapped module (", module_->name(),
              ") is not a UnaryModule; call model->module() and its own forward");
  return unary->forward(input);
}

std::size_t DistributedDataParallelImpl::bucket_count() const { return reducer_->bucket_count(); }

DistributedDataParallelImpl::NoSyncGuard::NoSyncGuard(std::shared_ptr<Reducer> reducer)
    : reducer_(std::move(reducer)), previous_(reducer_->sync_enabled()) {
  reducer_->set_sync(false);
}

DistributedDataParallelImpl::NoSyncGuard::~NoSyncGuard() { reducer_->set_sync(previous_); }

DistributedDataParallelImpl::NoSyncGuard DistributedDataParallelImpl::no_sync() { return NoSyncGuard(reducer_); }

}  // namespace ember::nn
