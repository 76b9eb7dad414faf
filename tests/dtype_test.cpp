// Dtypes as data: every dtype of EMBER_DTYPES is created, converted to and from every other,
// printed, compared (giving kBool), saved and loaded; bfloat16 and float16 round to nearest even as
// PyTorch's do; arithmetic on a storage-only dtype is an error naming the op and the dtype.
// (bfloat16/float16 arithmetic: half_arithmetic_test.cpp.)
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "catch.h"
#include <ember/ember.h>

using namespace ember;
using Catch::Matchers::ContainsSubstring;

namespace {

std::string printed(const Tensor& t) {
  std::ostringstream out;
  out << t;
  return out.str();
}

}  // namespace

TEST_CASE("the dtype table: names, sizes, kinds", "[dtype]") {
  CHECK(std::size(kDTypes) == static_cast<std::size_t>(kDTypeCount));
  CHECK(dtype_name(kBFloat16) == "bfloat16");
  CHECK(dtype_name(kFloat16) == "float16");
  CHECK(dtype_name(kInt64) == "int64");
  CHECK(dtype_name(kBool) == "bool");
  CHECK(element_size(kBFloat16) == 2);
  CHECK(element_size(kFloat16) == 2);
  CHECK(element_size(kInt64) == 8);
  CHECK(element_size(kInt32) == 4);
  CHECK(element_size(kUInt8) == 1);
  CHECK(element_size(kBool) == 1);
  CHECK(is_floating(kBFloat16));
  CHECK_FALSE(is_floating(kInt32));
  CHECK(traits(kFloat16).accumulate == kFloat32);
  CHECK(traits(kFloat32).accumulate == kFloat64);
  CHECK(traits(kBool).accumulate == kInt64);
  CHECK(dtype_name(static_cast<DType>(200)) == "unknown dtype");
}

TEST_CASE("small whole numbers survive a round trip through every dtype", "[dtype]") {
  // 0..5 is exact in every dtype but bool, which keeps 0 and 1.
  const Tensor source = tensor({0, 1, 2, 3, 4, 5}, {}, kFloat64);
  for (DType from : kDTypes) {
    for (DType to : kDTypes) {
      INFO(dtype_name(from) << " -> " << dtype_name(to));
      const Tensor x = source.to(from);
      CHECK(x.dtype() == from);
      const Tensor y = x.to(to);
      CHECK(y.dtype() == to);
      const std::vector<double> got = y.to_vector<double>();
      const bool through_bool = from == kBool || to == kBool;
      for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i] == (through_bool ? (i == 0 ? 0.0 : 1.0) : static_cast<double>(i)));
      }
    }
  }
}

TEST_CASE("factories, fill and views work for every dtype", "[dtype]") {
  for (DType dtype : kDTypes) {
    INFO(dtype_name(dtype));
    const Tensor z = zeros({2, 3}, dtype), o = ones({2, 3}, dtype), f = full({3}, 1.0, dtype);
    CHECK(z.dtype() == dtype);
    CHECK(z.to_vector<double>() == std::vector<double>(6, 0.0));
    CHECK(o.to_vector<double>() == std::vector<double>(6, 1.0));
    CHECK(f.to_vector<double>() == std::vector<double>(3, 1.0));
    // Views and copies are dtype-agnostic: a transposed copy of an arange.
    const Tensor a = arange(6.0, dtype == kBool ? kUInt8 : dtype).to(dtype).reshape({2, 3});
    const std::vector<double> t = a.t().contiguous().to_vector<double>();
    if (dtype != kBool) CHECK(t == std::vector<double>{0, 3, 1, 4, 2, 5});
    CHECK(a.select(1, 2).to_vector<double>().size() == 2);
  }
  CHECK_THROWS_WITH(arange(5.0, kInt64).item<std::int64_t>(), ContainsSubstring("one-element"));
}

