// Whether ops record the autograd graph on this thread. Core keeps the flag (ops and in-place
// writes consult it); autograd/ offers the user-facing NoGradGuard.
#pragma once

namespace ember {

class GradMode {
 public:
  // Out of line on purpose: a thread_local static member read from inline code trips GCC's
  // UBSan null check (a false positive), and a call costs nothing measurable here.
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

}  // namespace ember
