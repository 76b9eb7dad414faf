// NoGradGuard: while one is alive, ops on this thread record nothing (as torch::NoGradGuard).
#pragma once

#include "ember/core/grad_mode.h"

namespace ember {

class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

namespace autograd {
using ember::NoGradGuard;
}

}  // namespace ember
