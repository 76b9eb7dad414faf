#include "ember/core/storage.h"

#include "ember/core/host_pool.h"
#include "ember/kernels/backend.h"

namespace ember {

std::shared_ptr<Storage> Storage::allocate(std::size_t nbytes, Device device) {
  const kernels::Backend& backend = kernels::backend(device);
  void* data = backend.allocate(nbytes, device.index());
  return host_pool::make_pooled<Storage>(PrivateTag{}, data, nbytes, device);
}

Storage::~Storage() { kernels::backend(device_).deallocate(data_, nbytes_, device_.index()); }

}  // namespace ember
