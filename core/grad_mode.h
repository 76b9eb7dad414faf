// Whether ops record the autograd graph on this thread. Core keeps the flag (ops and in-place
// writes consult it); autograd/ offers the user-facing NoGradGuard.
#pragma once

namespace ember {

class GradMode {
 public:
  static bool is_enabled() { return enabled_; }
  static void set_enabled(bool enabled) { enabled_ = enabled; }

 private:
  static thread_local bool enabled_;
};

}  // namespace ember
