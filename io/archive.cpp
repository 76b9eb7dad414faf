#include "ember/io/archive.h"

#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <unistd.h>

#include "ember/core/log.h"
#include "ember/core/ops.h"

namespace ember {

namespace {

static_assert(std::endian::native == std::endian::little, "archives assume a little-endian host");
constexpr char kMagic[8] = {'E', 'M', 'B', 'E', 'R', 'T', 'N', 'S'};

std::uint64_t fnv1a(const char* data, std::size_t n) {  // the checksum; archive_checksum exposes it
  std::uint64_t h = 14695981039346656037ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}

template <typename T> void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

// Reads fields from the loaded bytes, failing with the file's name when it runs short.
class Reader {
 public:
  Reader(std::string_view data, std::size_t end, const std::string& path)
      : data_(data), end_(end), path_(path) {}
  template <typename T> T get() {
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  const char* take(std::size_t n) {
    EMBER_CHECK(n <= end_ - pos_, "load: '", path_, "' is truncated or malformed (needed ", n,
                " more bytes at offset ", pos_, ")");
    const char* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }
  bool done() const { return pos_ == end_; }

 private:
  std::string_view data_;
  std::size_t end_, pos_ = 0;
  const std::string& path_;
};

// Whether the entries `data` declares run past its end: tells a truncated file (an interrupted
// copy) from one whose bytes were changed, once the checksum has failed.
bool runs_short(std::string_view data) {
  std::size_t pos = sizeof kMagic + sizeof(std::uint32_t);
  auto skip = [&](std::uint64_t n) {
    if (n > data.size() - pos) return false;
    pos += static_cast<std::size_t>(n);
    return true;
  };
  auto read = [&](auto& value) {
    if (!skip(sizeof value)) return false;
    std::memcpy(&value, data.data() + pos - sizeof value, sizeof value);
    return true;
  };
  std::uint32_t count = 0;
  if (!read(count)) return true;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t name_length = 0;
    std::uint8_t dtype = 0, ndim = 0;
    std::uint64_t nbytes = 0;
    if (!read(name_length) || !skip(name_length) || !read(dtype) || !read(ndim) ||
        !skip(std::uint64_t{ndim} * sizeof(std::int64_t)) || !read(nbytes) || !skip(nbytes)) {
      return true;
    }
  }
  return data.size() - pos < sizeof(std::uint64_t);  // no room left for the checksum
}

// Writes all bytes to `path` through a temporary file, fsync and rename.
void write_atomically(const std::string& bytes, const std::string& path) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EMBER_CHECK(fd >= 0, "save: cannot create '", tmp, "': ", std::strerror(errno));
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      EMBER_FAIL("save: writing '", tmp, "' failed: ", std::strerror(err));
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    EMBER_FAIL("save: could not write '", path, "': ", std::strerror(err));
  }
}

}  // namespace

std::uint64_t archive_checksum(std::string_view bytes) { return fnv1a(bytes.data(), bytes.size()); }

void save_tensors(const NamedTensors& tensors, const std::string& path) {
  std::string out(kMagic, sizeof kMagic);
  put<std::uint32_t>(out, kArchiveVersion);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(tensors.size()));
  for (const auto& [name, t] : tensors) {
    EMBER_CHECK(t.defined(), "save: tensor '", name, "' is undefined");
    put<std::uint32_t>(out, static_cast<std::uint32_t>(name.size()));
    out += name;
    put<std::uint8_t>(out, static_cast<std::uint8_t>(t.dtype()));  // the position in EMBER_DTYPES
    put<std::uint8_t>(out, static_cast<std::uint8_t>(t.dim()));
    for (std::int64_t d : t.shape()) put<std::int64_t>(out, d);
    const Tensor host = ops::contiguous(ops::to_device(t, Device::cpu()));
    const std::uint64_t nbytes = static_cast<std::uint64_t>(host.numel()) * element_size(host.dtype());
    put<std::uint64_t>(out, nbytes);
    out.append(static_cast<const char*>(host.raw_data()), nbytes);
  }
  put<std::uint64_t>(out, fnv1a(out.data(), out.size()));
  write_atomically(out, path);
  logging::debug("saved {} tensors ({} bytes) to '{}'", tensors.size(), out.size(), path);
}

NamedTensors load_tensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EMBER_CHECK(in.good(), "load: cannot open '", path, "' (", std::strerror(errno), ")");
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_tensors(data, path);
}

NamedTensors parse_tensors(std::string_view data, const std::string& path) {
  EMBER_CHECK(data.size() >= sizeof kMagic + 16 && std::memcmp(data.data(), kMagic, sizeof kMagic) == 0,
              "load: '", path, "' is not an Ember tensor archive (bad magic or too short: ",
              data.size(), " bytes)");
  std::uint32_t version;
  std::memcpy(&version, data.data() + sizeof kMagic, sizeof version);
  EMBER_CHECK(version == kArchiveVersion, "load: '", path, "' has format version ", version,
              ", this Ember reads version ", kArchiveVersion);
  const std::size_t body = data.size() - sizeof(std::uint64_t);
  std::uint64_t stored;
  std::memcpy(&stored, data.data() + body, sizeof stored);
  if (stored != fnv1a(data.data(), body)) {
    EMBER_CHECK(!runs_short(data), "load: '", path, "' is truncated (checksum mismatch): its ",
                data.size(), " bytes end before the tensors it declares (an interrupted copy?)");
    EMBER_FAIL("load: '", path, "' is corrupted: checksum mismatch (its bytes changed after it was "
               "written)");
  }

  Reader r(data, body, path);
  r.take(sizeof kMagic + sizeof version);
  const auto count = r.get<std::uint32_t>();
  NamedTensors out;
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto name_length = r.get<std::uint32_t>();
    std::string name(r.take(name_length), name_length);
    const auto dtype_code = r.get<std::uint8_t>();
    const auto ndim = r.get<std::uint8_t>();
    EMBER_CHECK(dtype_code < kDTypeCount && ndim <= kMaxDims, "load: '", path, "': tensor '", name,
                "' has an invalid dtype code or rank");
    Shape shape;
    for (int d = 0; d < ndim; ++d) {
      const auto size = r.get<std::int64_t>();
      EMBER_CHECK(size >= 0, "load: '", path, "': tensor '", name, "' has a negative size");
      shape.push_back(size);
    }
    const auto dtype = static_cast<DType>(dtype_code);
    const auto nbytes = r.get<std::uint64_t>();
    const auto numel = static_cast<std::uint64_t>(shape.numel());
    // Compared by division: numel * element size could overflow for a crafted shape.
    EMBER_CHECK(nbytes % element_size(dtype) == 0 && nbytes / element_size(dtype) == numel, "load: '",
                path, "': tensor '", name, "' holds ", nbytes, " bytes, but its shape ", shape, " of ",
                dtype, " needs ", numel, " elements of ", element_size(dtype), " bytes");
    const char* bytes = r.take(nbytes);
    Tensor t = ops::empty(shape, dtype);
    if (nbytes) std::memcpy(t.raw_data(), bytes, nbytes);
    out.emplace_back(std::move(name), std::move(t));
  }
  EMBER_CHECK(r.done(), "load: '", path, "' has trailing bytes after its last tensor");
  logging::debug("loaded {} tensors ({} bytes) from '{}'", out.size(), data.size(), path);
  return out;
}

}  // namespace ember