TEST_CASE("item and to_vector read integer and bool tensors exactly", "[dtype]") {
  const Tensor big = full({1}, 9007199254740993.0, kFloat64);  // 2^53 + 1 is not a float64: rounds
  CHECK(big.to(kInt64).item<std::int64_t>() == 9007199254740992);
  CHECK(arange(3.0, kInt64).to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2});
  CHECK(tensor({-1.7, 2.9}).to(kInt32).to_vector<std::int32_t>() == std::vector<std::int32_t>{-1, 2});  // truncation
  CHECK(tensor({0.0, -0.5, 3.0}).to(kBool).to_vector<bool>() == std::vector<bool>{false, true, true});
  CHECK(tensor({1.0}).to(kBool).item<bool>());
  CHECK(tensor({300.0}).to(kInt32).to(kUInt8).item<std::uint8_t>() == 44);  // 300 mod 256, as PyTorch
  CHECK(tensor({-1.0}).to(kUInt8).item<std::uint8_t>() == 255);  // through int64, as c10 converts
}

TEST_CASE("bfloat16 and float16 round to nearest even, keep specials", "[dtype]") {
  const double inf = std::numeric_limits<double>::infinity();
  // bfloat16 has 8 significant bits: 1 + 2^-8 is a tie and rounds to even (1), 1 + 3 * 2^-8 to 1 + 2^-6.
  const Tensor b = tensor({1.0 + std::ldexp(1.0, -8), 1.0 + 3 * std::ldexp(1.0, -8), 1.0 / 3.0, -inf, 3.4e38}, {}, kFloat32)
                       .to(kBFloat16);
  const std::vector<double> bv = b.to_vector<double>();
  CHECK(bv[0] == 1.0);
  CHECK(bv[1] == 1.0 + std::ldexp(1.0, -6));
  CHECK(bv[2] == 0.333984375);  // 0x3EAB
  CHECK(bv[3] == -inf);
  CHECK(std::isinf(bv[4]));  // 3.4e38 rounds past bfloat16's largest finite, 3.39e38
  // float16: 11 significant bits, largest finite 65504, smallest subnormal 2^-24.
  const Tensor h = tensor({1.0 + std::ldexp(1.0, -11), 65504.0, 65520.0, std::ldexp(1.0, -24), std::ldexp(1.0, -26), 0.1}, {},
                          kFloat32)
                       .to(kFloat16);
  const std::vector<double> hv = h.to_vector<double>();
  CHECK(hv[0] == 1.0);  // a tie, to even
  CHECK(hv[1] == 65504.0);
  CHECK(hv[2] == inf);  // 65520 rounds up past the largest finite
  CHECK(hv[3] == std::ldexp(1.0, -24));
  CHECK(hv[4] == 0.0);
  CHECK(hv[5] == 0.0999755859375);  // 0x2E66
  CHECK(std::isnan(full({1}, std::nan(""), kFloat16).item<double>()));
  CHECK(std::isnan(full({1}, std::nan(""), kBFloat16).item<double>()));
}

TEST_CASE("comparisons give kBool tensors", "[dtype]") {
  const Tensor a = tensor({1, 2, 3}), b = tensor({3, 2, 1});
  const Tensor e = eq(a, b), g = a.gt(b);
  CHECK(e.dtype() == kBool);
  CHECK(g.dtype() == kBool);
  CHECK(e.to_vector<bool>() == std::vector<bool>{false, true, false});
  CHECK(g.to_vector<bool>() == std::vector<bool>{false, false, true});
  CHECK(eq(a, tensor({2})).to_vector<bool>() == std::vector<bool>{false, true, false});  // broadcast
  // Every comparison works in every dtype, with broadcasting.
  for (DType dtype : kDTypes) {
    INFO(dtype_name(dtype));
    const Tensor x = tensor({0, 1, 2, 1, 0, 1}, {2, 3}).to(dtype), y = tensor({1, 1, 0}).to(dtype);
    using B = std::vector<bool>;
    CHECK(eq(x, y).to_vector<bool>() == B{false, true, false, true, false, false});
    CHECK(ne(x, y).to_vector<bool>() == B{true, false, true, false, true, true});
    CHECK(gt(x, y).to_vector<bool>() == B{false, false, true, false, false, true});
    CHECK(ge(x, y).to_vector<bool>() == B{false, true, true, true, false, true});
    CHECK(lt(x, y).to_vector<bool>() == B{true, false, false, false, true, false});
    CHECK(x.le(y).to_vector<bool>() == B{true, true, false, true, true, false});
  }
  const double nan = std::nan("");
  const Tensor n = tensor({nan, 1.0}), one = tensor({1.0});
  CHECK(ne(n, n).to_vector<bool>() == std::vector<bool>{true, false});  // NaN != NaN
  CHECK(ge(n, one).to_vector<bool>() == std::vector<bool>{false, true});
  CHECK_THROWS_WITH(eq(arange(2.0, kInt64), tensor({1.0})), ContainsSubstring("eq") && ContainsSubstring("different dtypes"));
}

