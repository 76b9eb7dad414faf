#include "ember/core/storage.h"

#include "ember/core/host_pool.h"
#include "ember/kernels/device_runtime.h"

namespace ember {

std::shared_ptr<Storage> Storage::allocate(std::size_t nbytes, Device device) {
  void* data = kernels::runtime(device).allocate(nbytes, device.index());
  return host_pool::make_pooled<Storage>(PrivateTag{}, data, nbytes, device);
}

Storage::~Storage() { kernels::runtime(device_).deallocate(data_, nbytes_, device_.index()); }

}  // namespace ember
