// ResNet-18 in its CIFAR form (He et al. 2016, as in kuangliu/pytorch-cifar and torchvision's
// BasicBlock): a 3x3 stem without max pooling, four stages of two basic blocks (64, 128, 256 and
// 512 channels, the last three starting with stride 2 and a 1x1 projection shortcut), global
// average pooling and a linear classifier. bench/torch_resnet.py defines the same network.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ember/ember.h>

namespace bench {

// conv3x3-bn-relu-conv3x3-bn, plus the input (projected by conv1x1-bn when the shape changes), relu.
struct BasicBlock : ember::nn::Module {
  BasicBlock(std::int64_t in, std::int64_t out, std::int64_t stride)
      : conv1(register_module("conv1", ember::nn::Conv2d(in, out, 3, {.stride = stride, .padding = 1, .bias = false}))),
        bn1(register_module("bn1", ember::nn::BatchNorm2d(out))),
        conv2(register_module("conv2", ember::nn::Conv2d(out, out, 3, {.padding = 1, .bias = false}))),
        bn2(register_module("bn2", ember::nn::BatchNorm2d(out))) {
    if (stride != 1 || in != out) {
      shortcut_conv = register_module("shortcut_conv", ember::nn::Conv2d(in, out, 1, {.stride = stride, .bias = false}));
      shortcut_bn = register_module("shortcut_bn", ember::nn::BatchNorm2d(out));
    }
  }

  ember::Tensor forward(const ember::Tensor& x) {
    const ember::Tensor y = bn2(conv2(ember::relu(bn1(conv1(x)))));
    return ember::relu(y + (shortcut_conv ? (*shortcut_bn)((*shortcut_conv)(x)) : x));
  }

  ember::nn::Conv2d conv1;
  ember::nn::BatchNorm2d bn1;
  ember::nn::Conv2d conv2;
  ember::nn::BatchNorm2d bn2;
  std::optional<ember::nn::Conv2d> shortcut_conv;
  std::optional<ember::nn::BatchNorm2d> shortcut_bn;
};

struct ResNet18 : ember::nn::Module {
  explicit ResNet18(std::int64_t classes = 10)
      : stem(register_module("conv1", ember::nn::Conv2d(3, 64, 3, {.padding = 1, .bias = false}))),
        stem_bn(register_module("bn1", ember::nn::BatchNorm2d(64))),
        fc(register_module("fc", ember::nn::Linear(512, classes))) {
    std::int64_t in = 64;
    int index = 0;
    for (std::int64_t width : {64, 128, 256, 512}) {
      for (int b = 0; b < 2; ++b) {
        const std::int64_t stride = (b == 0 && width != 64) ? 2 : 1;
        blocks.push_back(std::make_shared<BasicBlock>(in, width, stride));
        register_module("block" + std::to_string(index++), blocks.back());
        in = width;
      }
    }
  }

  ember::Tensor forward(const ember::Tensor& images) {
    ember::Tensor x = ember::relu(stem_bn(stem(images)));
    for (const auto& block : blocks) x = block->forward(x);
    x = ember::flatten(ember::adaptive_avg_pool2d(x, 1), 1);
    return fc(x);
  }

  ember::nn::Conv2d stem;
  ember::nn::BatchNorm2d stem_bn;
  std::vector<std::shared_ptr<BasicBlock>> blocks;
  ember::nn::Linear fc;
};

}  // namespace bench
