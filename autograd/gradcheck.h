// gradcheck: compares the gradients autograd computes with central finite differences.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ember/autograd/tensor.h"

namespace ember::autograd {

struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-5;  // |analytic - numeric| <= atol + rtol * |numeric|, element by element
  double rtol = 1e-3;
  std::uint64_t seed = 0;  // for the random projection of the output
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // the first mismatch, with the input, element and both values
};

// Checks fn's gradient with respect to every input that requires grad. Inputs should be float64
// (float32 differences are too coarse to be meaningful). The output y is projected on a fixed
// random vector v, so the check compares v^T J for the whole Jacobian J: autograd's gradient of
// sum(v * y) against (sum(v * fn(x + eps e_i)) - sum(v * fn(x - eps e_i))) / 2 eps for every i.
// Works on any device: perturbed inputs are rebuilt from host copies.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace ember::autograd
