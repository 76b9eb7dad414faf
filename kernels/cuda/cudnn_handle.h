// The cuDNN handle of each device: created on a device's first convolution (cudnnCreate loads
// cuDNN's sub-libraries and takes a while), bound to the device's compute stream, so that
// everything cuDNN runs is in stream order with Ember's own kernels.
#pragma once

#include <cudnn.h>

#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

// The oldest cuDNN whose graph API Ember's convolutions are written against: 9.0.0 (cuDNN 9's
// version numbers are major * 10000 + minor * 100 + patch). The first handle checks the library
// that was actually loaded against it.
inline constexpr std::size_t kMinCudnnVersion = 90000;

// `ctx`'s handle, created on first use. Like DeviceContext::blas(), it first waits until every
// queued launch of the device has been issued to the stream, so that what cuDNN queues next lands
// after it. The caller has made ctx.device current. Throws ember::Error when the cuDNN loaded is
// too old (or of another major version) or the handle cannot be created.
cudnnHandle_t cudnn_handle(const DeviceContext& ctx);

}  // namespace ember::kernels::cuda_impl
