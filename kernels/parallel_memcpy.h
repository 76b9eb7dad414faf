// memcpy with several threads, for large host-side copies: one thread's memcpy reaches about 7 GB/s
// on the GPU machines' hosts, well under their memory bandwidth, and bounds the host -> device
// copies that stage through pinned memory (kernels/cuda/pinned_staging.h).
//
// The workers are started on first use and kept (a copy of a few MiB cannot afford to start
// threads); the calling thread copies a share too and returns when every share is done. Copies
// below kMinParallelBytes, or with one thread, are a plain memcpy. Thread-safe: calls are
// serialized.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace ember::kernels {

class ParallelMemcpy {
 public:
  static constexpr std::size_t kMinParallelBytes = std::size_t{1} << 20;

  // `threads` copying in total, the caller included (at least 1).
  explicit ParallelMemcpy(unsigned threads);
  ~ParallelMemcpy();  // stops and joins the workers
  ParallelMemcpy(const ParallelMemcpy&) = delete;
  ParallelMemcpy& operator=(const ParallelMemcpy&) = delete;

  void copy(void* dst, const void* src, std::size_t bytes);
  unsigned threads() const { return threads_; }

 private:
  void work(unsigned index);
  void copy_share(unsigned index) const;

  unsigned threads_;
  std::mutex call_mutex_;  // one copy at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  // The current job, read by the workers under mutex_ when `generation_` changes.
  std::byte* dst_ = nullptr;
  const std::byte* src_ = nullptr;
  std::size_t bytes_ = 0;
  unsigned long long generation_ = 0;
  unsigned pending_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace ember::kernels
