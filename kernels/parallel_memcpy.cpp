#include "ember/kernels/parallel_memcpy.h"

#include <algorithm>
#include <cstring>

namespace ember::kernels {

ParallelMemcpy::ParallelMemcpy(unsigned threads) : threads_(std::max(1u, threads)) {}

ParallelMemcpy::~ParallelMemcpy() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

// Share `index` of the current job: equal slices, 64-byte aligned boundaries.
void ParallelMemcpy::copy_share(unsigned index) const {
  const std::size_t slice = (bytes_ / threads_ + 63) / 64 * 64;
  const std::size_t begin = std::min(bytes_, slice * index);
  const std::size_t end = index + 1 == threads_ ? bytes_ : std::min(bytes_, begin + slice);
  if (end > begin) std::memcpy(dst_ + begin, src_ + begin, end - begin);
}

void ParallelMemcpy::work(unsigned index) {
  unsigned long long seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    copy_share(index);
    {
      std::lock_guard lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

void ParallelMemcpy::copy(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;  // memcpy's pointers must be valid even for 0 bytes; ours may be null
  if (threads_ == 1 || bytes < kMinParallelBytes) {
    std::memcpy(dst, src, bytes);
    return;
  }
  std::lock_guard call(call_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (workers_.empty()) {
      for (unsigned i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { work(i); });
    }
    dst_ = static_cast<std::byte*>(dst);
    src_ = static_cast<const std::byte*>(src);
    bytes_ = bytes;
    pending_ = threads_ - 1;
    ++generation_;
  }
  wake_.notify_all();
  copy_share(0);  // the caller's own share
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
}

}  // namespace ember::kernels
