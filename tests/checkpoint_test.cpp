// Resumable checkpoints (nn/checkpoint.h): training resumed from a checkpoint in a new process
// matches an uninterrupted run bit for bit; a save killed midway leaves the previous file whole;
// bad files are refused with the model, the optimizer and the generator unchanged. New processes
// and the shared helpers: tests/checkpoint_support.h.
#include "checkpoint_support.h"
#include "file_bytes.h"

using namespace ember;
using namespace ember::test;
using Catch::Matchers::ContainsSubstring;


TEST_CASE(kChildTest, "[.][checkpoint-child]") { run_checkpoint_child(); }

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
  const std::string bytes = test::read_bytes(path);
  auto write = [&](const std::string& content) { test::write_bytes(path, content); };

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
