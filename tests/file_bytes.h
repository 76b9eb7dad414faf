// Whole-file reads and writes for the tests that damage files on purpose (checkpoints, weights).
#pragma once

#include <fstream>
#include <iterator>
#include <string>

namespace ember::test {

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void write_bytes(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

}  // namespace ember::test
