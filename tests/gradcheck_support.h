// The tests' one way to hold an op to finite differences: autograd::gradcheck over float64 inputs,
// failing the test case with gradcheck's own message (which input, which element, both values).
#pragma once

#include <functional>
#include <vector>

#include "catch.h"
#include <ember/ember.h>

namespace ember::test {

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

inline void check_grad(const GradcheckFn& fn, const std::vector<Tensor>& inputs) {
  const autograd::GradcheckResult r = autograd::gradcheck(fn, inputs);
  INFO(r.message);
  CHECK(r.ok);
}
inline void check_grad(const GradcheckFn& fn, const Tensor& input) { check_grad(fn, std::vector<Tensor>{input}); }

}  // namespace ember::test
