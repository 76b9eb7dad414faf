#include "ember/core/threads.h"

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include "ember/core/error.h"

namespace ember {

namespace {

int default_threads() {
  if (const char* env = std::getenv("EMBER_NUM_THREADS"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    EMBER_CHECK(end != nullptr && *end == '\0' && n >= 1 && n <= 4096,
                "EMBER_NUM_THREADS must be a whole number of threads from 1 to 4096, got '", env, "'");
    return static_cast<int>(n);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

std::atomic<int>& threads() {
  static std::atomic<int> n{default_threads()};
  return n;
}

}  // namespace

void set_num_threads(int n) {
  EMBER_CHECK(n >= 1, "set_num_threads: the number of threads must be at least 1, got ", n);
  threads().store(n, std::memory_order_relaxed);
}

int get_num_threads() { return threads().load(std::memory_order_relaxed); }

}  // namespace ember
