// The IDX reader (data/idx.h) on files made here: values and byte order for every element type,
// gzipped or not whatever the name, the tensors it makes, and a table of bad files, each refused
// with an ember::Error that names the file and the problem.
#include <ember/ember.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "catch.h"
#include "file_bytes.h"
#include "idx_support.h"
#include "temp_dir.h"

using namespace ember;
using namespace ember::data;
using namespace ember::test;
using Catch::Matchers::ContainsSubstring;
using namespace std::string_view_literals;  // "\0..."sv keeps its zero bytes

namespace {

// `bytes` with the byte at `at` (from the end when negative) replaced by `value`.
std::string with_byte(std::string bytes, std::ptrdiff_t at, char value) {
  bytes[static_cast<std::size_t>(at < 0 ? static_cast<std::ptrdiff_t>(bytes.size()) + at : at)] =
      value;
  return bytes;
}

}  // namespace

TEST_CASE("parse_idx reads a uint8 idx file: dims and row-major values", "[idx]") {
  const std::string file = idx_file(0x08, {2, 3}, "\x00\x01\x02\x7f\x80\xff"sv);
  const IdxArray a = parse_idx(file, "images");
  CHECK(a.type() == IdxType::UInt8);
  CHECK(a.dims == std::vector<std::int64_t>{2, 3});
  CHECK(a.numel() == 6);
  CHECK(a.as<std::uint8_t>() == std::vector<std::uint8_t>{0, 1, 2, 127, 128, 255});
  CHECK(idx_describe(a.dims, a.type()) == "2 x 3 uint8");
}

TEST_CASE("parse_idx turns big-endian idx elements of every type into host values", "[idx]") {
  SECTION("int32") {
    const IdxArray a =
        parse_idx(idx_file(0x0C, {3}, "\x01\x02\x03\x04\xff\xff\xff\xfe\x80\x00\x00\x00"sv), "i");
    CHECK(a.type() == IdxType::Int32);
    CHECK(a.as<std::int32_t>() ==
          std::vector<std::int32_t>{0x01020304, -2, std::numeric_limits<std::int32_t>::min()});
  }
  SECTION("float32") {
    // 1.5, -2, +inf and the smallest subnormal, as IEEE-754 big-endian words.
    const IdxArray a =
        parse_idx(idx_file(0x0D, {2, 2},
                           "\x3f\xc0\x00\x00\xc0\x00\x00\x00\x7f\x80\x00\x00\x00\x00\x00\x01"sv),
                  "f");
    CHECK(a.type() == IdxType::Float32);
    const std::vector<float>& v = a.as<float>();
    REQUIRE(v.size() == 4);
    CHECK(v[0] == 1.5f);
    CHECK(v[1] == -2.0f);
    CHECK(std::isinf(v[2]));
    CHECK(v[2] > 0);
    CHECK(v[3] == std::numeric_limits<float>::denorm_min());
  }
  SECTION("float64") {
    const IdxArray a = parse_idx(
        idx_file(0x0E, {2}, "\x3f\xd5\x55\x55\x55\x55\x55\x55\xc0\x24\x00\x00\x00\x00\x00\x00"sv),
        "d");
    CHECK(a.type() == IdxType::Float64);
    CHECK(a.as<double>() == std::vector<double>{1.0 / 3.0, -10.0});
  }
  SECTION("int16 and int8") {
    const IdxArray s = parse_idx(idx_file(0x0B, {3}, "\xfe\xd4\x7f\xff\x00\x01"sv), "s");
    CHECK(s.type() == IdxType::Int16);
    CHECK(s.as<std::int16_t>() == std::vector<std::int16_t>{-300, 32767, 1});
    const IdxArray b = parse_idx(idx_file(0x09, {3}, "\xfb\x7f\x80"sv), "b");
    CHECK(b.type() == IdxType::Int8);
    CHECK(b.as<std::int8_t>() == std::vector<std::int8_t>{-5, 127, -128});
  }
}

TEST_CASE("parse_idx accepts a zero size and 8 dims, the most a tensor has", "[idx]") {
  const IdxArray empty_file = parse_idx(idx_file(0x08, {0, 28, 28}, ""), "empty");
  CHECK(empty_file.dims == std::vector<std::int64_t>{0, 28, 28});
  CHECK(empty_file.numel() == 0);
  const IdxArray deep = parse_idx(idx_file(0x08, {1, 1, 1, 1, 1, 1, 1, 2}, "\x05\x06"), "deep");
  CHECK(deep.dims.size() == 8);
  CHECK(deep.as<std::uint8_t>() == std::vector<std::uint8_t>{5, 6});
}

