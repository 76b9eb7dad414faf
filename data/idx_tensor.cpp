#include "ember/data/idx_tensor.h"

#include <algorithm>
#include <type_traits>

#include "ember/autograd/factories.h"

namespace ember::data {

Tensor to_tensor(const IdxArray& array) {
  return std::visit(
      [&](const auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        using Out =
            std::conditional_t<std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::int16_t>,
                               std::int32_t, T>;
        Tensor t = empty(Shape(array.dims), dtype_of_v<Out>);
        std::copy(values.begin(), values.end(), t.data_ptr<Out>());
        return t;
      },
      array.values);
}

}  // namespace ember::data
