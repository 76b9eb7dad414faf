// Fashion-MNIST (data/fashion_mnist.h): where the data is looked for, a split read and checked from
// small files made here, the errors for missing and inconsistent files, and the real data set when
// Debian's dataset-fashion-mnist is installed (skipped, visibly, when it is not).
#include <ember/ember.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "catch.h"
#include "file_bytes.h"
#include "idx_support.h"
#include "temp_dir.h"

using namespace ember;
using namespace ember::data;
using namespace ember::test;
using Catch::Matchers::ContainsSubstring;

namespace {

// Sets (or unsets, with nullopt) an environment variable for one scope, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    set(value);
  }
  ~ScopedEnv() { set(old_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void set(const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name_, value->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  const char* name_;
  std::optional<std::string> old_;
};

constexpr const char* kEnv = "EMBER_FASHION_MNIST_DIR";

// n images whose pixel (r, c) of image i is (i + r + c) mod 256, and the given labels.
std::string images_file(std::uint32_t n, std::uint32_t rows = 28, std::uint32_t cols = 28) {
  std::string pixels;
  for (std::uint32_t i = 0; i < n; ++i) {
    for (std::uint32_t r = 0; r < rows; ++r) {
      for (std::uint32_t c = 0; c < cols; ++c) pixels += static_cast<char>((i + r + c) % 256);
    }
  }
  return idx_file(0x08, {n, rows, cols}, pixels);
}
std::string labels_file(const std::string& labels) {
  return idx_file(0x08, {static_cast<std::uint32_t>(labels.size())}, labels);
}

std::string load_error(FashionMnistSplit split, const std::string& dir) {
  return error_message([&] { (void)load_fashion_mnist(split, dir); });
}

}  // namespace

TEST_CASE("fashion_mnist_dir takes the folder given, then EMBER_FASHION_MNIST_DIR, then Debian's",
          "[fashion-mnist]") {
  {
    ScopedEnv env(kEnv, std::nullopt);
    CHECK(fashion_mnist_dir() == "/usr/share/datasets/fashion-mnist");
    CHECK(fashion_mnist_dir("/data/fm") == "/data/fm");
  }
  {
    ScopedEnv env(kEnv, "");  // set but empty: as if unset
    CHECK(fashion_mnist_dir() == "/usr/share/datasets/fashion-mnist");
  }
  {
    ScopedEnv env(kEnv, "/from/env");
    CHECK(fashion_mnist_dir() == "/from/env");
    CHECK(fashion_mnist_dir("/data/fm") == "/data/fm");
  }
}

TEST_CASE("load_fashion_mnist reads a split, gzipped or not, from the folder it is pointed at",
          "[fashion-mnist]") {
  TempDir dir("fashion_mnist_small");
  write_bytes(dir / "train-images-idx3-ubyte.gz", gzip(images_file(3)));
  write_bytes(dir / "train-labels-idx1-ubyte", labels_file(std::string("\x09\x00\x03", 3)));
  write_bytes(dir / "t10k-images-idx3-ubyte", images_file(2));
  write_bytes(dir / "t10k-labels-idx1-ubyte.gz", gzip(labels_file(std::string("\x01\x08", 2))));

  ScopedEnv env(kEnv, dir.path.string());
  CHECK(fashion_mnist_available());
  const FashionMnist train = load_fashion_mnist(FashionMnistSplit::Train);
  CHECK(train.size() == 3);
  CHECK(train.images.dims == std::vector<std::int64_t>{3, 28, 28});
  CHECK(train.labels.as<std::uint8_t>() == std::vector<std::uint8_t>{9, 0, 3});
  const std::vector<std::uint8_t>& pixels = train.images.as<std::uint8_t>();
  CHECK(pixels[0] == 0);                      // image 0, (0, 0)
  CHECK(pixels[28 * 28 + 5 * 28 + 7] == 13);  // image 1, (5, 7)
  CHECK(pixels[2 * 28 * 28 + 27 * 28 + 27] == 56);

  const FashionMnist test = load_fashion_mnist(FashionMnistSplit::Test);
  CHECK(test.size() == 2);
  CHECK(test.labels.as<std::uint8_t>() == std::vector<std::uint8_t>{1, 8});
  CHECK(to_tensor(test.images).shape() == Shape{2, 28, 28});
  CHECK(kFashionMnistClasses[8] == "Bag");

  // The folder given wins over the environment.
  TempDir empty("fashion_mnist_empty");
  CHECK_FALSE(fashion_mnist_available(empty.path.string()));
  CHECK_THROWS_AS(load_fashion_mnist(FashionMnistSplit::Train, empty.path.string()), Error);
}

TEST_CASE("a missing Fashion-MNIST says where it looked and how to install it", "[fashion-mnist]") {
  TempDir dir("fashion_mnist_missing");
  {
    const std::string message = load_error(FashionMnistSplit::Train, dir.path.string());
    CHECK_THAT(message, ContainsSubstring("train-images-idx3-ubyte") &&
                            ContainsSubstring("'" + dir.path.string() + "'") &&
                            ContainsSubstring("the folder given") &&
                            ContainsSubstring("sudo apt-get install dataset-fashion-mnist") &&
                            ContainsSubstring("scripts/install_deps.sh") &&
                            ContainsSubstring("EMBER_FASHION_MNIST_DIR"));
  }
  {
    ScopedEnv env(kEnv, (dir.path / "nothing").string());
    CHECK_FALSE(fashion_mnist_available());
    CHECK_THROWS_WITH(load_fashion_mnist(FashionMnistSplit::Test),
                      ContainsSubstring("t10k-images-idx3-ubyte") &&
                          ContainsSubstring("from EMBER_FASHION_MNIST_DIR") &&
                          ContainsSubstring("sudo apt-get install dataset-fashion-mnist"));
  }
  // Images present, labels missing: the message names the labels.
  write_bytes(dir / "train-images-idx3-ubyte", images_file(1));
  CHECK_THAT(load_error(FashionMnistSplit::Train, dir.path.string()),
             ContainsSubstring("no train-labels-idx1-ubyte or train-labels-idx1-ubyte.gz"));
}

TEST_CASE("load_fashion_mnist refuses files that are not Fashion-MNIST's shapes or labels",
          "[fashion-mnist]") {
  TempDir dir("fashion_mnist_bad");
  const std::string folder = dir.path.string();
  const std::string images = dir / "train-images-idx3-ubyte",
                    labels = dir / "train-labels-idx1-ubyte";

  write_bytes(images, images_file(3));
  write_bytes(labels, labels_file(std::string("\x01\x02", 2)));
  CHECK_THAT(load_error(FashionMnistSplit::Train, folder),
             ContainsSubstring("holds 3 images but") && ContainsSubstring("holds 2 labels"));

  write_bytes(labels, labels_file(std::string("\x01\x0a\x02", 3)));
  CHECK_THAT(load_error(FashionMnistSplit::Train, folder),
             ContainsSubstring("has label 10 at index 1") && ContainsSubstring("0 to 9"));

  write_bytes(labels, labels_file(std::string("\x01\x02\x03", 3)));
  write_bytes(images, images_file(3, 27, 28));
  CHECK_THAT(load_error(FashionMnistSplit::Train, folder),
             ContainsSubstring("holds 3 x 27 x 28 uint8") && ContainsSubstring("not N x 28 x 28"));

  write_bytes(images, images_file(3));
  write_bytes(labels, idx_file(0x0C, {3}, std::string(12, '\0')));
  CHECK_THAT(load_error(FashionMnistSplit::Train, folder),
             ContainsSubstring("holds 3 int32") && ContainsSubstring("not N uint8 labels"));

  write_bytes(labels, labels_file(std::string("\x01\x02\x03", 3)).substr(0, 10));  // truncated
  CHECK_THAT(load_error(FashionMnistSplit::Train, folder),
             ContainsSubstring("is truncated") && ContainsSubstring(labels));
}

TEST_CASE("the real Fashion-MNIST of Debian's dataset-fashion-mnist package", "[fashion-mnist]") {
  if (!fashion_mnist_available()) {
    EMBER_SKIP("no Fashion-MNIST in '" << fashion_mnist_dir()
                                       << "': sudo apt-get install dataset-fashion-mnist");
  }
  const FashionMnist train = load_fashion_mnist(FashionMnistSplit::Train);
  const FashionMnist test = load_fashion_mnist(FashionMnistSplit::Test);
  REQUIRE(train.size() == 60000);
  REQUIRE(test.size() == 10000);
  CHECK(train.images.dims == std::vector<std::int64_t>{60000, 28, 28});
  CHECK(test.images.dims == std::vector<std::int64_t>{10000, 28, 28});

  // Each class appears 6000 times in training and 1000 in test (Zalando's README).
  for (const auto& [split, per_class] : {std::pair{&train, 6000}, std::pair{&test, 1000}}) {
    std::vector<int> counts(10, 0);
    for (std::uint8_t label : split->labels.as<std::uint8_t>()) ++counts.at(label);
    CHECK(counts == std::vector<int>(10, per_class));
  }
  // Known values, read from the package's files with Python's gzip module: both splits start with
  // an ankle boot (label 9); the first training image's pixels sum to 76247, and its row 14 ends
  // ..., 218, 255, 77, 0.
  CHECK(train.labels.as<std::uint8_t>()[0] == 9);
  CHECK(test.labels.as<std::uint8_t>()[0] == 9);
  const std::vector<std::uint8_t>& pixels = train.images.as<std::uint8_t>();
  long sum = 0;
  for (int i = 0; i < 28 * 28; ++i) sum += pixels[static_cast<std::size_t>(i)];
  CHECK(sum == 76247);
  CHECK(pixels[14 * 28 + 24] == 218);
  CHECK(pixels[14 * 28 + 25] == 255);
  CHECK(pixels[14 * 28 + 26] == 77);
  CHECK(pixels[14 * 28 + 27] == 0);

  const Tensor images = to_tensor(test.images);
  CHECK(images.dtype() == kUInt8);
  CHECK(images.shape() == Shape{10000, 28, 28});
}
