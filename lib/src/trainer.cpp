#include "digitnet/trainer.h"

#include "digitnet/device.h"

#include <torch/optim/adamw.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <stdexcept>

namespace digitnet {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kCheckpointName = "model.pt";
constexpr const char* kMetricsName = "metrics.json";

// splitmix64: turns (seed, epoch, batch) into independent generator seeds.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
uint64_t epoch_seed(uint64_t seed, int64_t epoch) { return mix(mix(seed) ^ uint64_t(epoch)); }
uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t batch) {
  return mix(epoch_seed(seed, epoch) ^ (uint64_t(batch) << 20) ^ 0x5bd1e995ULL);
}

void set_lr(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups())
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

Manifest full_manifest(TrainTask& task, const TrainOptions& o) {
  Manifest m = task.manifest();
  m["train.epochs"] = std::to_string(o.epochs);
  m["train.lr"] = std::to_string(o.lr);
  m["train.weight_decay"] = std::to_string(o.weight_decay);
  m["train.batch_size"] = std::to_string(o.batch_size);
  m["train.seed"] = std::to_string(o.seed);
  return m;
}

bool must_match(const std::string& key) {
  return key == "kind" || key.rfind("model.", 0) == 0 || key.rfind("data.", 0) == 0 ||
         key.rfind("train.", 0) == 0;
}

void check_resumable(const Manifest& saved, const Manifest& now, const std::filesystem::path& file) {
  for (const auto& [key, value] : now) {
    if (!must_match(key)) continue;
    const auto it = saved.find(key);
    const std::string old = it == saved.end() ? "(absent)" : it->second;
    if (old != value)
      throw std::runtime_error("--resume: " + file.string() + " was written with " + key + "=" + old +
                               ", this run has " + key + "=" + value + " (use the same options or a new --out)");
  }
}

// Where a run stands: what a checkpoint stores besides the weights.
struct Position {
  int64_t epoch = 0;  // epochs completed
  int64_t batch = 0;  // batches completed in the current epoch
  double loss_sum = 0.0;
  int64_t samples = 0;
  double elapsed_s = 0.0;
  std::vector<EpochStats> history;
};

// `optimizer` is null for the final checkpoint of a complete run: nothing is left to resume,
// and leaving the optimizer's moments out makes the file three times smaller.
void write_position(torch::serialize::OutputArchive& ar, const Position& p,
                    torch::optim::Optimizer* optimizer) {
  torch::serialize::OutputArchive state;
  state.write("epoch", c10::IValue(p.epoch));
  state.write("batch", c10::IValue(p.batch));
  state.write("loss_sum", c10::IValue(p.loss_sum));
  state.write("samples", c10::IValue(p.samples));
  state.write("elapsed_s", c10::IValue(p.elapsed_s));
  std::vector<int64_t> epochs;
  std::vector<double> loss, seconds, elapsed, rate, lr, wait;
  std::vector<std::string> keys;
  for (const auto& h : p.history) {
    epochs.push_back(h.epoch);
    loss.push_back(h.train_loss);
    seconds.push_back(h.seconds);
    elapsed.push_back(h.elapsed_s);
    rate.push_back(h.samples_per_s);
    lr.push_back(h.lr);
    wait.push_back(h.data_wait_s);
    for (const auto& kv : h.eval)
      if (std::find(keys.begin(), keys.end(), kv.first) == keys.end()) keys.push_back(kv.first);
  }
  state.write("h.epoch", c10::IValue(epochs));
  state.write("h.train_loss", c10::IValue(loss));
  state.write("h.seconds", c10::IValue(seconds));
  state.write("h.elapsed_s", c10::IValue(elapsed));
  state.write("h.samples_per_s", c10::IValue(rate));
  state.write("h.lr", c10::IValue(lr));
  state.write("h.data_wait_s", c10::IValue(wait));
  std::string joined;
  for (const auto& k : keys) joined += (joined.empty() ? "" : ",") + k;
  state.write("h.eval_keys", c10::IValue(joined));
  for (const auto& k : keys) {
    std::vector<double> values;
    for (const auto& h : p.history) {
      const auto it = h.eval.find(k);
      values.push_back(it == h.eval.end() ? std::nan("") : it->second);
    }
    state.write("h.eval." + k, c10::IValue(values));
  }
  if (optimizer) {
    torch::serialize::OutputArchive opt;
    optimizer->save(opt);
    state.write("optimizer", opt);
  }
  ar.write("trainer", state);
}

