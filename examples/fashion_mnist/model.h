// The Fashion-MNIST classifier of examples/fashion_mnist: two convolution blocks (conv 3x3, batch
// norm, ReLU, 2x2 max pool: 28x28 -> 14x14 -> 7x7), then a hidden linear layer with dropout and the
// 10-way output. The same network as bench/torch_fashion_cnn.py's FashionCnn, layer for layer, so
// that losses and timings compare like for like (tests/fashion_cnn_test.cpp checks 20 steps of it
// against PyTorch).
#pragma once

#include <ember/ember.h>

namespace fashion {

struct FashionCnnOptions {
  std::int64_t channels1 = 32;
  std::int64_t channels2 = 64;
  std::int64_t hidden = 128;
  double dropout = 0.25;
};

struct FashionCnn : ember::nn::Module {
  explicit FashionCnn(const FashionCnnOptions& o = {})
      : conv1(register_module("conv1", ember::nn::Conv2d(1, o.channels1, 3, {.padding = 1}))),
        bn1(register_module("bn1", ember::nn::BatchNorm2d(o.channels1))),
        conv2(register_module("conv2", ember::nn::Conv2d(o.channels1, o.channels2, 3, {.padding = 1}))),
        bn2(register_module("bn2", ember::nn::BatchNorm2d(o.channels2))),
        fc1(register_module("fc1", ember::nn::Linear(o.channels2 * 7 * 7, o.hidden))),
        drop(register_module("drop", ember::nn::Dropout(o.dropout))),
        fc2(register_module("fc2", ember::nn::Linear(o.hidden, 10))) {}

  // images [N, 1, 28, 28] -> logits [N, 10]
  ember::Tensor forward(const ember::Tensor& images) {
    ember::Tensor x = ember::max_pool2d(ember::relu(bn1(conv1(images))), 2);
    x = ember::max_pool2d(ember::relu(bn2(conv2(x))), 2);
    x = ember::flatten(x, 1);
    x = drop(ember::relu(fc1(x)));
    return fc2(x);
  }

  ember::nn::Conv2d conv1;
  ember::nn::BatchNorm2d bn1;
  ember::nn::Conv2d conv2;
  ember::nn::BatchNorm2d bn2;
  ember::nn::Linear fc1;
  ember::nn::Dropout drop;
  ember::nn::Linear fc2;
};

}  // namespace fashion
