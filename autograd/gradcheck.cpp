#include "ember/autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "ember/core/grad_mode.h"
#include "ember/autograd/public_ops.h"
#include "ember/autograd/factories.h"
#include "ember/kernels/philox.h"

namespace ember::autograd {

namespace {
// sum(v * y) in float64 on the host, for a projection vector v.
double project(const Tensor& y, const std::vector<double>& v) {
  const std::vector<double> values = y.to_vector<double>();
  double total = 0.0;
  for (std::size_t i = 0; i < values.size(); ++i) total += v[i] * values[i];
  return total;
}

Tensor rebuild(const std::vector<double>& host, const Tensor& like, bool requires_grad) {
  return from_vector(host, like.shape(), like.options().requires_grad(requires_grad));
}
}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  // Fresh leaves with the same values, so the caller's tensors keep their .grad untouched.
  std::vector<std::vector<double>> host;
  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) {
    host.push_back(x.to_vector<double>());
    leaves.push_back(rebuild(host.back(), x, x.requires_grad()));
  }
  const Tensor y = fn(leaves);
  std::vector<double> v(static_cast<std::size_t>(y.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = kernels::philox::normal(options.seed + 0x9e37, i);

  // Analytic: backward of sum(v * y), i.e. backward(y) with gradient v.
  if (y.requires_grad()) y.backward(from_vector(v, y.shape(), y.options()));

  GradcheckResult result;
  NoGradGuard no_grad;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].requires_grad()) continue;
    const Tensor grad = leaves[k].grad();
    const std::vector<double> analytic =
        grad.defined() ? grad.to_vector<double>() : std::vector<double>(host[k].size(), 0.0);
    for (std::size_t i = 0; i < host[k].size(); ++i) {
      std::vector<Tensor> shifted = leaves;
      const double original = host[k][i];
      host[k][i] = original + options.eps;
      shifted[k] = rebuild(host[k], inputs[k], false);
      const double plus = project(fn(shifted), v);
      host[k][i] = original - options.eps;
      shifted[k] = rebuild(host[k], inputs[k], false);
      const double minus = project(fn(shifted), v);
      host[k][i] = original;
      const double numeric = (plus - minus) / (2.0 * options.eps);
      const double a = analytic[i];
      if (!(std::abs(a - numeric) <= options.atol + options.rtol * std::abs(numeric))) {
        std::ostringstream msg;
        msg << "gradcheck: input " << k << " (shape " << inputs[k].shape() << "), element " << i
            << ": autograd gives " << a << ", finite differences give " << numeric;
        return {false, msg.str()};
      }
    }
  }
  return result;
}

}  // namespace ember::autograd
