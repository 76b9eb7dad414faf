// Storage: one buffer of device or host memory, shared by a tensor and all of its views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "ember/core/device.h"

namespace ember {

class Storage {
 public:
  // Allocates `nbytes` on `device` through that device's backend (throws if it cannot).
  static std::shared_ptr<Storage> allocate(std::size_t nbytes, Device device);

  struct PrivateTag {};  // lets the pool reach the constructor while users cannot
  Storage(PrivateTag, void* data, std::size_t nbytes, Device device)
      : data_(data), nbytes_(nbytes), device_(device) {}
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();

  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // Bumped by every in-place write, so autograd can tell when a tensor it saved was modified.
  std::uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_;
  std::size_t nbytes_;
  Device device_;
  std::uint64_t version_ = 0;
};

}  // namespace ember
