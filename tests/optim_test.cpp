// Optimizers against PyTorch: the same initial weights and data give the same trajectory to
// float32 rounding (reference data from tests/reference/make_reference.py).
#include <filesystem>

#include "catch.h"
#include "reference_data.h"
#include <ember/ember.h>

using namespace ember;

namespace {
// 25 steps of the reference regression with the optimizer `make` builds; returns (w, b).
template <typename Make> std::pair<Tensor, Tensor> run(const std::map<std::string, Tensor>& ref, Make make) {
  Tensor w = ref.at("w0").clone().requires_grad_(), b = ref.at("b0").clone().requires_grad_();
  auto opt = make(std::vector<Tensor>{w, b});
  for (int i = 0; i < 25; ++i) {
    opt.zero_grad();
    mse_loss(linear(ref.at("x"), w, b), ref.at("y")).backward();
    opt.step();
  }
  return {w, b};
}

void check_case(const std::map<std::string, Tensor>& ref, const std::string& name, const std::pair<Tensor, Tensor>& wb) {
  INFO(name);
  // Relative to max(|reference|, 0.05): weights decayed towards zero are compared absolutely.
  CHECK(test::max_rel_error(wb.first, ref.at(name + ".w"), 0.05) < 1e-5);
  CHECK(test::max_rel_error(wb.second, ref.at(name + ".b"), 0.05) < 1e-5);
}
}  // namespace

TEST_CASE("Adam AdamW and SGD follow PyTorch's trajectories", "[optim]") {
  const auto ref = test::load_reference("optimizers.txt");
  using optim::Adam, optim::AdamW, optim::SGD;
  check_case(ref, "adam", run(ref, [](auto p) { return Adam(p, {.lr = 0.05}); }));
  check_case(ref, "adam_wd", run(ref, [](auto p) { return Adam(p, {.lr = 0.05, .weight_decay = 0.1}); }));
  check_case(ref, "adam_amsgrad", run(ref, [](auto p) { return Adam(p, {.lr = 0.05, .betas = {0.8, 0.95}, .amsgrad = true}); }));
  check_case(ref, "adam_maximize", run(ref, [](auto p) { return Adam(p, {.lr = 0.01, .maximize = true}); }));
  check_case(ref, "adamw", run(ref, [](auto p) { return AdamW(p, {.lr = 0.05, .weight_decay = 0.1}); }));
  check_case(ref, "sgd", run(ref, [](auto p) { return SGD(p, {.lr = 0.05}); }));
  check_case(ref, "sgd_momentum", run(ref, [](auto p) {
    return SGD(p, {.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01});
  }));
  check_case(ref, "sgd_nesterov", run(ref, [](auto p) { return SGD(p, {.lr = 0.05, .momentum = 0.9, .nesterov = true}); }));
}

TEST_CASE("optimizer state saves and restores: a resumed run matches an uninterrupted one", "[optim][serialize]") {
  const auto ref = test::load_reference("optimizers.txt");
  const Tensor x = ref.at("x"), y = ref.at("y");
  auto train = [&](Tensor& w, optim::Optimizer& opt, int steps) {
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      mse_loss(linear(x, w), y).backward();
      opt.step();
    }
  };
  Tensor w_full = ref.at("w0").clone().requires_grad_();
  optim::Adam full({w_full}, {.lr = 0.05, .amsgrad = true});
  train(w_full, full, 20);

  Tensor w_first = ref.at("w0").clone().requires_grad_();
  optim::Adam first({w_first}, {.lr = 0.05, .amsgrad = true});
  train(w_first, first, 10);
  const std::string path = (std::filesystem::temp_directory_path() / "ember_adam_state.bin").string();
  first.save(path);

  Tensor w_resumed = w_first.detach().clone().requires_grad_();
  optim::Adam resumed({w_resumed}, {.lr = 0.05, .amsgrad = true});
  resumed.load(path);
  train(w_resumed, resumed, 10);
  CHECK(w_resumed.to_vector<float>() == w_full.to_vector<float>());  // bit for bit

  optim::SGD sgd({w_first}, {.lr = 0.1, .momentum = 0.9});
  CHECK_THROWS_AS(sgd.load(path), Error);  // Adam's state is not SGD's
  std::filesystem::remove(path);
}

TEST_CASE("zero_grad clears or zeroes gradients", "[optim]") {
  Tensor w = ones({2}).requires_grad_();
  optim::SGD opt({w}, {.lr = 0.1});
  (w * 3.0).sum().backward();
  opt.zero_grad(/*set_to_none=*/false);
  CHECK(w.grad().to_vector<float>() == std::vector<float>{0, 0});
  opt.zero_grad();
  CHECK_FALSE(w.grad().defined());
  opt.step();  // no gradient: nothing changes
  CHECK(w.to_vector<float>() == std::vector<float>{1, 1});
}
