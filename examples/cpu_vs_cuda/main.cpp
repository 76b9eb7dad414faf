// Trains the same model on the CPU and on CUDA for a range of sizes and prints the time per step
// on each, and which device wins: where the GPU starts paying for its launch and copy overhead.
// The first row is SimpleNet (Linear(10, 2)); the others are Linear(w, w)-ReLU-Linear(w, w), all
// at batch 100 with MSELoss and Adam.
//
//   cpu_vs_cuda [--max-width W] [--batch B] [--fastest] [--csv FILE] [--plot FILE.png]
//   cpu_vs_cuda --from-csv FILE --plot FILE.png [--batch B]
//
// --fastest   adds a column with the device ember::fastest_device picks for each model (20
//             steps on each device), to set beside the measured winner.
// --csv FILE  writes the rows as model,width,cpu_us,cuda_us (cuda_us empty without a GPU;
//             SimpleNet's width is its 10 inputs).
// --plot FILE draws time per step against width for both devices on log-log axes, with the
//             width from which the GPU is faster, as a PNG made by gnuplot (Debian/Ubuntu package
//             gnuplot-nox); without gnuplot it says so and prints the table only.
// --from-csv FILE  reads the rows of an earlier --csv instead of measuring (e.g. to plot on a
//             machine with gnuplot the rows measured on one without); --batch is then only the
//             batch named in the plot's title.
#include <ember/ember.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

struct Case {
  std::string name;
  std::int64_t in, hidden, out;  // hidden == 0: a single Linear(in, out)
  std::int64_t width() const { return hidden == 0 ? in : hidden; }
};

struct Row {
  Case model;
  double cpu_us = 0;
  std::optional<double> cuda_us;  // empty without a GPU
  std::string fastest;            // fastest_device's choice, with --fastest
};

struct Options {
  std::int64_t max_width = 4096, batch = 100;
  bool fastest = false;
  std::string csv, plot, from_csv;
};

// Model, data and optimizer of one case on one device.
struct Training {
  ember::nn::Sequential model;
  ember::Tensor x, y;
  std::unique_ptr<ember::optim::Adam> opt;
  ember::nn::MSELoss criterion;

  Training(const Case& c, std::int64_t batch, ember::Device device) {
    ember::manual_seed(0);
    if (c.hidden == 0) {
      model->push_back(ember::nn::Linear(c.in, c.out).ptr());
    } else {
      // The ReLU fused into the first layer's product, as this example has always measured it.
      model->push_back(ember::nn::Linear(c.in, c.hidden, {.activation = ember::Activation::Relu}).ptr());
      model->push_back(ember::nn::Linear(c.hidden, c.out).ptr());
    }
    model->to(device);
    x = ember::randn({batch, c.in}).to(device);
    y = ember::randn({batch, c.out}).to(device);
    opt = std::make_unique<ember::optim::Adam>(model->parameters(),
                                               ember::optim::AdamOptions{.lr = 1e-3});
  }
  void step() {
    opt->zero_grad();
    criterion(model(x), y).backward();
    opt->step();
  }
};

// What fastest_device needs: builds the case on a device and returns its training step.
ember::StepFactory step_factory(const Case& c, std::int64_t batch) {
  return [c, batch](ember::Device device) -> ember::Step {
    auto training = std::make_shared<Training>(c, batch, device);
    return [training] { training->step(); };
  };
}

// Mean time per training step in microseconds, over enough steps to take about 0.3 s.
double time_per_step_us(const Case& c, std::int64_t batch, ember::Device device) {
  const ember::Step step = step_factory(c, batch)(device);
  auto sync = [&] {
    if (device.is_cuda()) ember::cuda::synchronize();
  };
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < 3; ++i) step();  // warm-up
  sync();
  int steps = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < 0.3 && steps < 100000) {
    const int chunk = std::max(1, steps);
    for (int i = 0; i < chunk; ++i) step();
    steps += chunk;
    sync();
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return 1e6 * elapsed / steps;
}

// Fails early, before minutes of measurements, when an output file cannot be written.
void require_writable(const std::string& path) {
  const bool existed = std::filesystem::exists(path);
  EMBER_CHECK(std::ofstream(path, std::ios::app).is_open(), "cannot write ", path);
  if (!existed) std::filesystem::remove(path);  // leave nothing behind if a later step fails
}

void write_csv(const std::string& path, const std::vector<Row>& rows) {
  std::ofstream out(path);
  EMBER_CHECK(out, "cannot write ", path);
  out << "model,width,cpu_us,cuda_us\n";
  for (const Row& r : rows) {
    out << r.model.name << ',' << r.model.width() << ',' << r.cpu_us << ',';
    if (r.cuda_us) out << *r.cuda_us;
    out << '\n';
  }
  EMBER_CHECK(out.flush(), "writing ", path, " failed");
}

