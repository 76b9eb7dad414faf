// The options of conv2d and conv1d (autograd/public_ops.h), as torch.nn.functional's arguments:
//
//   conv2d(x, w, b, {.stride = 2, .padding = 1});
//   conv2d(x, w, {}, {.padding = {1, 2}, .dilation = {2, 1}, .groups = 4});
//   conv1d(x, w, {}, {.padding = kSame});
#pragma once

#include <array>
#include <cstdint>

#include "ember/core/size2.h"

namespace ember {

// A convolution's zero padding: one size for every spatial dim (padding=1), one per dim (padding=
// {1, 2}: height, width; conv2d only), or PyTorch's padding="same" and "valid":
//   kSame   pads so that the output has the input's size; stride 1 only. The dilated kernel's
//           extent - 1 is split between the two ends, the extra one at the end when it is odd.
//   kValid  no padding.
struct ConvPadding {
  enum class Mode : std::uint8_t { Sizes, Same, Valid };

  constexpr ConvPadding(std::int64_t all)
      : sizes{all, all} {}  // NOLINT(google-explicit-constructor)
  constexpr ConvPadding(std::int64_t height, std::int64_t width)
      : sizes{height, width}, per_dim(true) {}
  static constexpr ConvPadding of(Mode m) {
    ConvPadding p(0);
    p.mode = m;
    return p;
  }

  Mode mode = Mode::Sizes;
  std::array<std::int64_t, 2> sizes;  // Sizes only: [height, width] (conv1d uses the first)
  bool per_dim = false;               // given as {height, width}
};
inline constexpr ConvPadding kSame = ConvPadding::of(ConvPadding::Mode::Same);
inline constexpr ConvPadding kValid = ConvPadding::of(ConvPadding::Mode::Valid);

struct Conv2dOptions {
  Size2 stride = 1;
  ConvPadding padding = 0;
  Size2 dilation = 1;
  std::int64_t groups = 1;
};

struct Conv1dOptions {
  std::int64_t stride = 1;
  ConvPadding padding = 0;
  std::int64_t dilation = 1;
  std::int64_t groups = 1;
};

}  // namespace ember
