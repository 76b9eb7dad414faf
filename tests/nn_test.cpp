// nn: modules, Linear's initialisation, Sequential, and saving/loading weights.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "catch.h"
#include "file_bytes.h"
#include <ember/autograd/node.h>
#include <ember/ember.h>

using namespace ember;
using Catch::Matchers::ContainsSubstring;

namespace {
struct TwoLayer : nn::Module {
  nn::Linear fc1, fc2;
  TwoLayer() : fc1(register_module("fc1", nn::Linear(4, 8))), fc2(register_module("fc2", nn::Linear(8, 2))) {}
  Tensor forward(const Tensor& x) { return fc2(relu(fc1(x))); }
};

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("ember_test_" + name)).string();
}
}  // namespace

TEST_CASE("modules register parameters by dotted name", "[nn]") {
  TwoLayer m;
  const auto named = m.named_parameters();
  REQUIRE(named.size() == 4);
  CHECK(named[0].first == "fc1.weight");
  CHECK(named[1].first == "fc1.bias");
  CHECK(named[3].first == "fc2.bias");
  CHECK(named[0].second.shape() == Shape{8, 4});
  CHECK(m.parameters().size() == 4);
  for (const Tensor& p : m.parameters()) CHECK(p.requires_grad());
  // The holder member and the registered child are one module.
  CHECK(m.fc1->weight.is_same(named[0].second));
  m.eval();
  CHECK_FALSE(m.fc1->is_training());
  m.train();
  CHECK(m.fc2->is_training());
}

TEST_CASE("Linear draws weights uniformly in +-1/sqrt(in_features) and computes x W^T + b", "[nn]") {
  manual_seed(7);
  nn::Linear fc(100, 50);
  const double bound = 0.1;
  double lo = 1, hi = -1;
  for (double v : fc->weight.to_vector<double>()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  CHECK(lo >= -bound);
  CHECK(hi < bound);
  CHECK(lo < -0.09);  // 5000 draws reach close to both ends
  CHECK(hi > 0.09);
  nn::Linear small(2, 1);
  {
    NoGradGuard g;
    small->weight.copy_(tensor({2, -1}, {1, 2}));
    small->bias.fill_(0.5);
  }
  CHECK(small(tensor({1, 1, 3, 2}, {2, 2})).to_vector<float>() == std::vector<float>{1.5f, 4.5f});
}

TEST_CASE("Sequential chains modules and names them by position", "[nn]") {
  nn::Sequential seq(nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 1), nn::Sigmoid());
  CHECK(seq->size() == 4);
  const auto named = seq->named_parameters();
  REQUIRE(named.size() == 4);
  CHECK(named[0].first == "0.weight");
  CHECK(named[2].first == "2.weight");
  const Tensor out = seq(ones({5, 3}));
  CHECK(out.shape() == Shape{5, 1});
  for (double v : out.to_vector<double>()) CHECK((v > 0 && v < 1));
  nn::Sequential tanh_net{nn::Tanh{}};
  CHECK(tanh_net(tensor({0.5})).item<float>() == Approx(std::tanh(0.5)));
}

TEST_CASE("Linear with Activation::Relu equals Linear then ReLU, in values and gradients", "[nn]") {
  manual_seed(9);
  const nn::Linear fc1(6, 5, {.activation = Activation::Relu});
  const nn::Linear fc2(5, 3, {.bias = false, .activation = Activation::Relu});
  nn::Sequential fused(fc1, fc2, nn::Tanh());
  const Tensor x = randn({7, 6});
  const Tensor out = fused(x);
  CHECK(std::string(out.grad_fn()->name()) == "TanhBackward");
  const Tensor one_by_one = tanh(relu(linear(relu(linear(x, fc1->weight, fc1->bias)), fc2->weight)));
  CHECK(out.to_vector<float>() == one_by_one.to_vector<float>());
  std::vector<std::vector<float>> grads_fused, grads_plain;
  out.sum().backward();
  for (const Tensor& p : fused->parameters()) grads_fused.push_back(p.grad().to_vector<float>());
  fused->zero_grad();
  one_by_one.sum().backward();
  for (const Tensor& p : fused->parameters()) grads_plain.push_back(p.grad().to_vector<float>());
  CHECK(grads_fused == grads_plain);
  // The fused layer is one node of the graph, from the module or from the function.
  CHECK(std::string(fc1(x).grad_fn()->name()) == "LinearReluBackward");
  CHECK(std::string(linear(x, fc1->weight, fc1->bias, Activation::Relu).grad_fn()->name()) == "LinearReluBackward");
  CHECK(linear(x, fc1->weight, fc1->bias, Activation::None).to_vector<float>() ==
        linear(x, fc1->weight, fc1->bias).to_vector<float>());
  CHECK(fc1->activation == Activation::Relu);
  CHECK(nn::Linear(2, 2)->activation == Activation::None);
}

