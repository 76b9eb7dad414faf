// Reads the reference files of tests/data (written by tests/reference/make_reference.py with
// PyTorch): one tensor per line, "name ndim d0 .. dn v0 v1 ...".
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <ember/ember.h>

namespace ember::test {

inline std::map<std::string, Tensor> load_reference(const std::string& file, DType dtype = kFloat32) {
  // EMBER_TEST_DATA_DIR in the environment wins over the build's path (for a build run elsewhere).
  const char* dir = std::getenv("EMBER_TEST_DATA_DIR");
  const std::string path = std::string(dir ? dir : EMBER_TEST_DATA_DIR) + "/" + file;
  std::ifstream in(path);
  EMBER_CHECK(in.good(), "reference data '", path, "' not found");
  std::map<std::string, Tensor> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name;
    int ndim = 0;
    fields >> name >> ndim;
    Shape shape;
    for (int d = 0; d < ndim; ++d) {
      std::int64_t size = 0;
      fields >> size;
      shape.push_back(size);
    }
    std::vector<double> values(static_cast<std::size_t>(shape.numel()));
    for (double& v : values) fields >> v;
    EMBER_CHECK(!fields.fail(), "reference data '", path, "': malformed line for '", name, "'");
    out.emplace(name, from_vector(values, shape, dtype));
  }
  return out;
}

// max |a - b| / max(|b|, floor), over all elements: the relative error used against references.
inline double max_rel_error(const Tensor& a, const Tensor& b, double floor = 1e-6) {
  const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  double worst = 0.0;
  for (std::size_t i = 0; i < va.size(); ++i) {
    worst = std::max(worst, std::abs(va[i] - vb[i]) / std::max(std::abs(vb[i]), floor));
  }
  return worst;
}

}  // namespace ember::test
