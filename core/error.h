// ember::Error and the checks that throw it. Every message names the op and the shapes, dtypes and
// devices involved, so that a user can see what to change without a debugger.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace ember {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
template <typename... Parts> [[noreturn]] void throw_error(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  throw Error(out.str());
}
}  // namespace detail

}  // namespace ember

// EMBER_CHECK(cond, "op: ", a.shape(), " vs ", b.shape()): throws ember::Error with the parts streamed
// together when cond is false. The message is only built on failure, so checks cost a branch.
#define EMBER_CHECK(cond, ...)                                  \
  do {                                                          \
    if (!(cond)) [[unlikely]] ::ember::detail::throw_error(__VA_ARGS__); \
  } while (false)

#define EMBER_FAIL(...) ::ember::detail::throw_error(__VA_ARGS__)