TEST_CASE("IdxArray::as with the wrong element type is an ember::Error naming the idx type",
          "[idx]") {
  const IdxArray a = parse_idx(idx_file(0x08, {1}, "\x01"), "one");
  CHECK_THROWS_WITH(a.as<float>(), ContainsSubstring("the elements are uint8"));
}

TEST_CASE("gzipped idx files are read by their first bytes, whatever their name", "[idx]") {
  const std::string plain = idx_file(0x0C, {2, 2},
                                     "\x00\x00\x00\x01\x00\x00\x01\x00"
                                     "\xff\xff\xff\xff\x7f\xff\xff\xff"sv);
  const std::vector<std::int32_t> expected{1, 256, -1, std::numeric_limits<std::int32_t>::max()};
  CHECK(parse_idx(gzip(plain), "in memory").as<std::int32_t>() == expected);

  TempDir dir("idx_gzip");
  write_bytes(dir / "gzipped.idx", gzip(plain));  // gzip without .gz
  write_bytes(dir / "plain.gz", plain);           // plain with .gz
  for (const char* name : {"gzipped.idx", "plain.gz"}) {
    INFO(name);
    const IdxArray a = load_idx(dir / name);
    CHECK(a.dims == std::vector<std::int64_t>{2, 2});
    CHECK(a.as<std::int32_t>() == expected);
  }

  // Several gzip members one after another are one stream, as gunzip reads them.
  const std::string two_members = gzip(plain.substr(0, 10)) + gzip(plain.substr(10));
  CHECK(parse_idx(two_members, "two members").as<std::int32_t>() == expected);
}

TEST_CASE("a gzipped idx file bigger than zlib's buffers reads whole", "[idx]") {
  // 1000 x 1000 uint8, value (i * 7) mod 251: a megabyte that compresses little.
  std::string data(1000 * 1000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7) % 251);
  const IdxArray a = parse_idx(gzip(idx_file(0x08, {1000, 1000}, data)), "big");
  const std::vector<std::uint8_t>& v = a.as<std::uint8_t>();
  REQUIRE(v.size() == data.size());
  CHECK(v[0] == 0);
  CHECK(v[999] == (999 * 7) % 251);
  CHECK(v[999999] == (999999ull * 7) % 251);
  CHECK(std::string(v.begin(), v.end()) == data);
}

TEST_CASE("to_tensor makes a CPU tensor of the idx file's dims, int8 and int16 widened to int32",
          "[idx]") {
  const Tensor images = to_tensor(parse_idx(idx_file(0x08, {2, 2}, "\x00\x01\x02\xff"sv), "u8"));
  CHECK(images.dtype() == kUInt8);
  CHECK(images.device() == Device::cpu());
  CHECK(images.shape() == Shape{2, 2});
  CHECK(images.to_vector<double>() == std::vector<double>{0, 1, 2, 255});

  const Tensor f = to_tensor(parse_idx(idx_file(0x0D, {1}, "\x3f\xc0\x00\x00"sv), "f32"));
  CHECK(f.dtype() == kFloat32);
  CHECK(f.item<float>() == 1.5f);
  const Tensor d = to_tensor(parse_idx(idx_file(0x0E, {1}, "\xc0\x24\0\0\0\0\0\0"sv), "f64"));
  CHECK(d.dtype() == kFloat64);
  CHECK(d.item<double>() == -10.0);
  const Tensor i = to_tensor(parse_idx(idx_file(0x0C, {1}, "\xff\xff\xff\xfe"sv), "i32"));
  CHECK(i.dtype() == kInt32);
  CHECK(i.item<std::int32_t>() == -2);

  const Tensor s = to_tensor(parse_idx(idx_file(0x0B, {2}, "\xfe\xd4\x80\x00"sv), "i16"));
  CHECK(s.dtype() == kInt32);
  CHECK(s.to_vector<std::int32_t>() == std::vector<std::int32_t>{-300, -32768});
  const Tensor b = to_tensor(parse_idx(idx_file(0x09, {1, 2}, "\x80\x7f"), "i8"));
  CHECK(b.dtype() == kInt32);
  CHECK(b.shape() == Shape{1, 2});
  CHECK(b.to_vector<std::int32_t>() == std::vector<std::int32_t>{-128, 127});

  const Tensor none = to_tensor(parse_idx(idx_file(0x08, {0, 28, 28}, ""), "empty"));
  CHECK(none.shape() == Shape{0, 28, 28});
  CHECK(none.numel() == 0);
}

