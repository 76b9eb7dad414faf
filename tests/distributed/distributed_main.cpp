// main() for ember_distributed_tests: every rank joins the process group the launcher set up
// (mpirun, environment variables, or none for a group of one), then runs the same Catch2 tests,
// whose collectives meet across ranks. The tests use CHECK, not REQUIRE, around collectives, so
// that a failure on one rank does not leave the others waiting in a collective it skipped.
//
// Asked for the [cuda] tests on a machine without a GPU of its own for each local rank (or a build
// without NCCL), it prints why and exits with 77, which CTest reports as skipped.
#if !defined(EMBER_CATCH2_MAJOR) || EMBER_CATCH2_MAJOR < 3
#define CATCH_CONFIG_RUNNER
#endif
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "catch.h"
#include "distributed_support.h"

namespace ember::test {
std::shared_ptr<distributed::ProcessGroup>& group_slot() {
  static std::shared_ptr<distributed::ProcessGroup> group;
  return group;
}
distributed::ProcessGroup& group() { return *group_slot(); }
std::shared_ptr<distributed::ProcessGroup> group_ptr() { return group_slot(); }
}  // namespace ember::test

namespace {

constexpr int kSkipReturnCode = 77;  // SKIP_RETURN_CODE in tests/CMakeLists.txt

// Why this rank has no NCCL, for the skip message.
std::string why_no_nccl(const ember::distributed::ProcessGroup& group) {
  if (!ember::cuda::is_available()) return "no CUDA device or a build without CUDA";
  if (!group.has_own_gpu()) {
    return std::to_string(group.local_world_size()) + " ranks on this host but " +
           std::to_string(ember::cuda::device_count()) + " GPU(s), and NCCL needs one GPU per rank";
  }
  return "this build of Ember has no NCCL";
}

int run(int argc, char* argv[]) {
  bool wants_cuda = false;
  for (int i = 1; i < argc; ++i) wants_cuda |= std::string_view(argv[i]).find("[cuda]") != std::string_view::npos;
  auto& group = ember::test::group_slot();
  group = ember::distributed::ProcessGroup::init();
  const auto backends = group->backends();
  if (wants_cuda && !backends.nccl) {
    std::printf("rank %d: skipping the [cuda] distributed tests: %s\n", group->rank(),
                why_no_nccl(*group).c_str());
    group.reset();
    return kSkipReturnCode;
  }
  std::printf("rank %d of %d (%s)\n", group->rank(), group->world_size(), group->launcher().c_str());
  Catch::Session session;
  int rc = session.applyCommandLine(argc, argv);
  if (rc == 0) rc = session.run();
  // A rank whose tests failed makes every rank fail, so the launcher's status is the group's
  // (where there is a transport for it: CPU tensors need MPI, CUDA ones NCCL).
  bool any_failed = false;
  if (backends.mpi || backends.nccl || group->world_size() == 1) {
    const ember::Device where = backends.mpi || !backends.nccl ? ember::Device::cpu() : group->device();
    ember::Tensor failed = ember::full({1}, rc != 0 ? 1.0 : 0.0, where);
    group->all_reduce(failed, ember::distributed::ReduceOp::Max);
    any_failed = failed.item<double>() != 0.0;
  } else {
    std::printf("rank %d: each rank reports its own result: no NCCL (%s) and no MPI (not started "
                "by mpirun) to share them\n", group->rank(), why_no_nccl(*group).c_str());
  }
  group->barrier();
  group.reset();
  return rc != 0 ? rc : (any_failed ? 1 : 0);
}

}  // namespace

int main(int argc, char* argv[]) {
  // An error escaping a rank (a group that cannot start, a collective that fails) ends that rank
  // with a message and status 1, never std::terminate; the launcher then stops the others.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ember_distributed_tests: %s\n", e.what());
    ember::test::group_slot().reset();
    return 1;
  }
}
