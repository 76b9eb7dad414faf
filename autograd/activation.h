// The activation an op may apply to its own output before returning it (ember::linear's
// `activation` argument, nn::LinearOptions::activation). Fusing is the caller's explicit choice:
// no module or op recognises a pattern and fuses behind the caller's back.
#pragma once

namespace ember {

enum class Activation {
  None,  // the op's own result
  Relu,  // relu(result), applied where the result is made (on CUDA, in the GEMM's epilogue)
};

}  // namespace ember
