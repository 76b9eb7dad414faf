// The one Catch2 header Ember's tests include. It works with Catch2 v3 (<catch2/catch_all.hpp>) and
// Catch2 v2 (<catch2/catch.hpp>), and lets tests use the v3 spellings with either:
//   Approx / Catch::Approx, Catch::Matchers::{ContainsSubstring, WithinAbs, WithinRel, WithinULP,
//   Message, StartsWith, EndsWith, Equals}.
// v3-only features (SKIP(), RangeEquals, MessageMatches, ...) are not available with v2; a test
// that cannot run here (missing data) calls EMBER_SKIP(message) instead of SKIP.
#pragma once

// tests/CMakeLists.txt says which version it found; __has_include is the fallback for tools.
#if !defined(EMBER_CATCH2_MAJOR)
#if __has_include(<catch2/catch_all.hpp>)
#define EMBER_CATCH2_MAJOR 3
#elif __has_include(<catch2/catch.hpp>)
#define EMBER_CATCH2_MAJOR 2
#else
#error "Catch2 not found (install catch2: scripts/install_deps.sh)"
#endif
#endif

#if EMBER_CATCH2_MAJOR >= 3

#include <catch2/catch_all.hpp>

using Catch::Approx;  // v2 has Approx in the global namespace

#else  // Catch2 v2

#include <catch2/catch.hpp>

#include <string>

namespace Catch {
using Detail::Approx;  // v3 spelling: Catch::Approx
namespace Matchers {
// v3 renamed the string matcher Contains to ContainsSubstring (Contains is now for ranges).
inline StdString::ContainsMatcher ContainsSubstring(
    std::string const& str, CaseSensitive::Choice case_sensitivity = CaseSensitive::Yes) {
  return Contains(str, case_sensitivity);
}
}  // namespace Matchers
}  // namespace Catch

#endif

// EMBER_SKIP("why"): ends the test case as skipped. Catch2 3.3+ has SKIP, which prints "SKIPPED:";
// before it, the test prints the same word as a warning and returns. Either way CTest reports the
// test as skipped, never passed, through SKIP_REGULAR_EXPRESSION (tests/CMakeLists.txt).
#if defined(SKIP)
#define EMBER_SKIP(message) SKIP(message)
#else
#define EMBER_SKIP(message)          \
  do {                               \
    WARN("SKIPPED: " << message);    \
    return;                          \
  } while (false)
#endif