Position read_position(CheckpointReader& reader, torch::optim::Optimizer& optimizer,
                       const std::filesystem::path& file, int64_t total_epochs) {
  torch::serialize::InputArchive state;
  if (!reader.read_archive("trainer", state))
    throw std::runtime_error("--resume: " + file.string() + " holds no training state (a final export?)");
  const auto read = [&](const char* key) {
    c10::IValue v;
    if (!state.try_read(key, v))
      throw std::runtime_error("--resume: " + file.string() + " lacks training state '" + key + "'");
    return v;
  };
  Position p;
  p.epoch = read("epoch").toInt();
  p.batch = read("batch").toInt();
  p.loss_sum = read("loss_sum").toDouble();
  p.samples = read("samples").toInt();
  p.elapsed_s = read("elapsed_s").toDouble();
  const auto epochs = read("h.epoch").toIntVector();
  const auto loss = read("h.train_loss").toDoubleVector();
  const auto seconds = read("h.seconds").toDoubleVector();
  const auto elapsed = read("h.elapsed_s").toDoubleVector();
  const auto rate = read("h.samples_per_s").toDoubleVector();
  const auto lr = read("h.lr").toDoubleVector();
  const auto wait = read("h.data_wait_s").toDoubleVector();
  const std::string joined = read("h.eval_keys").toStringRef();
  for (size_t i = 0; i < epochs.size(); ++i) {
    EpochStats h;
    h.epoch = epochs[i];
    h.train_loss = loss.at(i);
    h.seconds = seconds.at(i);
    h.elapsed_s = elapsed.at(i);
    h.samples_per_s = rate.at(i);
    h.lr = lr.at(i);
    h.data_wait_s = wait.at(i);
    p.history.push_back(h);
  }
  size_t start = 0;
  while (!joined.empty() && start <= joined.size()) {
    const size_t comma = joined.find(',', start);
    const std::string key = joined.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto values = read(("h.eval." + key).c_str()).toDoubleVector();
    for (size_t i = 0; i < p.history.size() && i < values.size(); ++i)
      if (!std::isnan(values[i])) p.history[i].eval[key] = values[i];
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  torch::serialize::InputArchive opt;
  if (state.try_read("optimizer", opt))
    optimizer.load(opt);
  else if (p.epoch < total_epochs)
    throw std::runtime_error("--resume: " + file.string() + " lacks the optimizer state");
  return p;
}

}  // namespace

double one_cycle_lr(double peak, double t) {
  constexpr double kWarmup = 0.25;
  const double start = peak / 25.0, end = peak / 1e4;
  const auto cos_interp = [](double a, double b, double f) {
    return b + (a - b) * 0.5 * (1.0 + std::cos(M_PI * f));
  };
  if (t < kWarmup) return cos_interp(start, peak, t / kWarmup);
  return cos_interp(peak, end, std::min(1.0, (t - kWarmup) / (1.0 - kWarmup)));
}

void check_train_options(const TrainOptions& o) {
  if (o.epochs < 1 || o.epochs > 100000)
    throw std::invalid_argument("--epochs must be between 1 and 100000, not " + std::to_string(o.epochs));
  if (!(o.lr > 0.0 && o.lr <= 10.0)) throw std::invalid_argument("--lr must be in (0, 10]");
  if (!(o.weight_decay >= 0.0 && o.weight_decay < 1.0))
    throw std::invalid_argument("--weight-decay must be in [0, 1)");
  if (o.batch_size < 1 || o.batch_size > 65536)
    throw std::invalid_argument("--batch-size must be between 1 and 65536, not " +
                                std::to_string(o.batch_size));
  if (o.out_dir.empty()) throw std::invalid_argument("--out must name a folder");
}

void write_metrics(const std::filesystem::path& file, const std::vector<EpochStats>& history,
                   const Manifest& manifest, bool complete) {
  Json info = Json::object();
  for (const auto& [k, v] : manifest) info.set(k, v);
  const auto text = Json::object()
                        .set("complete", complete)
                        .set("manifest", info)
                        .set("epochs", history_json(history))
                        .dump(2);
  const auto tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text << '\n';
    if (!out.flush()) throw std::runtime_error("cannot write " + file.string());
  }
  std::filesystem::rename(tmp, file);
}

Json history_json(const std::vector<EpochStats>& history) {
  Json epochs = Json::array();
  for (const auto& h : history) {
    Json eval = Json::object();
    for (const auto& [k, v] : h.eval) eval.set(k, v);
    epochs.push(Json::object()
                    .set("epoch", h.epoch)
                    .set("train_loss", h.train_loss)
                    .set("eval", eval)
                    .set("seconds", h.seconds)
                    .set("elapsed_s", h.elapsed_s)
                    .set("samples_per_s", h.samples_per_s)
                    .set("lr", h.lr)
                    .set("data_wait_s", h.data_wait_s));
  }
  return epochs;
}