// The width at which CUDA becomes faster than the CPU, interpolated on log-log axes between the
// last size where the CPU wins and the next one; empty when the winner never changes that way.
std::optional<double> crossover_width(const std::vector<Row>& rows) {
  for (std::size_t i = 0; i + 1 < rows.size(); ++i) {
    const Row &a = rows[i], &b = rows[i + 1];
    if (!a.cuda_us || !b.cuda_us || a.cpu_us > *a.cuda_us || b.cpu_us <= *b.cuda_us) continue;
    const double ra = std::log(a.cpu_us / *a.cuda_us), rb = std::log(b.cpu_us / *b.cuda_us);
    const double la = std::log(static_cast<double>(a.model.width()));
    const double lb = std::log(static_cast<double>(b.model.width()));
    return std::exp(la + (lb - la) * ra / (ra - rb));
  }
  return std::nullopt;
}

// The rows of a file written by write_csv.
std::vector<Row> read_csv(const std::string& path) {
  std::ifstream in(path);
  EMBER_CHECK(in, "cannot read ", path);
  std::string line;
  EMBER_CHECK(std::getline(in, line) && line.rfind("model,width,cpu_us,cuda_us", 0) == 0, path,
              " does not start with the header model,width,cpu_us,cuda_us");
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> fields(1);
    for (const char ch : line) {
      if (ch == ',')
        fields.emplace_back();
      else if (ch != '\r')
        fields.back() += ch;
    }
    EMBER_CHECK(fields.size() == 4 && !fields[1].empty() && !fields[2].empty(), path,
                ": expected model,width,cpu_us,cuda_us, got '", line, "'");
    const std::int64_t width = std::stoll(fields[1]);
    Row row{{fields[0], width, width, width}, std::stod(fields[2]), std::nullopt, ""};
    if (!fields[3].empty()) row.cuda_us = std::stod(fields[3]);
    rows.push_back(row);
  }
  EMBER_CHECK(!rows.empty(), path, " has no rows");
  return rows;
}

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

// 'text' as a gnuplot single-quoted string (a quote inside is doubled).
std::string quoted(const std::string& text) {
  std::string q = "'";
  for (const char ch : text) q += ch == '\'' ? std::string("''") : std::string(1, ch);
  return q + "'";
}

struct PipeCloser {
  void operator()(std::FILE* f) const { pclose(f); }
};

void plot_png(const std::string& path, const std::vector<Row>& rows, std::int64_t batch) {
  const bool have_cuda =
      std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.cuda_us.has_value(); });
  std::string script;
  auto line = [&script](const std::string& s) { script += s + "\n"; };
  line("set terminal pngcairo size 1000,650 enhanced font 'sans,12'");
  line("set output " + quoted(path));
  line("set title \"Ember: time per training step, CPU against CUDA (batch " +
       std::to_string(batch) + ", MSELoss, Adam)" +
       (have_cuda ? "" : "\\n(no CUDA device on the machine that ran it: CPU only)") + "\"");
  line(
      "set xlabel 'model width w: Linear(w,w)-ReLU-Linear(w,w); w = 10 is SimpleNet, "
      "Linear(10,2)'");
  line("set ylabel 'time per step (µs)'");
  line("set logscale xy");
  line("set format y '10^{%L}'");
  line("set grid xtics ytics lc rgb '#999999' dt 3");
  line("set key top left reverse Left box opaque spacing 1.3 width 1");
  std::string tics = "set xtics (";
  for (std::size_t i = 0; i < rows.size(); ++i)
    tics += (i ? ", " : "") + std::to_string(rows[i].model.width());
  line(tics + ")");
  const auto [min_w, max_w] = std::minmax_element(
      rows.begin(), rows.end(),
      [](const Row& a, const Row& b) { return a.model.width() < b.model.width(); });
  line("set xrange [" + std::to_string(static_cast<double>(min_w->model.width()) / 1.6) + ":" +
       std::to_string(static_cast<double>(max_w->model.width()) * 1.6) + "]");
  line("set datafile separator ','");
  line("$data << EOD");
  for (const Row& r : rows) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%lld,%.6g,", static_cast<long long>(r.model.width()), r.cpu_us);
    std::string row = buf;
    if (r.cuda_us) {
      std::snprintf(buf, sizeof buf, "%.6g", *r.cuda_us);
      row += buf;
    }
    line(row);
  }
  line("EOD");
  if (have_cuda) {
    char buf[256];
    if (const auto w = crossover_width(rows)) {
      std::snprintf(
          buf, sizeof buf,
          "set arrow from %g, graph 0 to %g, graph 1 nohead dt 2 lw 1.5 lc rgb '#555555'\n"
          "set label 'GPU faster from w ≈ %.0f' at %g, graph 0.93 offset 0.8,0 tc rgb '#333333'",
          *w, *w, *w, *w);
    } else {
      auto gpu_wins = [](const Row& r) { return r.cuda_us && *r.cuda_us < r.cpu_us; };
      const char* note =
          std::all_of(rows.begin(), rows.end(), gpu_wins)    ? "GPU faster at every size measured"
          : std::none_of(rows.begin(), rows.end(), gpu_wins) ? "CPU faster at every size measured"
                                                             : "";
      std::snprintf(buf, sizeof buf, "set label '%s' at graph 0.5, graph 0.93 center", note);
    }
    line(buf);
    line("plot $data using 1:2 with linespoints pt 7 ps 1.3 lw 2 lc rgb '#1f77b4' title 'CPU', \\");
    line("     $data using 1:3 with linespoints pt 5 ps 1.3 lw 2 lc rgb '#d62728' title 'CUDA'");
  } else {
    line("plot $data using 1:2 with linespoints pt 7 ps 1.3 lw 2 lc rgb '#1f77b4' title 'CPU'");
  }
  require_writable(path);  // else gnuplot would keep its default output, the terminal
  std::unique_ptr<std::FILE, PipeCloser> pipe(popen("gnuplot >/dev/null", "w"));
  EMBER_CHECK(pipe != nullptr, "could not start gnuplot");
  std::fputs(script.c_str(), pipe.get());
  const int status = pclose(pipe.release());
  EMBER_CHECK(status == 0, "gnuplot failed (status ", status, ") drawing ", path);
  std::printf("plot written to %s\n", path.c_str());
}

