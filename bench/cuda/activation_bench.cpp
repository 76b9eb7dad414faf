// Activations on the GPU: Ember's own element-wise kernels against cuDNN's activation routines,
// forward and backward, for ReLU, tanh and sigmoid in float32. The CUDA issue asks for whichever is
// faster; this program is the measurement behind that choice (see docs/benchmarks.md).
//
// Both sides are timed with CUDA events around 20 calls (median per call), on their own streams,
// with the device idle before each measurement.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <cuda_runtime.h>
#include <cudnn.h>

#include <ember/ember.h>

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw ember::Error(std::string(what) + ": " + cudaGetErrorString(e));
}
void check(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS) throw ember::Error(std::string(what) + ": " + cudnnGetErrorString(s));
}
#define CHECK(call) check((call), #call)

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median milliseconds of fn on the legacy default stream, timed with events.
template <typename Fn> double time_default_stream_ms(Fn fn, int repeats = 20) {
  cudaEvent_t start, stop;
  CHECK(cudaEventCreate(&start));
  CHECK(cudaEventCreate(&stop));
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    CHECK(cudaEventRecord(start, nullptr));
    fn();
    CHECK(cudaEventRecord(stop, nullptr));
    CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    CHECK(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(ms);
  }
  CHECK(cudaEventDestroy(start));
  CHECK(cudaEventDestroy(stop));
  return median(times);
}

template <typename Fn> double time_ember_ms(Fn fn, int repeats = 20) {
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) times.push_back(ember::cuda::time_ms(fn));
  return median(times);
}

struct Activation {
  const char* name;
  cudnnActivationMode_t mode;
  ember::Tensor (*forward)(const ember::Tensor&);
};

}  // namespace

int main() {
  if (!ember::cuda::is_available()) {
    std::puts("activation_bench: no CUDA device on this machine");
    return 0;
  }
  try {
    cudnnHandle_t handle;
    CHECK(cudnnCreate(&handle));
    const std::vector<Activation> activations{{"relu", CUDNN_ACTIVATION_RELU, &ember::relu},
                                              {"tanh", CUDNN_ACTIVATION_TANH, &ember::tanh},
                                              {"sigmoid", CUDNN_ACTIVATION_SIGMOID, &ember::sigmoid}};
    std::printf("%-8s %10s | %12s %12s | %12s %12s   (us per call, float32)\n", "op", "elements",
                "ember fwd", "cudnn fwd", "ember bwd", "cudnn bwd");
    for (const std::int64_t n : {std::int64_t{10000}, std::int64_t{1} << 20, std::int64_t{1} << 26}) {
      const ember::Device gpu = ember::Device::cuda();
      const ember::Tensor x = ember::randn({n}, gpu), g = ember::randn({n}, gpu);
      ember::Tensor y = ember::empty({n}, gpu), dx = ember::empty({n}, gpu);
      cudnnTensorDescriptor_t desc;
      CHECK(cudnnCreateTensorDescriptor(&desc));
      CHECK(cudnnSetTensor4dDescriptor(desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 1, 1, static_cast<int>(n)));
      for (const Activation& act : activations) {
        cudnnActivationDescriptor_t adesc;
        CHECK(cudnnCreateActivationDescriptor(&adesc));
        CHECK(cudnnSetActivationDescriptor(adesc, act.mode, CUDNN_NOT_PROPAGATE_NAN, 0.0));
        const float one = 1.0f, zero = 0.0f;
        ember::cuda::synchronize();
        const double cudnn_fwd = time_default_stream_ms([&] {
          CHECK(cudnnActivationForward(handle, adesc, &one, desc, x.raw_data(), &zero, desc, y.raw_data()));
        });
        const double cudnn_bwd = time_default_stream_ms([&] {
          CHECK(cudnnActivationBackward(handle, adesc, &one, desc, y.raw_data(), desc, g.raw_data(), desc,
                                        x.raw_data(), &zero, desc, dx.raw_data()));
        });
        CHECK(cudaDeviceSynchronize());
        // Ember: the forward op, and the backward kernel autograd runs for it (grad from output).
        const double ember_fwd = time_ember_ms([&] { y = act.forward(x); });
        ember::Tensor leaf = x.detach().requires_grad_();
        const ember::Tensor out = act.forward(leaf);
        const double ember_bwd = time_ember_ms([&] {
          leaf.set_grad(ember::Tensor());
          out.backward(g, /*retain_graph=*/true);
        });
        std::printf("%-8s %10lld | %12.2f %12.2f | %12.2f %12.2f\n", act.name, static_cast<long long>(n),
                    1000 * ember_fwd, 1000 * cudnn_fwd, 1000 * ember_bwd, 1000 * cudnn_bwd);
        CHECK(cudnnDestroyActivationDescriptor(adesc));
      }
      CHECK(cudnnDestroyTensorDescriptor(desc));
    }
    CHECK(cudnnDestroy(handle));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "activation_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