TEST_CASE("bad idx files are refused with an ember::Error naming the file and the problem",
          "[idx]") {
  const std::string good = idx_file(0x08, {2, 3}, "abcdef");
  struct Row {
    const char* what;
    std::string bytes;
    std::vector<std::string> expected;  // substrings of the message
  };
  const std::vector<Row> table = {
      {"empty", "", {"too short for an IDX header", "0 bytes"}},
      {"three bytes", std::string("\0\0\x08", 3), {"too short", "3 bytes"}},
      {"bad magic", with_byte(good, 0, '\x01'), {"not an IDX file", "starts with 0x01 0x00"}},
      {"a PNG", "\x89PNG\r\n\x1a\n", {"not an IDX file", "0x89 0x50"}},
      {"unknown type byte",
       with_byte(good, 2, '\x0a'),
       {"unknown element type byte 0x0a", "0x08 uint8"}},
      {"zero dims", std::string("\0\0\x08\0", 4), {"declares 0 dimensions", "1 to 8"}},
      {"nine dims", idx_file(0x08, {1, 1, 1, 1, 1, 1, 1, 1, 1}, "x"), {"declares 9 dimensions"}},
      {"dims cut short",
       idx_file(0x08, {2, 3}, "").substr(0, 10),
       {"truncated in its header", "2 dimensions need 8 bytes", "and 6 follow"}},
      {"dims whose product overflows 64 bits",
       idx_file(0x08, {0xffffffff, 0xffffffff, 0xffffffff}, "x"),
       {"declares 4294967295 x 4294967295 x 4294967295 uint8 elements",
        "more than the 68719476736 bytes"}},
      {"dims beyond the limit",
       idx_file(0x0E, {1u << 16, 1u << 16, 4}, ""),
       {"65536 x 65536 x 4 float64", "more than the"}},
      {"a gigabyte declared, 10 bytes present",
       idx_file(0x08, {1u << 30}, "0123456789"),
       {"is truncated", "1073741824 uint8 elements (1073741824 bytes)", "only 10 bytes follow"}},
      {"data cut short",
       good.substr(0, good.size() - 1),
       {"is truncated", "2 x 3 uint8 elements (6 bytes)", "only 5 bytes follow"}},
      {"an int32 cut mid-element",
       idx_file(0x0C, {2}, std::string(7, '\0')),
       {"is truncated", "(8 bytes)", "only 7 bytes follow"}},
      {"a byte after the data", good + "g", {"goes on after the 2 x 3 uint8 elements (6 bytes)"}},
      {"gzip: the stream cut before its end",
       gzip(good).substr(0, gzip(good).size() - 8),
       {"is truncated", "gzip stream ends without its end marker"}},
      {"gzip: its CRC changed",
       with_byte(gzip(good), -8, static_cast<char>(gzip(good).end()[-8] ^ 1)),
       {"corrupt gzip stream", "incorrect data check"}},
      {"gzip: an unknown compression method",
       with_byte(gzip(good), 2, 7),
       {"corrupt gzip stream", "unknown compression method"}},
      {"gzip: bytes after the stream that are not gzip",
       gzip(good) + "junk",
       {"4 bytes after the end of its gzip stream"}},
      {"gzip: the idx data inside cut short",
       gzip(good.substr(0, good.size() - 2)),
       {"is truncated", "(6 bytes)", "its data ends after 4 bytes"}},
      {"gzip: a byte after the idx data inside",
       gzip(good + "g"),
       {"goes on after the 2 x 3 uint8"}},
      {"gzip: a header declaring more than the stream can hold",
       gzip(idx_file(0x08, {1u << 30}, "abc")),
       {"truncated or corrupt", "1073741824 bytes", "bytes of gzip can hold"}},
  };
  for (const Row& row : table) {
    INFO("file: " << row.what);
    const std::string message = error_message([&] { (void)parse_idx(row.bytes, "bad.idx"); });
    INFO("message: " << message);
    CHECK_THAT(message, ContainsSubstring("'bad.idx'"));
    for (const std::string& part : row.expected) CHECK_THAT(message, ContainsSubstring(part));
  }
}

TEST_CASE("load_idx names the path it cannot read", "[idx]") {
  TempDir dir("idx_missing");
  CHECK_THROWS_WITH(load_idx(dir / "nowhere.idx"),
                    ContainsSubstring("cannot read") && ContainsSubstring("nowhere.idx"));
  CHECK_THROWS_WITH(load_idx(dir.path.string()), ContainsSubstring("cannot read"));  // a folder
}
