// Resumable training checkpoints: a model's weights, its optimizer's state and the global random
// generator's state in one tensor archive (io/archive.h), so that training stopped after step N
// and resumed from the file, in the same process or another one, continues exactly as if it had
// never stopped (bit for bit on the same build and device).
//
//   ember::nn::save_checkpoint("run.ckpt", model, optimizer);   // every few hundred steps
//   ...                                                          // later, in a new process:
//   Net model;                                                   // same architecture
//   ember::optim::Adam optimizer(model.parameters(), options);   // same kind of optimizer
//   ember::nn::load_checkpoint("run.ckpt", model, optimizer);
//
// Entries: "model.<name>" for every parameter and buffer (nn::state_dict), "optim.<name>" for the
// optimizer's state (Optimizer::state_dict: Adam's step counts and moments, SGD's momentum
// buffers), and "rng.seed" / "rng.offset": each a float64 tensor {high 32 bits, low 32 bits} of
// the 64-bit value, exact. Optimizer options (lr, betas, ...) are not stored: construct the
// optimizer with the options of the run being resumed.
#pragma once

#include <string>

#include "ember/io/archive.h"
#include "ember/nn/module.h"
#include "ember/optim/optimizer.h"

namespace ember::nn {

// Writes the checkpoint atomically (temporary file, fsync, rename): a crash or kill during the
// save leaves the previous file at `path` whole. A killed save may leave "<path>.tmp.<pid>"
// behind, which is safe to delete. Tensors may be on any device. Throws ember::Error on I/O errors.
void save_checkpoint(const std::string& path, const Module& model,
                     const optim::Optimizer& optimizer);

// Restores the model's tensors, the optimizer's state and the global generator (get_rng_state)
// from `path`, moving tensors to the device and dtype of the model's tensors. The whole file is
// checked first (missing, truncated, corrupted, other format version, names and shapes against
// the model and the optimizer, the generator entries); on any error it throws ember::Error naming
// the problem and the file, and the model, the optimizer and the generator are unchanged.
void load_checkpoint(const std::string& path, Module& model, optim::Optimizer& optimizer);

// The same, in memory: the entries save_checkpoint writes, and their validated restore.
NamedTensors checkpoint_state(const Module& model, const optim::Optimizer& optimizer);
void load_checkpoint_state(const NamedTensors& state, Module& model, optim::Optimizer& optimizer);

}  // namespace ember::nn
