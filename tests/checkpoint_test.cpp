// Resumable checkpoints (nn/checkpoint.h): training resumed from a checkpoint in a new process
// matches an uninterrupted run bit for bit; a save killed midway leaves the previous file whole;
// bad files are refused with the model, the optimizer and the generator unchanged.
//
// New processes: the test binary starts itself again (posix_spawn of /proc/self/exe) running only
// the hidden test case "checkpoint child process", whose job the environment gives:
// EMBER_CHECKPOINT_CHILD (the mode), EMBER_CHECKPOINT_PATH and EMBER_CHECKPOINT_OUT (files). The
// hidden case does nothing when started without them, and ctest does not list it.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <thread>

#include "catch.h"
#include <ember/ember.h>

using namespace ember;
using Catch::Matchers::ContainsSubstring;

namespace {

constexpr const char* kChildTest = "checkpoint child process";

struct Net : nn::Module {
  nn::Linear fc1, fc2;
  Net(std::int64_t in = 4, std::int64_t hidden = 8, std::int64_t out = 3)
      : fc1(register_module("fc1", nn::Linear(in, hidden))),
        fc2(register_module("fc2", nn::Linear(hidden, out))) {}
  Tensor forward(const Tensor& x) { return fc2(relu(fc1(x))); }
};

// Steps of regression on fresh random data each step, so the result depends on the generator.
void train(Net& model, optim::Optimizer& optimizer, int steps) {
  const Tensor true_w = tensor({0.5, -1, 2, 0.25, 1, 0, -0.5, 1.5, 0.75, -2, 0.1, 0.3}, {4, 3});
  for (int i = 0; i < steps; ++i) {
    const Tensor x = randn({16, 4});
    const Tensor y = x.matmul(true_w) + randn({16, 3}) * 0.1;
    optimizer.zero_grad();
    mse_loss(model.forward(x), y).backward();
    optimizer.step();
  }
}

optim::AdamOptions adam_options() { return {.lr = 0.01, .amsgrad = true}; }
optim::SGDOptions sgd_options() { return {.lr = 0.02, .momentum = 0.9, .nesterov = true}; }

// A fresh folder for one test's files (tests run in parallel processes).
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("ember_checkpoint_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& file) const { return (path / file).string(); }
};

// The bytes of a tensor, for bit-for-bit comparison.
std::string bytes_of(const Tensor& t) {
  const Tensor host = t.contiguous().to(Device::cpu());
  return std::string(static_cast<const char*>(host.raw_data()),
                     static_cast<std::size_t>(host.numel()) * element_size(host.dtype()));
}

// Checks two sets of entries are the same names, dtypes, shapes and bytes.
void check_identical(const NamedTensors& actual, const NamedTensors& expected) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    INFO(expected[i].first);
    CHECK(actual[i].first == expected[i].first);
    CHECK(actual[i].second.dtype() == expected[i].second.dtype());
    REQUIRE(actual[i].second.shape() == expected[i].second.shape());
    CHECK(bytes_of(actual[i].second) == bytes_of(expected[i].second));
  }
}

// A child process, killed and reaped if a failed check leaves it running.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  bool running() {
    int status = 0;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
  }
  // Waits for it to end: its exit code, or minus the signal that ended it.
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0) REQUIRE(errno == EINTR);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

 private:
  pid_t pid_;
};

// Starts this test binary again running only kChildTest, with the job in its environment.
std::unique_ptr<Child> spawn_child(const std::string& mode, const std::string& path,
                                   const std::string& out = "") {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "EMBER_CHECKPOINT_", 17) != 0) env.emplace_back(*e);
  }
  env.push_back("EMBER_CHECKPOINT_CHILD=" + mode);
  env.push_back("EMBER_CHECKPOINT_PATH=" + path);
  env.push_back("EMBER_CHECKPOINT_OUT=" + out);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string test = kChildTest;
  std::array<char*, 3> argv{exe.data(), test.data(), nullptr};
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data());
  REQUIRE(rc == 0);
  return std::make_unique<Child>(pid);
}

