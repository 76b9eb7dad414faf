// The intra-op thread pool behind parallel_for. Workers start on first use and are kept; each job
// is a count of chunks that the workers and the caller take one at a time from an atomic counter.
#include "ember/kernels/cpu/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "ember/core/threads.h"

namespace ember::kernels::cpu {

namespace {

thread_local bool t_in_parallel_region = false;

class ThreadPool {
 public:
  ~ThreadPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  // Runs `chunks` chunks of `fn` over [0, n) with `threads` threads, the caller included. Returns
  // false without running anything when another call holds the pool.
  bool try_run(std::int64_t n, std::int64_t chunks, int threads,
               const std::function<void(std::int64_t, std::int64_t)>& fn) {
    std::unique_lock call(call_mutex_, std::try_to_lock);
    if (!call.owns_lock()) return false;
    {
      std::lock_guard lock(mutex_);
      while (static_cast<int>(workers_.size()) < threads - 1) {
        workers_.emplace_back([this] { work(); });
      }
      fn_ = &fn;
      n_ = n;
      chunks_ = chunks;
      next_.store(0, std::memory_order_relaxed);
      remaining_ = chunks;
      active_workers_ = threads - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    run_chunks();
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return remaining_ == 0; });
    fn_ = nullptr;
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    return true;
  }

 private:
  void work() {
    t_in_parallel_region = true;
    unsigned long long seen = 0;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        // Only the first active_workers_ workers to wake take part in a job that asked for fewer
        // threads than the pool has.
        wake_.wait(lock, [&] { return stop_ || (generation_ != seen && active_workers_ > 0); });
        if (stop_) return;
        seen = generation_;
        --active_workers_;
      }
      run_chunks();
    }
  }

  // Takes chunks until none is left; the last to finish wakes the caller.
  void run_chunks() {
    const bool outer = t_in_parallel_region;
    t_in_parallel_region = true;
    for (;;) {
      const std::int64_t c = next_.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks_) break;
      const std::int64_t begin = n_ * c / chunks_, end = n_ * (c + 1) / chunks_;
      std::exception_ptr error;
      try {
        (*fn_)(begin, end);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(mutex_);
      if (error && !error_) error_ = error;
      if (--remaining_ == 0) done_.notify_one();
    }
    t_in_parallel_region = outer;
  }

  std::mutex call_mutex_;  // one job at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(std::int64_t, std::int64_t)>* fn_ = nullptr;
  std::int64_t n_ = 0, chunks_ = 0, remaining_ = 0;
  std::atomic<std::int64_t> next_{0};
  int active_workers_ = 0;
  std::exception_ptr error_;
  unsigned long long generation_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

ThreadPool& pool() {
  static ThreadPool p;
  return p;
}

}  // namespace

void parallel_for(std::int64_t n, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn) {
  if (n <= 0) return;
  const int threads = get_num_threads();
  grain = std::max<std::int64_t>(grain, 1);
  if (n <= grain || threads == 1 || t_in_parallel_region) {
    fn(0, n);
    return;
  }
  const std::int64_t chunks = std::min<std::int64_t>(threads, (n + grain - 1) / grain);
  if (chunks <= 1 || !pool().try_run(n, chunks, static_cast<int>(chunks), fn)) fn(0, n);
}

}  // namespace ember::kernels::cpu