TrainResult train(TrainTask& task, const TrainOptions& o, const TrainCallbacks& callbacks) {
  check_train_options(o);
  auto& model = task.model();
  if (o.channels_last) use_channels_last(model);
  torch::optim::AdamW optimizer(model.parameters(),
                                torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
  const auto checkpoint = o.out_dir / kCheckpointName;
  const auto metrics = o.out_dir / kMetricsName;
  Manifest manifest = full_manifest(task, o);

  Position pos;
  if (o.resume) {
    if (!std::filesystem::exists(checkpoint))
      throw std::runtime_error("--resume: no checkpoint at " + checkpoint.string());
    CheckpointReader reader(checkpoint);
    check_resumable(reader.manifest(), manifest, checkpoint);
    reader.load_weights(model);
    pos = read_position(reader, optimizer, checkpoint, o.epochs);
  } else if (std::filesystem::exists(checkpoint)) {
    throw std::runtime_error(checkpoint.string() +
                             " exists: pass --resume to continue that run, or choose another --out");
  }
  std::filesystem::create_directories(o.out_dir);

  const auto save = [&](const Position& p, bool final) {
    save_checkpoint(checkpoint, model, manifest, [&](torch::serialize::OutputArchive& ar) {
      write_position(ar, p, final ? nullptr : &optimizer);
    });
  };

  TrainResult result;
  result.checkpoint = checkpoint;
  const int64_t batches = task.batches_per_epoch();
  if (batches < 1) throw std::runtime_error("the training set is empty");
  const int64_t total_steps = o.epochs * batches;
  const double wait_at_start = task.data_wait_seconds();

  for (int64_t epoch = pos.epoch; epoch < o.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    const double elapsed_before = pos.elapsed_s;
    const double wait_before = task.data_wait_seconds();
    task.begin_epoch(epoch, epoch_seed(o.seed, epoch));
    model.train();
    // Summed on the loss's device and read only for progress, so CUDA never waits per batch.
    torch::Tensor loss_sum;
    const auto loss_value = [&] { return loss_sum.defined() ? loss_sum.item<double>() : 0.0; };
    double loss_sum_base = pos.loss_sum;
    int64_t samples = pos.samples;
    const int64_t first_batch = pos.batch;
    int64_t samples_this_run = 0;
    auto last_report = Clock::now();
    double lr = o.lr;
    for (int64_t b = first_batch; b < batches; ++b) {
      if (o.stop && o.stop->load()) {
        pos.batch = b;
        pos.loss_sum = loss_sum_base + loss_value();
        pos.samples = samples;
        pos.elapsed_s = elapsed_before + std::chrono::duration<double>(Clock::now() - epoch_start).count();
        save(pos, false);
        result.history = pos.history;
        result.interrupted = true;
        return result;
      }
      torch::manual_seed(batch_seed(o.seed, epoch, b));
      lr = one_cycle_lr(o.lr, double(epoch * batches + b) / double(total_steps));
      set_lr(optimizer, lr);
      optimizer.zero_grad();
      int64_t n = 0;
      auto loss = task.batch_loss(b, n);
      loss.backward();
      optimizer.step();
      const auto weighted = loss.detach().to(torch::kDouble) * double(n);
      loss_sum = loss_sum.defined() ? loss_sum + weighted : weighted;
      samples += n;
      samples_this_run += n;
      if (callbacks.on_progress &&
          (std::chrono::duration<double>(Clock::now() - last_report).count() >= o.progress_interval_s ||
           b + 1 == batches)) {
        last_report = Clock::now();
        const double secs = std::chrono::duration<double>(last_report - epoch_start).count();
        TrainProgress p;
        p.epoch = epoch + 1;
        p.epochs = o.epochs;
        p.batch = b + 1;
        p.batches = batches;
        p.loss = (loss_sum_base + loss_value()) / double(std::max<int64_t>(1, samples));
        p.samples_per_s = secs > 0 ? double(samples_this_run) / secs : 0.0;
        const double steps_left = double((o.epochs - epoch) * batches - (b + 1));
        const double per_step = secs / double(b + 1 - first_batch);
        p.eta_s = steps_left * per_step;
        p.lr = lr;
        p.data_wait_s = task.data_wait_seconds() - wait_at_start;
        callbacks.on_progress(p);
      }
    }
    const double train_secs = std::chrono::duration<double>(Clock::now() - epoch_start).count();

    EpochStats stats;
    stats.epoch = epoch + 1;
    stats.train_loss = (loss_sum_base + loss_value()) / double(std::max<int64_t>(1, samples));
    model.eval();
    {
      torch::NoGradGuard no_grad;
      stats.eval = task.evaluate();
    }
    stats.seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    stats.elapsed_s = elapsed_before + stats.seconds;
    stats.samples_per_s = train_secs > 0 ? double(samples_this_run) / train_secs : 0.0;
    stats.lr = lr;
    stats.data_wait_s = task.data_wait_seconds() - wait_before;
    pos.history.push_back(stats);
    pos.epoch = epoch + 1;
    pos.batch = 0;
    pos.loss_sum = 0.0;
    pos.samples = 0;
    pos.elapsed_s = stats.elapsed_s;
    if (epoch + 1 < o.epochs) {
      save(pos, false);
      write_metrics(metrics, pos.history, manifest, false);
    }
    if (callbacks.on_epoch) callbacks.on_epoch(stats, pos.history);
  }

  model.eval();
  task.finish();
  manifest = full_manifest(task, o);
  save(pos, true);
  write_metrics(metrics, pos.history, manifest, true);
  result.history = pos.history;
  return result;
}

}  // namespace digitnet
