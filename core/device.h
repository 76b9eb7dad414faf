// Where a tensor's memory lives: the host, or one CUDA device.
#pragma once

#include <cstdint>
#include <string>

namespace ember {

enum class DeviceType : std::uint8_t { CPU = 0, CUDA = 1 };

class Device {
 public:
  constexpr Device() = default;
  constexpr Device(DeviceType type, int index) : type_(type), index_(index) {}

  static constexpr Device cpu() { return {DeviceType::CPU, 0}; }
  static constexpr Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  // Parses "cpu", "cuda" or "cuda:N"; throws ember::Error otherwise.
  static Device parse(const std::string& text);

  constexpr DeviceType type() const { return type_; }
  constexpr int index() const { return index_; }
  constexpr bool is_cpu() const { return type_ == DeviceType::CPU; }
  constexpr bool is_cuda() const { return type_ == DeviceType::CUDA; }

  std::string str() const;  // "cpu" or "cuda:0", as PyTorch prints them

  friend constexpr bool operator==(Device a, Device b) = default;

 private:
  DeviceType type_ = DeviceType::CPU;
  int index_ = 0;
};

}  // namespace ember
