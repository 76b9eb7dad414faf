// Tensor archives: named tensors in one file, the format behind model and optimizer checkpoints.
//
// Format, version 1 (all integers little-endian):
//   magic "EMBERTNS" (8 bytes) | u32 version | u32 count
//   count x { u32 name_length | name bytes | u8 dtype (0 float32, 1 float64) | u8 ndim |
//             ndim x i64 size | u64 byte_count | raw row-major data }
//   u64 checksum: FNV-1a 64 of every byte before it
// Writing goes to a temporary file in the same folder, flushed to disk, then renamed over the
// target, so a crash mid-write leaves the previous file whole.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ember/autograd/tensor.h"

namespace ember {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

inline constexpr std::uint32_t kArchiveVersion = 1;

// Writes the tensors (from any device) to `path` atomically. Throws ember::Error on I/O failure.
void save_tensors(const NamedTensors& tensors, const std::string& path);
// Reads every tensor of `path` onto the CPU. Throws ember::Error naming the problem when the file
// is missing, truncated, corrupted (checksum), of another version, or malformed.
NamedTensors load_tensors(const std::string& path);
// The same from bytes already in memory; `source` names them in error messages (the fuzz target
// of fuzz/ calls this).
NamedTensors parse_tensors(std::string_view bytes, const std::string& source);
// The checksum that ends an archive, over the bytes before it.
std::uint64_t archive_checksum(std::string_view bytes);

}  // namespace ember
