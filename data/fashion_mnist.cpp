#include "ember/data/fashion_mnist.h"

#include <cstdlib>
#include <filesystem>

namespace ember::data {

namespace {

constexpr std::int64_t kSide = 28;

struct Folder {
  std::string path;
  std::string chosen_by;  // for messages: why this folder was searched
};

Folder locate(std::string_view dir) {
  if (!dir.empty()) return {std::string(dir), "the folder given"};
  const std::string var(kFashionMnistEnvVar);
  if (const char* env = std::getenv(var.c_str()); env != nullptr && *env != '\0') {
    return {env, "from " + var};
  }
  return {std::string(kFashionMnistPackageDir), "where the " + std::string(kFashionMnistPackage) +
                                                    " package installs it; " + var + " is not set"};
}

std::string file_name(FashionMnistSplit split, std::string_view what) {
  return std::string(split == FashionMnistSplit::Train ? "train" : "t10k") + std::string(what);
}
constexpr std::string_view kImages = "-images-idx3-ubyte", kLabels = "-labels-idx1-ubyte";

// `name` in `folder`, gzipped as Debian and the data set's authors ship it, or gunzipped; empty
// when neither is there.
std::string find_file(const std::string& folder, const std::string& name) {
  for (const std::string& path : {folder + "/" + name + ".gz", folder + "/" + name}) {
    std::error_code error;
    if (std::filesystem::is_regular_file(path, error)) return path;
  }
  return {};
}

std::string require_file(const Folder& folder, const std::string& name) {
  std::string path = find_file(folder.path, name);
  EMBER_CHECK(!path.empty(), "Fashion-MNIST: no ", name, " or ", name, ".gz in '", folder.path,
              "' (", folder.chosen_by, "). Install the data with `sudo apt-get install ",
              kFashionMnistPackage, "` (or scripts/install_deps.sh), or set ", kFashionMnistEnvVar,
              " to a folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]");
  return path;
}

}  // namespace

std::string fashion_mnist_dir(std::string_view dir) { return locate(dir).path; }

bool fashion_mnist_available(std::string_view dir) {
  const std::string folder = fashion_mnist_dir(dir);
  for (FashionMnistSplit split : {FashionMnistSplit::Train, FashionMnistSplit::Test}) {
    for (std::string_view what : {kImages, kLabels}) {
      if (find_file(folder, file_name(split, what)).empty()) return false;
    }
  }
  return true;
}

FashionMnist load_fashion_mnist(FashionMnistSplit split, std::string_view dir) {
  const Folder folder = locate(dir);
  const std::string images_path = require_file(folder, file_name(split, kImages));
  const std::string labels_path = require_file(folder, file_name(split, kLabels));
  FashionMnist out{load_idx(images_path), load_idx(labels_path)};

  const auto& dims = out.images.dims;
  EMBER_CHECK(out.images.type() == IdxType::UInt8 && dims.size() == 3 && dims[1] == kSide &&
                  dims[2] == kSide,
              "Fashion-MNIST: '", images_path, "' holds ", idx_describe(dims, out.images.type()),
              ", not N x 28 x 28 uint8 images");
  EMBER_CHECK(out.labels.type() == IdxType::UInt8 && out.labels.dims.size() == 1,
              "Fashion-MNIST: '", labels_path, "' holds ",
              idx_describe(out.labels.dims, out.labels.type()), ", not N uint8 labels");
  EMBER_CHECK(dims[0] == out.labels.dims[0], "Fashion-MNIST: '", images_path, "' holds ", dims[0],
              " images but '", labels_path, "' holds ", out.labels.dims[0], " labels");
  const std::vector<std::uint8_t>& labels = out.labels.as<std::uint8_t>();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    EMBER_CHECK(labels[i] < kFashionMnistClasses.size(), "Fashion-MNIST: '", labels_path,
                "' has label ", int{labels[i]}, " at index ", i, "; labels are 0 to ",
                kFashionMnistClasses.size() - 1);
  }
  return out;
}

}  // namespace ember::data