// The same job in this process and in a new one, for both optimizers.
template <typename Opt, typename Options>
void resume_in_new_process(const std::string& mode, Options options) {
  TempDir dir(mode);
  const std::string ckpt = dir / "run.ckpt", out = dir / "resumed.ckpt";

  manual_seed(1234);
  Net full;
  Opt full_opt(full.parameters(), options);
  train(full, full_opt, 1000);
  const NamedTensors expected = nn::checkpoint_state(full, full_opt);  // includes the generator

  manual_seed(1234);
  Net first;
  Opt first_opt(first.parameters(), options);
  train(first, first_opt, 500);
  nn::save_checkpoint(ckpt, first, first_opt);

  // The child starts from another seed (other initial weights, other draws) and loads the file.
  REQUIRE(spawn_child(mode, ckpt, out)->wait() == 0);
  check_identical(load_tensors(out), expected);

  // The control: the same resume with the generator state not restored diverges.
  Net control;
  Opt control_opt(control.parameters(), options);
  nn::load_checkpoint(ckpt, control, control_opt);
  manual_seed(99);
  train(control, control_opt, 500);
  CHECK(bytes_of(control.fc1->weight) != bytes_of(full.fc1->weight));
}

}  // namespace

TEST_CASE(kChildTest, "[.][checkpoint-child]") {
  const char* mode_env = std::getenv("EMBER_CHECKPOINT_CHILD");
  if (!mode_env) return;  // run only through spawn_child
  auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return std::string(value ? value : "");
  };
  const std::string mode = mode_env;
  const std::string path = env("EMBER_CHECKPOINT_PATH"), out = env("EMBER_CHECKPOINT_OUT");
  manual_seed(999);  // nothing of the first half's state survives except what the file holds
  if (mode == "resume-adam" || mode == "resume-sgd") {
    Net model;
    std::unique_ptr<optim::Optimizer> opt;
    if (mode == "resume-adam") {
      opt = std::make_unique<optim::Adam>(model.parameters(), adam_options());
    } else {
      opt = std::make_unique<optim::SGD>(model.parameters(), sgd_options());
    }
    nn::load_checkpoint(path, model, *opt);
    train(model, *opt, 500);
    nn::save_checkpoint(out, model, *opt);
  } else if (mode == "save-loop") {
    // Saves states k = 1, 2, ... (every parameter filled with k, generator at {k, k}) until killed.
    Net model(512, 1024, 1);
    optim::Adam opt(model.parameters(), adam_options());
    nn::load_checkpoint(path, model, opt);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (std::uint64_t k = 1; std::chrono::steady_clock::now() < deadline; ++k) {
      {
        NoGradGuard no_grad;
        for (Tensor& p : model.parameters()) p.fill_(static_cast<double>(k));
      }
      set_rng_state({k, k});
      nn::save_checkpoint(path, model, opt);
    }
  } else {
    FAIL("unknown EMBER_CHECKPOINT_CHILD mode '" << mode << "'");
  }
}

TEST_CASE("a checkpoint round-trips weights, optimizer state and the exact generator state",
          "[checkpoint]") {
  TempDir dir("roundtrip");
  const std::string path = dir / "a.ckpt";
  manual_seed(3);
  Net model;
  optim::Adam opt(model.parameters(), adam_options());
  train(model, opt, 3);
  const GeneratorState rng{0xfedcba9876543210ull, (1ull << 53) + 1};  // not exact as one double
  set_rng_state(rng);
  nn::save_checkpoint(path, model, opt);
  const NamedTensors saved = nn::checkpoint_state(model, opt);

  const NamedTensors file = load_tensors(path);
  CHECK(file.front().first == "model.fc1.weight");
  CHECK(file[file.size() - 2].first == "rng.seed");
  CHECK(file.back().first == "rng.offset");
  // 2^53 + 1 = 2^21 * 2^32 + 1
  CHECK(file.back().second.to_vector<double>() == std::vector<double>{2097152, 1});

  manual_seed(4);
  Net other;
  optim::Adam other_opt(other.parameters(), adam_options());
  nn::load_checkpoint(path, other, other_opt);
  check_identical(nn::checkpoint_state(other, other_opt), saved);
  CHECK(get_rng_state().seed == rng.seed);
  CHECK(get_rng_state().offset == rng.offset);
}

