// Staged copies of a convolution's tensors for cuDNN (conv_staging.h).
#include "ember/kernels/cuda/conv_staging.h"

#include <algorithm>

#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace {

// The call's layout, as PyTorch picks it: channels-last when the input or the weight is
// (strictly: a ref that is both layouts at once says nothing).
bool call_is_channels_last(const ConvArgs& args) {
  const auto strictly_nhwc = [](const TensorRef& t) { return is_nhwc(t) && !is_nchw(t); };
  return strictly_nhwc(args.input) || strictly_nhwc(args.weight);
}

bool in_layout(const TensorRef& t, bool channels_last) {
  return channels_last ? is_nhwc(t) : is_nchw(t);
}

}  // namespace

bool needs_staging(const ConvArgs& args) {
  const bool cl = call_is_channels_last(args);
  return args.pad_begin != args.pad_end || !in_layout(args.input, cl) ||
         !in_layout(args.weight, cl) || !in_layout(args.output, cl);
}

ConvStaging::Buffer ConvStaging::stage(const TensorRef& t, std::array<std::int64_t, 2> before,
                                       std::array<std::int64_t, 2> after) const {
  const std::int64_t n = t.sizes[0], c = t.sizes[1];
  const std::int64_t h = t.sizes[2] + before[0] + after[0];
  const std::int64_t w = t.sizes[3] + before[1] + after[1];
  const std::size_t element = element_size(t.dtype);
  Buffer b;
  b.whole = TensorRef{.data = nullptr,
                      .dtype = t.dtype,
                      .sizes = {n, c, h, w},
                      .strides = channels_last_ ? Strides{h * w * c, 1, w * c, c}
                                                : Strides{c * h * w, h * w, w, 1}};
  // Freed with this object, after the work that uses it is queued: stream order keeps it valid.
  b.memory =
      CachedBuffer(allocator(), static_cast<std::size_t>(b.whole.numel()) * element, device_);
  b.whole.data = b.memory.get();
  b.interior = b.whole;
  b.interior.sizes = t.sizes;
  b.interior.data = static_cast<char*>(b.memory.get()) +
                    (before[0] * b.whole.strides[2] + before[1] * b.whole.strides[3]) *
                        static_cast<std::int64_t>(element);
  return b;
}

ConvStaging::ConvStaging(ConvKind kind, int device, const ConvArgs& args)
    : kind_(kind),
      device_(device),
      channels_last_(call_is_channels_last(args)),
      original_(args),
      staged_(args) {
  std::array<std::int64_t, 2> before{}, after{};
  for (std::size_t d = 0; d < 2; ++d) {
    const std::int64_t common = std::min(args.pad_begin[d], args.pad_end[d]);
    before[d] = args.pad_begin[d] - common;
    after[d] = args.pad_end[d] - common;
    staged_.pad_begin[d] = staged_.pad_end[d] = common;
  }
  const bool padded = args.pad_begin != args.pad_end;
  if (padded || !in_layout(args.input, channels_last_)) {
    input_ = stage(args.input, before, after);
    staged_.input = input_->whole;
    if (kind != ConvKind::BackwardData) {  // read: zeros around a copy
      if (padded) fill(device, input_->whole, 0.0);
      copy(device, input_->interior, args.input);
    }  // else written: cuDNN writes every element of the buffer
  }
  if (!in_layout(args.weight, channels_last_)) {
    weight_ = stage(args.weight, {}, {});
    staged_.weight = weight_->whole;
    if (kind != ConvKind::BackwardFilter) copy(device, weight_->whole, args.weight);
  }
  if (!in_layout(args.output, channels_last_)) {
    output_ = stage(args.output, {}, {});
    staged_.output = output_->whole;
    if (kind != ConvKind::Forward) copy(device, output_->whole, args.output);
  }
}

void ConvStaging::finish() {
  const std::optional<Buffer>& written = kind_ == ConvKind::Forward        ? output_
                                         : kind_ == ConvKind::BackwardData ? input_
                                                                           : weight_;
  const TensorRef& target = kind_ == ConvKind::Forward        ? original_.output
                            : kind_ == ConvKind::BackwardData ? original_.input
                                                              : original_.weight;
  if (written) copy(device_, target, written->interior);
}

}  // namespace ember::kernels::cuda_impl
