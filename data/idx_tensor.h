// An IdxArray as an Ember tensor on the CPU: the one place where the IDX reader meets Tensor.
#pragma once

#include "ember/autograd/tensor.h"
#include "ember/data/idx.h"

namespace ember::data {

// A new CPU tensor of the array's dims and values. uint8, int32, float32 and float64 keep their
// type (kUInt8, kInt32, kFloat32, kFloat64); int8 and int16, which Ember has no dtype for, widen
// to kInt32, which holds every value of both exactly.
Tensor to_tensor(const IdxArray& array);

}  // namespace ember::data
