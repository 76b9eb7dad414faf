// Backward-pass hooks: a post-accumulate hook runs once per pass, after the last contribution to
// its leaf's gradient; queued callbacks run when the pass ends.
#include <vector>

#include "catch.h"
#include <ember/ember.h>

using namespace ember;

TEST_CASE("a post-accumulate hook sees the leaf's final gradient once per pass", "[hooks]") {
  Tensor w = tensor({1.0, 2.0, 3.0}, {3}, kFloat64).requires_grad_();
  std::vector<std::vector<double>> seen;
  autograd::register_post_accumulate_grad_hook(w, [&](const Tensor& leaf) {
    seen.push_back(leaf.grad().to_vector<double>());
  });
  // w is used three times; d/dw of sum(w*w + 3w) = 2w + 3.
  ((w * w).sum() + (w * 3.0).sum()).backward();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == std::vector<double>{5.0, 7.0, 9.0});
  // A second pass without zeroing: the hook sees the accumulated gradient, again once.
  (w * 2.0).sum().backward();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1] == std::vector<double>{7.0, 9.0, 11.0});
  autograd::clear_hooks(w);
  w.sum().backward();
  CHECK(seen.size() == 2);
}

TEST_CASE("a hook on a leaf the pass does not reach does not run", "[hooks]") {
  Tensor a = tensor({1.0}, {1}, kFloat64).requires_grad_();
  Tensor b = tensor({2.0}, {1}, kFloat64).requires_grad_();
  int calls = 0;
  autograd::register_post_accumulate_grad_hook(b, [&](const Tensor&) { ++calls; });
  (a * 4.0).sum().backward();
  CHECK(calls == 0);
  (a * b).sum().backward();
  CHECK(calls == 1);
  CHECK(b.grad().item<double>() == 1.0);
}

TEST_CASE("callbacks queued by hooks run after every gradient is written", "[hooks]") {
  Tensor a = tensor({1.0, 1.0}, {2}, kFloat64).requires_grad_();
  Tensor b = tensor({3.0, 4.0}, {2}, kFloat64).requires_grad_();
  std::vector<std::string> order;
  std::uint64_t pass = 0;
  autograd::register_post_accumulate_grad_hook(a, [&](const Tensor&) {
    order.push_back("hook a");
    pass = autograd::current_pass_id();
    autograd::queue_callback([&] {
      order.push_back("end");
      CHECK(b.grad().defined());  // b's gradient is written by now
    });
  });
  autograd::register_post_accumulate_grad_hook(b, [&](const Tensor&) { order.push_back("hook b"); });
  (a * b).sum().backward();
  REQUIRE(order.size() == 3);
  CHECK(order.back() == "end");
  CHECK(pass != 0);
  CHECK(autograd::current_pass_id() == 0);  // no pass running now
}

TEST_CASE("hooks refuse misuse", "[hooks]") {
  Tensor x = tensor({1.0}, {1}, kFloat64);
  CHECK_THROWS_WITH(autograd::register_post_accumulate_grad_hook(x, [](const Tensor&) {}),
                    Catch::Matchers::ContainsSubstring("leaf that requires grad"));
  CHECK_THROWS_WITH(autograd::queue_callback([] {}), Catch::Matchers::ContainsSubstring("no backward pass"));
}
