// Trains a tiny regression with an installed Ember and checks that it learned: the test of
// `cmake --install` + find_package(Ember). Exits non-zero on failure.
#include <cstdio>

#include <ember/ember.h>

int main() {
  ember::manual_seed(1);
  // y = 3x - 1 with a little noise; a Linear(1, 1) must find the slope and intercept.
  const auto x = ember::rand({64, 1});
  const auto y = x * 3.0 - 1.0 + ember::randn({64, 1}) * 0.01;
  ember::nn::Linear fit(1, 1);
  ember::optim::Adam opt(fit->parameters(), {.lr = 0.1});
  for (int i = 0; i < 500; ++i) {
    opt.zero_grad();
    ember::mse_loss(fit(x), y).backward();
    opt.step();
  }
  const float slope = fit->weight.item<float>(), intercept = fit->bias.item<float>();
  std::printf("learned y = %.3f x + %.3f (CUDA available: %s)\n", slope, intercept,
              ember::cuda::is_available() ? "yes" : "no");
  const bool ok = slope > 2.9f && slope < 3.1f && intercept > -1.1f && intercept < -0.9f;
  return ok ? 0 : 1;
}