TEST_CASE(
    "Adam training resumed from a checkpoint in a new process matches 1000 uninterrupted steps bit "
    "for bit",
    "[checkpoint][process]") {
  resume_in_new_process<optim::Adam>("resume-adam", adam_options());
}

TEST_CASE(
    "SGD-momentum training resumed in a new process matches 1000 uninterrupted steps bit for bit",
    "[checkpoint][process]") {
  resume_in_new_process<optim::SGD>("resume-sgd", sgd_options());
}

TEST_CASE("a process killed in the middle of a save leaves the previous checkpoint whole",
          "[checkpoint][process]") {
  TempDir dir("kill");
  const std::string path = dir / "big.ckpt";
  manual_seed(5);
  Net model(512, 1024, 1);  // 2 MiB of weights, 6 MiB with Adam's moments: saves take a while
  optim::Adam opt(model.parameters(), adam_options());
  {
    const Tensor x = randn({8, 512});
    opt.zero_grad();
    model.forward(x).sum().backward();
    opt.step();
  }
  nn::save_checkpoint(path, model, opt);
  const NamedTensors first = nn::checkpoint_state(model, opt);
  const GeneratorState first_rng = get_rng_state();
  const NamedTensors first_optim(first.begin() + 4, first.end() - 2);

  std::mt19937 random(std::random_device{}());
  int killed_mid_write = 0;
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    const auto child = spawn_child("save-loop", path);
    const std::string tmp = path + ".tmp." + std::to_string(child->pid());
    // Wait until the child writes its temporary file for the (round + 1)th time, that is after
    // `round` complete saves, then kill it a moment later.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto wait_for_tmp = [&](bool present) {
      while (std::filesystem::exists(tmp) != present) {
        if (!child->running()) FAIL("the saving child process ended before it was killed");
        if (std::chrono::steady_clock::now() > deadline)
          FAIL("the saving child process made no progress in 30 s");
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    };
    wait_for_tmp(true);
    for (int save = 0; save < round; ++save) {
      wait_for_tmp(false);
      wait_for_tmp(true);
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 1000)(random)));
    ::kill(child->pid(), SIGKILL);
    REQUIRE(child->wait() == -SIGKILL);
    if (std::filesystem::exists(tmp)) ++killed_mid_write;

    // The file holds the parent's state or one of the child's, whole.
    Net loaded(512, 1024, 1);
    optim::Adam loaded_opt(loaded.parameters(), adam_options());
    REQUIRE_NOTHROW(nn::load_checkpoint(path, loaded, loaded_opt));
    const NamedTensors state = nn::checkpoint_state(loaded, loaded_opt);
    const GeneratorState rng = get_rng_state();
    if (rng.seed == rng.offset) {  // the child's state k
      const double k = static_cast<double>(rng.seed);
      for (const Tensor& p : loaded.parameters()) {
        const auto values = p.to_vector<double>();
        CHECK(std::all_of(values.begin(), values.end(), [k](double v) { return v == k; }));
      }
      check_identical(NamedTensors(state.begin() + 4, state.end() - 2), first_optim);
    } else {
      check_identical(state, first);
    }
  }
  CHECK(killed_mid_write >= 1);  // at least one kill left a half-written temporary file

  // Stale temporary files of killed saves get in nobody's way.
  set_rng_state(first_rng);
  nn::save_checkpoint(path, model, opt);
  Net again(512, 1024, 1);
  optim::Adam again_opt(again.parameters(), adam_options());
  nn::load_checkpoint(path, again, again_opt);
  check_identical(nn::checkpoint_state(again, again_opt), first);
}