TEST_CASE("tensors of every dtype print as PyTorch prints them", "[dtype]") {
  CHECK(printed(tensor({1, 2, 3}).to(kInt64)) == "tensor([1, 2, 3])");
  CHECK(printed(tensor({1, -20}).to(kInt32)) == "tensor([  1, -20], dtype=int32)");
  CHECK(printed(tensor({0, 1}).to(kBool)) == "tensor([False,  True])");
  CHECK(printed(tensor({1.5, 2}).to(kBFloat16)) == "tensor([1.5000, 2.0000], dtype=bfloat16)");
  CHECK(printed(tensor({7}).to(kUInt8)) == "tensor(7, dtype=uint8)");  // one value: a 0-d tensor
}

TEST_CASE("arithmetic on a storage-only dtype names the op and the dtype", "[dtype]") {
  const Tensor i = arange(4.0, kInt64);
  CHECK_THROWS_WITH(i + i, ContainsSubstring("add") && ContainsSubstring("int64"));
  CHECK_THROWS_WITH(i.relu(), ContainsSubstring("relu") && ContainsSubstring("int64"));
  CHECK_THROWS_WITH(i.sum(), ContainsSubstring("sum") && ContainsSubstring("int64"));
  CHECK_THROWS_WITH(matmul(ones({2, 2}, kBool), ones({2, 2}, kBool)), ContainsSubstring("matmul") && ContainsSubstring("bool"));
  CHECK_THROWS_WITH(randn({2}, kInt32), ContainsSubstring("randn") && ContainsSubstring("int32"));
  // The optimizers step float32/float64 parameters only (master weights for bfloat16: not yet).
  Tensor w = ones({3}, kBFloat16).requires_grad_();
  (w * w).sum().backward();
  optim::SGD sgd({w}, {.lr = 0.1});
  CHECK_THROWS_WITH(sgd.step(), ContainsSubstring("sgd") && ContainsSubstring("bfloat16"));
  optim::Adam adam({w}, {.lr = 0.1});
  CHECK_THROWS_WITH(adam.step(), ContainsSubstring("adam") && ContainsSubstring("bfloat16"));
}

TEST_CASE("checkpoints keep every dtype bit for bit", "[dtype]") {
  NamedTensors saved;
  for (DType dtype : kDTypes) {
    saved.emplace_back(std::string(dtype_name(dtype)), tensor({0, 1, 0, 1, 1}).to(dtype));
  }
  saved.emplace_back("bf16_third", full({3}, 1.0 / 3.0, kBFloat16));
  const auto path = std::filesystem::temp_directory_path() / "ember_dtype_test.ember";
  save_tensors(saved, path.string());
  const NamedTensors loaded = load_tensors(path.string());
  std::filesystem::remove(path);
  REQUIRE(loaded.size() == saved.size());
  for (std::size_t k = 0; k < saved.size(); ++k) {
    INFO(saved[k].first);
    CHECK(loaded[k].second.dtype() == saved[k].second.dtype());
    CHECK(loaded[k].second.to_vector<double>() == saved[k].second.to_vector<double>());
  }
}
