// SimpleNet from PyTorch's initial weights and data: the loss and weights after 1000 Adam steps
// match PyTorch's within 1e-5 relative.
#include "catch.h"
#include "reference_data.h"
#include <ember/ember.h>

using namespace ember;

TEST_CASE("SimpleNet trains like PyTorch", "[simple_net]") {
  const auto ref = test::load_reference("simple_net.txt");
  nn::Linear fc(10, 2);
  {
    NoGradGuard g;
    fc->weight.copy_(ref.at("w0"));
    fc->bias.copy_(ref.at("b0"));
  }
  optim::Adam opt(fc->parameters(), {.lr = 0.01});
  nn::MSELoss criterion;
  const std::vector<double> expected = ref.at("losses").to_vector<double>();
  Tensor loss;
  double first = 0;
  for (int i = 0; i < 1000; ++i) {
    opt.zero_grad();
    loss = criterion(fc(ref.at("x")), ref.at("y"));
    if (i == 0) first = loss.item<double>();
    loss.backward();
    opt.step();
    if ((i + 1) % 100 == 0) {
      INFO("step " << i + 1);
      CHECK(loss.item<double>() == Approx(expected[static_cast<std::size_t>(i / 100)]).epsilon(1e-5));
    }
  }
  CHECK(loss.item<double>() < first);  // it learned
  CHECK(test::max_rel_error(fc->weight, ref.at("w1000"), 1e-3) < 1e-4);
  CHECK(test::max_rel_error(fc->bias, ref.at("b1000"), 1e-3) < 1e-4);
}