[[noreturn]] void usage() {
  std::fprintf(
      stderr,
      "usage: cpu_vs_cuda [--max-width W] [--batch B] [--fastest] [--csv FILE] [--plot FILE.png]\n"
      "       cpu_vs_cuda --from-csv FILE --plot FILE.png [--batch B]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--fastest") {
      o.fastest = true;
      continue;
    }
    if (i + 1 >= argc) usage();
    const std::string value = argv[++i];
    if (arg == "--max-width")
      o.max_width = std::stoll(value);
    else if (arg == "--batch")
      o.batch = std::stoll(value);
    else if (arg == "--csv")
      o.csv = value;
    else if (arg == "--plot")
      o.plot = value;
    else if (arg == "--from-csv")
      o.from_csv = value;
    else
      usage();
  }
  if (o.batch < 1 || (!o.from_csv.empty() && o.plot.empty())) usage();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options o = parse(argc, argv);
    if (!o.plot.empty() && !have_gnuplot()) {
      std::printf(
          "cpu_vs_cuda: --plot needs gnuplot, which is not installed (Debian/Ubuntu: apt-get "
          "install "
          "gnuplot-nox): no plot will be drawn%s\n",
          o.from_csv.empty() ? "; the measurements go on" : "");
      o.plot.clear();
    }
    if (!o.csv.empty()) require_writable(o.csv);
    if (!o.plot.empty()) require_writable(o.plot);
    if (!o.from_csv.empty()) {
      if (!o.plot.empty()) plot_png(o.plot, read_csv(o.from_csv), o.batch);
      return 0;
    }
    std::vector<Case> cases{{"SimpleNet 10x2", 10, 0, 2}};
    for (std::int64_t w = 64; w <= o.max_width; w *= 4)
      cases.push_back({"MLP " + std::to_string(w), w, w, w});
    if (cases.back().in != o.max_width && o.max_width >= 64) {
      cases.push_back(
          {"MLP " + std::to_string(o.max_width), o.max_width, o.max_width, o.max_width});
    }
    const bool gpu = ember::cuda::is_available();
    if (!gpu) std::printf("(no CUDA device on this machine: CPU times only)\n");
    std::printf("%-16s %14s %14s %8s", "model", "cpu us/step", "cuda us/step", "winner");
    if (o.fastest) std::printf(" %14s", "fastest_device");
    std::printf("\n");
    std::vector<Row> rows;
    for (const Case& c : cases) {
      Row row{c, time_per_step_us(c, o.batch, ember::Device::cpu()), std::nullopt, ""};
      if (gpu) row.cuda_us = time_per_step_us(c, o.batch, ember::Device::cuda());
      if (o.fastest) row.fastest = ember::fastest_device(step_factory(c, o.batch)).str();
      std::printf("%-16s %14.1f ", c.name.c_str(), row.cpu_us);
      if (row.cuda_us) {
        std::printf("%14.1f %8s", *row.cuda_us, row.cpu_us < *row.cuda_us ? "cpu" : "cuda");
      } else {
        std::printf("%14s %8s", "-", "-");
      }
      if (o.fastest) std::printf(" %14s", row.fastest.c_str());
      std::printf("\n");
      std::fflush(stdout);
      rows.push_back(row);
    }
    if (gpu) {
      if (const auto w = crossover_width(rows))
        std::printf("the GPU is faster from width ~%.0f on\n", *w);
    }
    if (!o.csv.empty()) {
      write_csv(o.csv, rows);
      std::printf("rows written to %s\n", o.csv.c_str());
    }
    if (!o.plot.empty()) plot_png(o.plot, rows, o.batch);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cpu_vs_cuda: %s\n", e.what());
    return 1;
  }
  return 0;
}
