// MpiComm for builds without MPI: ProcessGroup::init never constructs one (it checks
// mpi_compiled() first); these definitions only satisfy the linker and say why if reached.
#include "ember/distributed/transport/mpi_comm.h"

namespace ember::distributed::detail {

bool mpi_compiled() { return false; }

namespace {
[[noreturn]] void unavailable() {
  EMBER_FAIL("distributed: this build of Ember has no MPI; install Open MPI (libopenmpi-dev) and rebuild");
}
}  // namespace

MpiComm::MpiComm() { unavailable(); }
MpiComm::~MpiComm() = default;
std::unique_ptr<Work> MpiComm::all_reduce(Tensor&, ReduceOp) { unavailable(); }
void MpiComm::broadcast(Tensor&, int) { unavailable(); }
void MpiComm::broadcast_bytes(void*, std::size_t, int) { unavailable(); }
void MpiComm::barrier() { unavailable(); }

}  // namespace ember::distributed::detail
