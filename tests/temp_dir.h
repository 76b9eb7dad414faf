// A fresh folder for one test's files, removed with everything in it when the test ends. The name
// carries the process id, since CTest runs tests in parallel processes.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace ember::test {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("ember_test_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& file) const { return (path / file).string(); }
};

}  // namespace ember::test