TEST_CASE(
    "bad checkpoint files are refused, naming the problem, with model, optimizer and generator "
    "unchanged",
    "[checkpoint][errors]") {
  TempDir dir("bad");
  const std::string path = dir / "bad.ckpt";
  manual_seed(6);
  Net source;
  optim::Adam source_opt(source.parameters(), adam_options());
  train(source, source_opt, 2);
  nn::save_checkpoint(path, source, source_opt);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  };

  manual_seed(7);
  Net target;
  optim::Adam target_opt(target.parameters(), adam_options());
  train(target, target_opt, 3);
  const NamedTensors before = nn::checkpoint_state(target, target_opt);
  // Loading `path` must throw an error matching `matcher` and change nothing.
  auto check_refused = [&](const auto& matcher) {
    set_rng_state({42, 43});  // unlike any generator state in the files
    CHECK_THROWS_WITH(nn::load_checkpoint(path, target, target_opt), matcher);
    const NamedTensors after = nn::checkpoint_state(target, target_opt);
    check_identical(NamedTensors(after.begin(), after.end() - 2),
                    NamedTensors(before.begin(), before.end() - 2));
    CHECK(get_rng_state().seed == 42);
    CHECK(get_rng_state().offset == 43);
  };

  SECTION("truncated") {
    write(bytes.substr(0, bytes.size() / 2));
    check_refused(ContainsSubstring("is truncated"));
  }
  SECTION("corrupted: one byte flipped") {
    std::string flipped = bytes;
    // A byte of fc1.weight's values: after its name, dtype, rank, 2 sizes and byte count.
    const std::size_t data = bytes.find("model.fc1.weight") + 16 + 1 + 1 + 2 * 8 + 8;
    flipped[data + 10] ^= 0x10;
    write(flipped);
    check_refused(ContainsSubstring("is corrupted") && ContainsSubstring("checksum"));
  }
  SECTION("another format version") {
    std::string versioned = bytes;
    versioned[8] = 2;
    write(versioned);
    check_refused(ContainsSubstring("format version 2") && ContainsSubstring("reads version 1"));
  }
  SECTION("a model of other shapes") {
    Net wide(4, 16, 3);
    optim::Adam wide_opt(wide.parameters(), adam_options());
    nn::save_checkpoint(path, wide, wide_opt);
    check_refused(ContainsSubstring("'model.fc1.weight' has shape [16, 4]") &&
                  ContainsSubstring("[8, 4]"));
  }
  SECTION("an optimizer section of other shapes, the model section being fine") {
    // The model's entries come first and fit: they must not be applied when the optimizer's fail.
    NamedTensors state = nn::checkpoint_state(source, source_opt);
    for (auto& [name, t] : state) {
      if (name == "optim.state.2.exp_avg") t = zeros({5, 8});
    }
    save_tensors(state, path);
    check_refused(ContainsSubstring("optimizer section") &&
                  ContainsSubstring("'state.2.exp_avg' has shape [5, 8]"));
  }
  SECTION("another optimizer's state") {
    optim::SGD sgd(source.parameters(), sgd_options());
    train(source, sgd, 1);
    nn::save_checkpoint(path, source, sgd);
    check_refused(ContainsSubstring("optimizer section"));
  }
  SECTION("a weights-only file") {
    nn::save(source, path);
    check_refused(ContainsSubstring("not a training checkpoint"));
  }
  SECTION("a generator entry that is not a 32-bit half") {
    NamedTensors state = nn::checkpoint_state(source, source_opt);
    state.back().second = tensor({0.5, 1}, {2}, kFloat64);
    save_tensors(state, path);
    check_refused(ContainsSubstring("'rng.offset' holds 0.5"));
  }
  SECTION("a missing file") {
    std::filesystem::remove(path);
    check_refused(ContainsSubstring("cannot open"));
  }
}
