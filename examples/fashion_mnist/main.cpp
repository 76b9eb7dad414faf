// Trains a small CNN (model.h) on Fashion-MNIST, read from Debian's dataset-fashion-mnist package,
// and reports the test accuracy.
//
//   fashion_mnist [--device cpu|cuda|auto] [--epochs 5] [--batch-size 128] [--lr 0.001]
//                 [--data DIR] [--seed 0] [--threads N] [--max-steps N] [--checkpoint PATH]
//
// Each epoch shuffles the 60,000 training images (a seeded permutation), trains with Adam on
// cross-entropy, and prints loss, accuracy and images/s as it goes (one updating line on a
// terminal, one line per report otherwise). After the last epoch it evaluates on the 10,000 test
// images, prints the accuracy and the whole time, and saves a checkpoint (model, optimizer and
// generator: nn::load_checkpoint resumes it). --max-steps cuts each epoch short, for a quick look.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "fashion_mnist/batches.h"
#include "fashion_mnist/model.h"

namespace {

struct Options {
  std::string device = "auto";
  int epochs = 5;
  std::int64_t batch_size = 128;
  double lr = 1e-3;
  std::string data;
  std::uint64_t seed = 0;
  int threads = 0;  // 0: Ember's default (EMBER_NUM_THREADS or every hardware thread)
  std::int64_t max_steps = 0;  // per epoch; 0: the whole epoch
  std::string checkpoint = "fashion_mnist.ckpt";
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: fashion_mnist [--device cpu|cuda|auto] [--epochs N] [--batch-size N] [--lr X]\n"
               "                     [--data DIR] [--seed S] [--threads N] [--max-steps N] [--checkpoint PATH]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (arg == "--device") o.device = value();
    else if (arg == "--epochs") o.epochs = std::stoi(value());
    else if (arg == "--batch-size") o.batch_size = std::stoll(value());
    else if (arg == "--lr") o.lr = std::stod(value());
    else if (arg == "--data") o.data = value();
    else if (arg == "--seed") o.seed = std::stoull(value());
    else if (arg == "--threads") o.threads = std::stoi(value());
    else if (arg == "--max-steps") o.max_steps = std::stoll(value());
    else if (arg == "--checkpoint") o.checkpoint = value();
    else usage();
  }
  if (o.epochs < 1 || o.batch_size < 1 || o.lr <= 0 || o.threads < 0 || o.max_steps < 0) usage();
  return o;
}

