// Fashion-MNIST (Zalando's 28x28 grey images of clothes in 10 classes: 60,000 to train on, 10,000
// to test), read from the IDX files of Debian's `dataset-fashion-mnist` package or from any folder
// that holds the same four files, gzipped or not.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ember/data/idx.h"

namespace ember::data {

// Where the data is looked for, first to last: the folder a program is given (say, by a --data
// flag), then this environment variable, then the Debian package's folder.
inline constexpr std::string_view kFashionMnistEnvVar = "EMBER_FASHION_MNIST_DIR";
inline constexpr std::string_view kFashionMnistPackage = "dataset-fashion-mnist";
inline constexpr std::string_view kFashionMnistPackageDir = "/usr/share/datasets/fashion-mnist";

// The classes, by label.
inline constexpr std::array<std::string_view, 10> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

enum class FashionMnistSplit { Train, Test };

struct FashionMnist {
  IdxArray images;  // N x 28 x 28 uint8, row-major, 0 is the background
  IdxArray labels;  // N uint8, each in 0..9 (kFashionMnistClasses)
  std::int64_t size() const { return labels.numel(); }
};

// The folder to read: `dir` when it is not empty, else $EMBER_FASHION_MNIST_DIR when set and not
// empty, else kFashionMnistPackageDir. Does not look inside it.
std::string fashion_mnist_dir(std::string_view dir = {});
// Whether that folder holds all four files (each gzipped or not).
bool fashion_mnist_available(std::string_view dir = {});
// One split, checked: images N x 28 x 28 and labels N, both uint8, the same N, labels in 0..9.
// Throws ember::Error naming the folder, how it was chosen and how to install the data when a
// file is missing, and naming the file and the problem when one is malformed.
FashionMnist load_fashion_mnist(FashionMnistSplit split, std::string_view dir = {});

}  // namespace ember::data
