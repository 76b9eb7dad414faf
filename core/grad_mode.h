// Whether ops record the autograd graph on this thread, and NoGradGuard, which turns that off for a
// scope (as torch::NoGradGuard). Core keeps the flag: ops and in-place writes consult it.
#pragma once

namespace ember {

class GradMode {
 public:
  // Out of line on purpose: a thread_local static member read from inline code trips GCC's
  // UBSan null check (a false positive), and a call costs nothing measurable here.
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// While one is alive, ops on this thread record nothing.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace ember
