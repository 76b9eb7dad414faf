#include "ember/core/log.h"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace ember::logging {

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = std::make_shared<spdlog::logger>(
        "ember", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    l->set_pattern("[ember] [%l] %v");
    const char* level = std::getenv("EMBER_LOG_LEVEL");
    l->set_level(level ? spdlog::level::from_str(level) : spdlog::level::off);
    return l;
  }();
  return *instance;
}

}  // namespace ember::logging
