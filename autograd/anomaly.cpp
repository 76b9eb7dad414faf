#include "ember/autograd/anomaly.h"

#include <cmath>
#include <sstream>
#include <string>
#include <string_view>

#include "ember/autograd/node.h"

namespace ember::autograd {

namespace {
thread_local bool t_anomaly_enabled = false;

// What a tensor holds that is not finite, read on the host (a CUDA tensor is copied, which
// synchronizes: acceptable while debugging).
struct NonFinite {
  std::size_t nan = 0, inf = 0, first = 0, total = 0;
  bool any() const { return nan + inf > 0; }
};

NonFinite scan(const Tensor& t) {
  NonFinite r;
  if (!t.defined()) return r;
  const std::vector<double> values = t.to_vector<double>();
  r.total = values.size();
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isfinite(values[i])) continue;
    if (r.nan + r.inf == 0) r.first = i;
    if (std::isnan(values[i]))
      ++r.nan;
    else
      ++r.inf;
  }
  return r;
}

// "NaN (2 of 6 values, first at flat index 3)".
std::string describe(const NonFinite& r) {
  std::ostringstream out;
  out << (r.nan && r.inf ? "NaN and Inf"
          : r.nan        ? "NaN"
                         : "Inf")
      << " (" << r.nan + r.inf << " of " << r.total << " values, first at flat index " << r.first
      << ")";
  return out.str();
}

// "LogBackward" -> "log": the forward op's name as the user called it.
std::string forward_name(std::string_view node) {
  constexpr std::string_view suffix = "Backward";
  if (node.size() > suffix.size() && node.substr(node.size() - suffix.size()) == suffix) {
    node.remove_suffix(suffix.size());
  }
  std::string out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const char c = node[i];
    const bool upper = c >= 'A' && c <= 'Z';
    if (upper && i > 0) out += '_';
    out += upper ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}
}  // namespace

bool AnomalyMode::is_enabled() { return t_anomaly_enabled; }
void AnomalyMode::set_enabled(bool enabled) { t_anomaly_enabled = enabled; }

namespace detail {

void check_forward_output(const char* node_name, const TensorBase& output,
                          std::initializer_list<const TensorBase*> inputs) {
  const NonFinite bad = scan(output);
  if (!bad.any()) return;
  // Say whether this op created the bad value or passed on one it was given.
  std::ostringstream origin;
  int index = 0;
  for (const TensorBase* input : inputs) {
    if (input->defined() && scan(*input).any()) {
      origin << "; its input " << index << " already held NaN/Inf (computed outside the recorded "
             << "graph or before the guard was created)";
    }
    ++index;
  }
  if (origin.tellp() == 0) origin << "; its inputs were finite, so this op created it";
  EMBER_FAIL("detect_anomaly: the forward output of '", forward_name(node_name), "' (", node_name,
             ", shape ", output.shape(), ", ", output.dtype(), " on ", output.device(), ") holds ",
             describe(bad), origin.str());
}

void check_gradients(const Node& node, const Tensor& grad_output, Grads& grads) {
  for (int i = 0; i < node.num_inputs; ++i) {
    const Tensor& g = grads[i];
    if (!g.defined()) continue;
    const NonFinite bad = scan(g);
    if (!bad.any()) continue;
    EMBER_FAIL("detect_anomaly: backward of ", node.name(), " (forward op '",
               forward_name(node.name()), "') computed a gradient for its input ", i, " (shape ",
               g.shape(), ", ", g.dtype(), " on ", g.device(), ") that holds ", describe(bad),
               scan(grad_output).any()
                   ? "; the gradient it received already held NaN/Inf"
                   : "; the gradient it received was finite, so this node created it");
  }
}

void check_seed_gradient(const Tensor& seed) {
  const NonFinite bad = scan(seed);
  EMBER_CHECK(!bad.any(), "detect_anomaly: the gradient passed to backward() (shape ", seed.shape(),
              ") holds ", describe(bad));
}

}  // namespace detail

}  // namespace ember::autograd