TEST_CASE("Sequential fuses nothing: Linear then ReLU stays two ops", "[nn]") {
  manual_seed(10);
  const nn::Linear fc(6, 5);
  nn::Sequential pair(fc, nn::ReLU());
  const Tensor x = randn({7, 6});
  const Tensor out = pair(x);
  CHECK(std::string(out.grad_fn()->name()) == "ReluBackward");
  CHECK(std::string(out.grad_fn()->edges[0].node->name()) == "LinearBackward");
  CHECK(out.to_vector<float>() == relu(linear(x, fc->weight, fc->bias)).to_vector<float>());
}

TEST_CASE("MSELoss reductions", "[nn]") {
  const Tensor a = tensor({1, 2, 3}), b = tensor({0, 0, 1});
  CHECK(nn::MSELoss()(a, b).item<float>() == Approx(3.0));  // (1 + 4 + 4) / 3
  CHECK(nn::MSELoss({Reduction::Sum})(a, b).item<float>() == Approx(9.0));
  CHECK(nn::MSELoss({Reduction::None})(a, b).to_vector<float>() == std::vector<float>{1, 4, 4});
  CHECK_THROWS_WITH(nn::MSELoss()(a, ones({2})), ContainsSubstring("[3]") && ContainsSubstring("[2]"));
}

TEST_CASE("weights round-trip through a file", "[nn][serialize]") {
  manual_seed(8);
  TwoLayer a, b;
  const std::string path = temp_path("roundtrip.bin");
  nn::save(a, path);
  CHECK_FALSE(allclose(a.fc1->weight, b.fc1->weight));
  nn::load(b, path);
  for (std::size_t i = 0; i < a.parameters().size(); ++i) {
    CHECK(a.parameters()[i].to_vector<float>() == b.parameters()[i].to_vector<float>());
  }
  std::filesystem::remove(path);
}

TEST_CASE("bad checkpoint files are refused and leave the module unchanged", "[nn][serialize][errors]") {
  manual_seed(9);
  TwoLayer model;
  const std::string path = temp_path("bad.bin");
  nn::save(model, path);
  const std::string bytes = test::read_bytes(path);
  auto write = [&](const std::string& content) { test::write_bytes(path, content); };
  TwoLayer target;
  const auto before = target.fc1->weight.to_vector<float>();
  auto unchanged = [&] { return target.fc1->weight.to_vector<float>() == before; };

  write(bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_WITH(nn::load(target, path), ContainsSubstring("corrupted") || ContainsSubstring("truncated"));
  CHECK(unchanged());

  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x5a;
  write(flipped);
  CHECK_THROWS_WITH(nn::load(target, path), ContainsSubstring("checksum"));
  CHECK(unchanged());

  std::string versioned = bytes;
  versioned[8] = 9;
  write(versioned);
  CHECK_THROWS_WITH(nn::load(target, path), ContainsSubstring("version 9"));
  CHECK(unchanged());

  write("not a checkpoint at all");
  CHECK_THROWS_WITH(nn::load(target, path), ContainsSubstring("not an Ember"));

  struct Other : nn::Module {
    nn::Linear fc1, fc2;
    Other() : fc1(register_module("fc1", nn::Linear(4, 8))), fc2(register_module("fc2", nn::Linear(8, 3))) {}
  } other;
  nn::save(other, path);
  CHECK_THROWS_WITH(nn::load(target, path), ContainsSubstring("fc2.weight") && ContainsSubstring("[3, 8]"));
  CHECK(unchanged());

  CHECK_THROWS_WITH(nn::load(target, temp_path("does_not_exist.bin")), ContainsSubstring("cannot open"));
  std::filesystem::remove(path);
}
