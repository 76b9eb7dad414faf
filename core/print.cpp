// Printing tensors the way PyTorch does: one format for every element (floating dtypes fixed with
// 4 decimals, whole numbers as "1.", or scientific when magnitudes span too much; integer dtypes as
// integers; bool as True/False), aligned columns, "..." past 1000 elements, and dtype/device/
// requires_grad suffixes when they are not the defaults (float32, int64 and bool print no dtype).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

#include "ember/core/tensor.h"

namespace ember {

namespace {

constexpr std::int64_t kSummarizeThreshold = 1000;
constexpr std::int64_t kEdgeItems = 3;

struct Formatter {
  enum class Mode { Integer, Fixed, Scientific } mode = Mode::Integer;

  std::string format(double v) const {
    char buf[64];
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    switch (mode) {
      case Mode::Integer: std::snprintf(buf, sizeof buf, "%.0f.", v); break;
      case Mode::Fixed: std::snprintf(buf, sizeof buf, "%.4f", v); break;
      case Mode::Scientific: std::snprintf(buf, sizeof buf, "%.4e", v); break;
    }
    return buf;
  }
};

Formatter make_formatter(const std::vector<double>& values) {
  Formatter f;
  double max_abs = 0.0, min_abs = INFINITY;
  bool all_int = true, any_finite = false;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    any_finite = true;
    all_int = all_int && v == std::nearbyint(v);
    if (v != 0.0) {
      max_abs = std::max(max_abs, std::abs(v));
      min_abs = std::min(min_abs, std::abs(v));
    }
  }
  if (any_finite && (max_abs > 1e8 || (max_abs > 0 && (max_abs / min_abs > 1000.0 || min_abs < 1e-4)))) {
    f.mode = all_int && max_abs <= 1e8 ? Formatter::Mode::Integer : Formatter::Mode::Scientific;
  } else {
    f.mode = all_int ? Formatter::Mode::Integer : Formatter::Mode::Fixed;
  }
  return f;
}

// Indices of dim d to print: all, or the first and last kEdgeItems with a gap marker (-1).
std::vector<std::int64_t> shown_indices(std::int64_t size, bool summarize) {
  std::vector<std::int64_t> idx;
  if (summarize && size > 2 * kEdgeItems) {
    for (std::int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
    idx.push_back(-1);
    for (std::int64_t i = size - kEdgeItems; i < size; ++i) idx.push_back(i);
  } else {
    for (std::int64_t i = 0; i < size; ++i) idx.push_back(i);
  }
  return idx;
}

// Every element's text, right-aligned to the widest.
std::vector<std::string> element_texts(const TensorBase& t) {
  std::vector<std::string> texts;
  if (is_floating(t.dtype())) {
    const std::vector<double> values = t.to_vector<double>();
    const Formatter f = make_formatter(values);
    for (double v : values) texts.push_back(f.format(v));
  } else if (t.dtype() == kBool) {
    for (bool v : t.to_vector<bool>()) texts.emplace_back(v ? "True" : "False");
  } else {
    for (std::int64_t v : t.to_vector<std::int64_t>()) texts.push_back(std::to_string(v));
  }
  std::size_t width = 0;
  for (const std::string& text : texts) width = std::max(width, text.size());
  for (std::string& text : texts) text.insert(0, width - text.size(), ' ');
  return texts;
}

void print_dim(std::ostream& out, const std::vector<std::string>& texts, const Shape& shape,
               const Strides& strides, int dim, std::int64_t base, bool summarize, int indent) {
  out << '[';
  const auto idx = shown_indices(shape[dim], summarize);
  const bool last_dim = dim == shape.size() - 1;
  for (std::size_t k = 0; k < idx.size(); ++k) {
    if (k > 0) {
      if (last_dim) {
        out << ", ";
      } else {
        out << ',' << std::string(static_cast<std::size_t>(shape.size() - dim - 1), '\n')
            << std::string(static_cast<std::size_t>(indent + dim + 1), ' ');
      }
    }
    if (idx[k] < 0) {
      out << "...";
      continue;
    }
    const std::int64_t at = base + idx[k] * strides[dim];
    if (last_dim) out << texts[static_cast<std::size_t>(at)];
    else print_dim(out, texts, shape, strides, dim + 1, at, summarize, indent);
  }
  out << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& out, const TensorBase& t) {
  if (!t.defined()) return out << "tensor(undefined)";
  const std::vector<std::string> texts = element_texts(t);
  const bool summarize = t.numel() > kSummarizeThreshold;
  out << "tensor(";
  if (t.dim() == 0) {
    out << texts[0];
  } else if (t.numel() == 0) {
    out << "[]";
    if (t.dim() != 1) out << ", size=" << t.shape();
  } else {
    print_dim(out, texts, t.shape(), contiguous_strides(t.shape()), 0, 0, summarize, 7);
  }
  if (t.dtype() != kFloat32 && t.dtype() != kInt64 && t.dtype() != kBool) out << ", dtype=" << t.dtype();
  if (!t.device().is_cpu()) out << ", device='" << t.device().str() << "'";
  if (t.requires_grad()) out << ", requires_grad=True";
  return out << ')';
}

std::ostream& operator<<(std::ostream& out, const Shape& s) { return out << s.str(); }
std::ostream& operator<<(std::ostream& out, Device d) { return out << d.str(); }
std::ostream& operator<<(std::ostream& out, DType d) { return out << dtype_name(d); }

}  // namespace ember
