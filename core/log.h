// Ember's logger (spdlog, named "ember"): silent unless EMBER_LOG_LEVEL is set to trace, debug,
// info, warn or error. Internal: included by the library's sources only, never by public headers.
#pragma once

#include <spdlog/spdlog.h>

namespace ember::logging {

// The logger, created on first use with the level read from EMBER_LOG_LEVEL.
spdlog::logger& logger();

template <typename... Args> void debug(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::logger& l = logger();
  if (l.should_log(spdlog::level::debug)) l.debug(fmt, std::forward<Args>(args)...);
}
template <typename... Args> void trace(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::logger& l = logger();
  if (l.should_log(spdlog::level::trace)) l.trace(fmt, std::forward<Args>(args)...);
}
template <typename... Args> void info(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  logger().info(fmt, std::forward<Args>(args)...);
}
template <typename... Args> void warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  logger().warn(fmt, std::forward<Args>(args)...);
}

template <typename... Args> void error(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  logger().error(fmt, std::forward<Args>(args)...);
}

}  // namespace ember::logging
