// The global random-number generator: a Philox key (the seed) and a counter (the offset). A draw
// of n numbers takes the counter range [offset, offset + n), so results depend only on the seed
// and the order of draws, and are the same on CPU and CUDA.
#pragma once

#include <cstdint>

namespace ember {

struct GeneratorState {
  std::uint64_t seed = 0;
  std::uint64_t offset = 0;
};

void manual_seed(std::uint64_t seed);
GeneratorState get_rng_state();
void set_rng_state(const GeneratorState& state);

// Reserves n counters of the generator and returns the state to draw them from: the seed and the
// first counter. Thread-safe.
GeneratorState reserve_random(std::uint64_t n);

}  // namespace ember
