// NcclComm for builds without NCCL: ProcessGroup checks nccl_compiled() before constructing one;
// these definitions only satisfy the linker and say why if reached.
#include "ember/distributed/transport/nccl_comm.h"

namespace ember::distributed::detail {

bool nccl_compiled() { return false; }

struct NcclComm::State {};

namespace {
[[noreturn]] void unavailable() {
  EMBER_FAIL("distributed: this build of Ember has no NCCL; build with a CUDA toolkit that has it");
}
}  // namespace

NcclComm::NcclComm(Bootstrap&, int, int, int) { unavailable(); }
NcclComm::~NcclComm() = default;
int NcclComm::device() const { unavailable(); }
std::unique_ptr<Work> NcclComm::all_reduce(Tensor&, ReduceOp) { unavailable(); }
void NcclComm::broadcast(Tensor&, int) { unavailable(); }

}  // namespace ember::distributed::detail