bool stdout_is_terminal() {
  static const bool terminal = isatty(fileno(stdout)) != 0;
  return terminal;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// How many of the batch's predictions (the largest logit) are right, as a 0-d float32 tensor on the
// batch's device: summed there, so that counting never waits for the device.
ember::Tensor correct_predictions(const ember::Tensor& logits, const ember::Tensor& labels) {
  return ember::eq(ember::argmax(logits.detach(), 1), labels).to(ember::kFloat32).sum();
}

// Running sums of one epoch, kept on the device so that a step never waits for it; read only when
// a progress line is printed.
struct EpochTotals {
  ember::Tensor loss_sum, correct;
  std::int64_t images = 0;

  void add(const ember::Tensor& loss, const ember::Tensor& logits, const ember::Tensor& labels) {
    const std::int64_t n = labels.numel();
    const ember::Tensor batch_loss = loss.detach() * static_cast<double>(n);
    const ember::Tensor batch_correct = correct_predictions(logits, labels);
    loss_sum = loss_sum.defined() ? loss_sum + batch_loss : batch_loss;
    correct = correct.defined() ? correct + batch_correct : batch_correct;
    images += n;
  }
  double mean_loss() const { return loss_sum.item<float>() / static_cast<double>(images); }
  double accuracy() const { return correct.item<float>() / static_cast<double>(images); }
};

void report(int epoch, int epochs, std::int64_t step, std::int64_t steps, const EpochTotals& totals, double seconds,
            bool last) {
  const bool tty = stdout_is_terminal();
  std::printf("%sepoch %d/%d  step %5lld/%lld  loss %.4f  accuracy %6.2f%%  %8.0f images/s%s", tty ? "\r" : "", epoch,
              epochs, static_cast<long long>(step), static_cast<long long>(steps), totals.mean_loss(),
              100.0 * totals.accuracy(), static_cast<double>(totals.images) / seconds, (!tty || last) ? "\n" : "");
  std::fflush(stdout);
}

// Accuracy of the model (in eval mode, without autograd) over a whole split.
double evaluate(fashion::FashionCnn& model, const fashion::Batches& test, ember::Device device) {
  model.eval();
  ember::NoGradGuard no_grad;
  ember::Tensor correct;
  for (std::int64_t b = 0; b < test.count(); ++b) {
    const fashion::Batch batch = test.get(b, device);
    const ember::Tensor hits = correct_predictions(model.forward(batch.images), batch.labels);
    correct = correct.defined() ? correct + hits : hits;
  }
  model.train();
  return correct.item<float>() / static_cast<double>(test.size());
}

int run(const Options& options) {
  if (options.threads > 0) ember::set_num_threads(options.threads);
  const ember::Device device = options.device == "auto"
                                   ? (ember::cuda::is_available() ? ember::Device::cuda() : ember::Device::cpu())
                                   : ember::Device::parse(options.device);
  const auto start = std::chrono::steady_clock::now();
  const fashion::Dataset train_set(ember::data::load_fashion_mnist(ember::data::FashionMnistSplit::Train, options.data));
  const fashion::Dataset test_set(ember::data::load_fashion_mnist(ember::data::FashionMnistSplit::Test, options.data));
  std::printf("Fashion-MNIST from %s: %lld training and %lld test images\n",
              ember::data::fashion_mnist_dir(options.data).c_str(), static_cast<long long>(train_set.size()),
              static_cast<long long>(test_set.size()));

  ember::manual_seed(options.seed);
  fashion::FashionCnn model;
  model.to(device);
  ember::optim::Adam optimizer(model.parameters(), {.lr = options.lr});
  std::printf("training on %s (%d CPU threads): %d epochs, batch %lld, Adam lr %g\n", device.str().c_str(),
              ember::get_num_threads(), options.epochs, static_cast<long long>(options.batch_size), options.lr);

  std::mt19937_64 shuffle_rng(options.seed);
  double train_seconds = 0.0;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const fashion::Batches batches(train_set, options.batch_size, /*drop_last=*/false, &shuffle_rng);
    const std::int64_t steps = options.max_steps > 0 ? std::min(options.max_steps, batches.count()) : batches.count();
    EpochTotals totals;
    const auto epoch_start = std::chrono::steady_clock::now();
    for (std::int64_t step = 0; step < steps; ++step) {
      const fashion::Batch batch = batches.get(step, device);
      optimizer.zero_grad();
      const ember::Tensor logits = model.forward(batch.images);
      const ember::Tensor loss = ember::cross_entropy(logits, batch.labels);
      loss.backward();
      optimizer.step();
      totals.add(loss, logits, batch.labels);
      if ((step + 1) % 50 == 0 || step + 1 == steps) {
        report(epoch, options.epochs, step + 1, steps, totals, seconds_since(epoch_start), step + 1 == steps);
      }
    }
    train_seconds += seconds_since(epoch_start);
  }

  const double accuracy = evaluate(model, fashion::Batches(test_set, 1000, false, nullptr), device);
  ember::nn::save_checkpoint(options.checkpoint, model, optimizer);
  std::printf("test accuracy %.2f%% (%lld images)\n", 100.0 * accuracy, static_cast<long long>(test_set.size()));
  std::printf("training %.1f s, whole run %.1f s; checkpoint saved to %s\n", train_seconds, seconds_since(start),
              options.checkpoint.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
    return 1;
  }
}
