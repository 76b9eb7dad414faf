// main() for ember_cuda_tests. On a machine without a usable GPU (or a build without CUDA) the
// tests cannot run: the program says so and exits with 77, which CTest's SKIP_RETURN_CODE turns into
// "Skipped" (never "Passed"). Listing requests (--list-tests, --list-test-names-only, ...) still work,
// so that catch_discover_tests can register the tests on any machine.
#if !defined(EMBER_CATCH2_MAJOR) || EMBER_CATCH2_MAJOR < 3
#define CATCH_CONFIG_RUNNER
#endif
#include <cstdio>
#include <string_view>

#include "catch.h"
#include "ember/core/cuda.h"

namespace {
constexpr int kSkipReturnCode = 77;  // keep in sync with SKIP_RETURN_CODE in tests/CMakeLists.txt

bool only_lists(int argc, char* argv[]) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, 6) == "--list" || arg == "-l" || arg == "-h" || arg == "-?" ||
        arg == "--help" || arg == "--libidentify") {
      return true;
    }
  }
  return false;
}
}  // namespace

int main(int argc, char* argv[]) {
  if (!only_lists(argc, argv) && !ember::cuda::is_available()) {
    std::puts("no CUDA device: skipping GPU tests");
    return kSkipReturnCode;
  }
  return Catch::Session().run(argc, argv);
}
