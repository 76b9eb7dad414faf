// How many threads the CPU kernels use for one op, as torch.set_num_threads / get_num_threads.
// The default is the machine's hardware threads, or EMBER_NUM_THREADS when that is set. Small work
// runs on the calling thread whatever the setting: a kernel splits only work large enough to pay
// for waking threads (kernels/cpu/parallel.h).
#pragma once

namespace ember {

void set_num_threads(int threads);  // at least 1
int get_num_threads();

}  // namespace ember
