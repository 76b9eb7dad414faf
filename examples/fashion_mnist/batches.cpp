#include "fashion_mnist/batches.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace fashion {

Dataset::Dataset(const ember::data::FashionMnist& raw) {
  constexpr float kMean = 0.2860f, kStd = 0.3530f;
  const std::int64_t n = raw.size();
  const std::vector<std::uint8_t>& pixels = raw.images.as<std::uint8_t>();
  pixels_.resize(static_cast<std::size_t>(n * kPixels));
  for (std::size_t i = 0; i < pixels_.size(); ++i) pixels_[i] = (static_cast<float>(pixels[i]) / 255.0f - kMean) / kStd;
  const std::vector<std::uint8_t>& labels = raw.labels.as<std::uint8_t>();
  labels_.assign(labels.begin(), labels.begin() + n);
}

Batches::Batches(const Dataset& data, std::int64_t batch_size, bool drop_last, std::mt19937_64* rng)
    : data_(&data), batch_size_(batch_size) {
  order_.resize(static_cast<std::size_t>(data.size()));
  std::iota(order_.begin(), order_.end(), 0);
  if (rng != nullptr) std::shuffle(order_.begin(), order_.end(), *rng);
  count_ = drop_last ? data.size() / batch_size : (data.size() + batch_size - 1) / batch_size;
}

Batch Batches::get(std::int64_t b, ember::Device device) const {
  const std::int64_t begin = b * batch_size_;
  const std::int64_t n = std::min(batch_size_, data_->size() - begin);
  ember::Tensor images = ember::empty({n, 1, 28, 28});
  ember::Tensor labels = ember::empty({n}, ember::kInt64);
  float* image_out = images.data_ptr<float>();
  std::int64_t* label_out = labels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t example = order_[static_cast<std::size_t>(begin + i)];
    std::memcpy(image_out + i * Dataset::kPixels, data_->image(example), sizeof(float) * Dataset::kPixels);
    label_out[i] = data_->label(example);
  }
  return {images.to(device), labels.to(device)};
}

}  // namespace fashion
