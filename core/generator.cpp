#include "ember/core/generator.h"

#include <mutex>

namespace ember {

namespace {
// The default seed matches PyTorch's default_generator seed value's role: fixed, so programs that
// never seed are still reproducible run to run.
constexpr std::uint64_t kDefaultSeed = 67280421310721ull;

struct GlobalGenerator {
  std::mutex mutex;
  GeneratorState state{kDefaultSeed, 0};
};
GlobalGenerator& generator() {
  static GlobalGenerator g;
  return g;
}
}  // namespace

void manual_seed(std::uint64_t seed) { set_rng_state({seed, 0}); }

GeneratorState get_rng_state() {
  std::lock_guard lock(generator().mutex);
  return generator().state;
}

void set_rng_state(const GeneratorState& state) {
  std::lock_guard lock(generator().mutex);
  generator().state = state;
}

GeneratorState reserve_random(std::uint64_t n) {
  GlobalGenerator& g = generator();
  std::lock_guard lock(g.mutex);
  GeneratorState taken = g.state;
  g.state.offset += n;
  return taken;
}

}  // namespace ember
