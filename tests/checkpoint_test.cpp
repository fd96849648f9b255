// Checkpoints (trainer::checkpoint, checkpoint_epochs, checkpoint_minutes, resume; nn/checkpoint.hpp):
// a run resumed from its file, at an epoch's end or in the middle of one, in this process or after the
// process that wrote it was killed, leaves the network and the reports of a run never interrupted, bit
// for bit; a file that is missing, cut, corrupt, forged or of another run is a data_error that names it
// and leaves the network as it was; the file left behind is whole, with no temporary beside it.
#include <nn/network.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <csignal>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blobs.hpp"
#include "catch.hpp"
#include "data_error_of.hpp"

namespace {

namespace fs = std::filesystem;
using net_t = nn::network<20, 10, 5>;
using test_data::blobs;

template <class T = float>
const nn::dataset<T>& train_data() {
  static const auto d = blobs<T>(300, 1);
  return d;
}
template <class T = float>
const nn::dataset<T>& test_data_set() {
  static const auto d = blobs<T>(100, 2);
  return d;
}

// A directory of its own for each test case (ctest may run them at once), removed at the end.
struct temp_dir {
  fs::path path;
  explicit temp_dir(const std::string& name)
      : path(fs::temp_directory_path() / ("nn_checkpoint_test_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// Every setting that changes the numbers: dropout, L2 weight decay and a step schedule.
template <class Opt, class Cost>
void configure(nn::trainer<Opt, Cost>& t, std::size_t epochs) {
  t.epochs = epochs;
  t.batch_size = 10;
  t.seed = 11;
  t.dropout = 0.25;
  t.weight_decay = 1.0;
  t.schedule = nn::step_decay(2, 0.5);
  t.on_epoch = [](const nn::epoch_report&) {};
}

template <class Net>
std::vector<typename Net::value_type> params_of(const Net& net) {
  return {net.parameters().begin(), net.parameters().end()};
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <class T>
std::size_t values_differing(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return std::max(a.size(), b.size());
  std::size_t k = 0;
  for (std::size_t i = 0; i < a.size(); ++i) k += std::memcmp(&a[i], &b[i], sizeof(T)) != 0;
  return k;
}

#define REQUIRE_SAME_PARAMS(got, want)                                          \
  do {                                                                           \
    INFO(values_differing(got, want) << " of " << (want).size() << " parameters differ"); \
    REQUIRE(same_bits(got, want));                                               \
  } while (0)

bool same_double(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The reports of a resumed run against those of the run never interrupted (the times aside, and `epochs`,
// which is the length of the run that wrote each report).
void require_same_history(const std::vector<nn::epoch_report>& got, const std::vector<nn::epoch_report>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("epoch " << i << ": mean cost " << got[i].mean_cost << " against " << want[i].mean_cost);
    CHECK(got[i].epoch == want[i].epoch);
    CHECK(got[i].samples == want[i].samples);
    CHECK(same_double(got[i].mean_cost, want[i].mean_cost));
    CHECK(got[i].train_correct == want[i].train_correct);
    CHECK(got[i].correct == want[i].correct);
    CHECK(got[i].tested == want[i].tested);
    CHECK(same_double(got[i].learning_rate, want[i].learning_rate));
    CHECK(got[i].best_epoch == want[i].best_epoch);
    CHECK(got[i].stopped_early == want[i].stopped_early);
  }
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::vector<std::uint8_t>& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Where a checkpoint stands, read as the trainer's state() writes it: the run's settings, the parameters,
// the optimizer's state (skipped by a default optimizer's own checkpoint()), steps, epoch and position.
// Constructing the reader checks the magic, the length and the hash.
struct position {
  std::string network;
  std::uint32_t value_bytes = 0;
  std::uint64_t samples = 0, batch_size = 0, epoch = 0, next = 0;
  std::size_t parameters_at = 0;  // the offset of the parameters' count
  std::size_t shuffle_at = 0;     // the offset of the shuffle's random engine
};
template <class T, class Opt>
position read_position(const std::string& path) {
  nn::detail::state_reader r(path, read_bytes(path));
  position p;
  std::uint64_t seed = 0, patience = 0, steps = 0;
  double dropout = 0, decay = 0, rate = 0;
  std::string optimizer, cost;
  r(p.network);
  r(optimizer);
  r(cost);
  r(p.value_bytes);
  r(p.samples);
  r(p.batch_size);
  r(seed);
  r(dropout);
  r(decay);
  r(patience);
  r(rate);
  p.parameters_at = r.offset();
  std::vector<T> params;
  r(params);
  Opt o;
  o.checkpoint(r);
  r(steps);
  r(p.epoch);
  r(p.next);
  p.shuffle_at = r.offset();
  return p;
}

// The network and reports of a run of `epochs` epochs never interrupted (and without checkpoints).
struct outcome {
  std::vector<float> params;
  std::vector<nn::epoch_report> history;
};
template <class Opt>
outcome uninterrupted(const Opt& opt, std::size_t epochs, const nn::dataset<float>& train,
                           std::size_t patience = 0) {
  net_t net(3);
  nn::trainer<Opt> t{opt};
  configure(t, epochs);
  t.patience = patience;
  auto h = t.fit(net, train, test_data_set());
  return {params_of(net), std::move(h)};
}

// Trains `first` epochs writing a checkpoint every `every` epochs, then resumes in a new trainer and a
// network made with another seed, to `epochs`; the result must be the uninterrupted run's.
template <class Opt>
void require_resume_is_identical(const Opt& opt, const std::string& name, std::size_t first, std::size_t every,
                                 std::size_t epochs, std::size_t patience = 0) {
  INFO(name << ": " << first << " epochs with a checkpoint every " << every << ", then resumed to " << epochs);
  temp_dir dir(name);
  const std::string path = dir.file("run.ckpt");
  const auto want = uninterrupted(opt, epochs, train_data(), patience);
  if (patience) {  // it stops early, after the checkpoint, at a best epoch before it
    REQUIRE(want.history.back().stopped_early);
    REQUIRE(want.history.size() > first);
    REQUIRE(want.history.back().best_epoch < first);
  }
  {
    net_t net(3);
    nn::trainer<Opt> t{opt};
    configure(t, first);
    t.patience = patience;
    t.checkpoint = path;
    t.checkpoint_epochs = every;
    const auto h = t.fit(net, train_data(), test_data_set());
    REQUIRE(h.size() == first);
    // The interrupted run is not already done (with early stopping, both keep the best epoch's parameters).
    if (patience == 0) REQUIRE_FALSE(same_bits(params_of(net), want.params));
  }
  net_t net(99);
  REQUIRE_FALSE(same_bits(params_of(net), params_of(net_t(3))));
  nn::trainer<Opt> t{opt};
  configure(t, epochs);
  t.patience = patience;
  t.checkpoint = path;
  t.resume = true;
  const auto h = t.fit(net, train_data(), test_data_set());
  REQUIRE_SAME_PARAMS(params_of(net), want.params);
  require_same_history(h, want.history);
  REQUIRE(t.optimizer.learning_rate == opt.learning_rate);  // the schedule's changes undone
}

struct interrupted {};

}  // namespace

TEST_CASE("a run resumed from an epoch's checkpoint is the run never interrupted, bit for bit", "[checkpoint]") {
  SECTION("nn::sgd (fused into the gradient kernels)") {
    require_resume_is_identical(nn::sgd{2.0}, "sgd_3", 3, 1, 6);
    require_resume_is_identical(nn::sgd{2.0}, "sgd_1", 1, 1, 6);
  }
  SECTION("nn::momentum") {
    require_resume_is_identical(nn::momentum{0.3, 0.9}, "momentum_3", 3, 1, 6);
    require_resume_is_identical(nn::momentum{0.3, 0.9, true}, "nesterov_4", 4, 1, 6);
  }
  SECTION("nn::adam") {
    require_resume_is_identical(nn::adam{0.01}, "adam_3", 3, 1, 6);
    require_resume_is_identical(nn::adam{0.01}, "adam_5", 5, 1, 6);
  }
  SECTION("a checkpoint older than the last epoch: the epochs after it are trained again, the same") {
    require_resume_is_identical(nn::adam{0.01}, "adam_every_3", 5, 3, 6);  // the file holds epoch 3's end
    require_resume_is_identical(nn::sgd{2.0}, "sgd_every_2", 3, 2, 6);
  }
  SECTION("early stopping's best epoch and its parameters") {
    require_resume_is_identical(nn::sgd{2.0}, "patience_sgd", 3, 1, 7, 2);  // best epoch 2, stops after 4
    require_resume_is_identical(nn::adam{0.05}, "patience_adam", 2, 1, 7, 1);  // best epoch 1, stops after 2
  }
}

// The progress callback throws in the middle of an epoch, as a crash would: the last checkpoint (written
// after every step, checkpoint_minutes tiny) is the step before.
template <class Opt>
void require_mid_epoch_resume_is_identical(const Opt& opt, const std::string& name) {
  INFO(name);
  temp_dir dir(name);
  const std::string path = dir.file("run.ckpt");
  constexpr std::size_t epochs = 4, stop_at = 47;  // step 47: the 17th of the second epoch (30 a epoch)
  const auto want = uninterrupted(opt, epochs, train_data());
  {
    net_t net(3);
    nn::trainer<Opt> t{opt};
    configure(t, epochs);
    t.checkpoint = path;
    t.checkpoint_minutes = 1e-9;
    std::size_t calls = 0;
    t.on_progress = [&](std::size_t, std::size_t) {
      if (++calls == stop_at) throw interrupted{};
    };
    REQUIRE_THROWS_AS(t.fit(net, train_data(), test_data_set()), interrupted);
    REQUIRE(calls == stop_at);
  }
  const auto at = read_position<float, Opt>(path);
  REQUIRE(at.epoch == 1);
  REQUIRE(at.next == 160);  // 16 steps of 10 done
  net_t net(5);
  nn::trainer<Opt> t{opt};
  configure(t, epochs);
  t.checkpoint = path;
  t.resume = true;
  const auto h = t.fit(net, train_data(), test_data_set());
  REQUIRE_SAME_PARAMS(params_of(net), want.params);
  require_same_history(h, want.history);
}

TEST_CASE("a run stopped in the middle of an epoch resumes there, bit for bit", "[checkpoint]") {
  SECTION("nn::sgd") { require_mid_epoch_resume_is_identical(nn::sgd{2.0}, "mid_sgd"); }
  SECTION("nn::momentum") { require_mid_epoch_resume_is_identical(nn::momentum{0.3, 0.9}, "mid_momentum"); }
  SECTION("nn::adam") { require_mid_epoch_resume_is_identical(nn::adam{0.01}, "mid_adam"); }
}

TEST_CASE("writing checkpoints, after every step or every epoch, changes nothing in the run", "[checkpoint]") {
  temp_dir dir("no_change");
  const auto want = uninterrupted(nn::adam{0.01}, 4, train_data());
  for (const double minutes : {0.0, 1e-9}) {
    INFO("checkpoint_minutes " << minutes);
    net_t net(3);
    nn::trainer<nn::adam> t{nn::adam{0.01}};
    configure(t, 4);
    t.checkpoint = dir.file("run.ckpt");
    t.checkpoint_minutes = minutes;
    const auto h = t.fit(net, train_data(), test_data_set());
    REQUIRE_SAME_PARAMS(params_of(net), want.params);
    require_same_history(h, want.history);
  }
}

// A child process trains, writing a checkpoint after every step, and is killed with SIGKILL in its second
// epoch or later (the kill may land in the middle of a write: the old file must then still be whole).
// This process resumes from what it left and must get the network of a run never interrupted.
TEST_CASE("a process killed with SIGKILL in the middle of training resumes, bit for bit", "[checkpoint][fork]") {
  temp_dir dir("kill");
  const std::string path = dir.file("run.ckpt");
  const auto train = blobs(600, 7);  // 60 steps an epoch
  constexpr std::size_t epochs = 6;
  const nn::adam opt{0.01};
  const auto want = uninterrupted(opt, epochs, train);

  // fork() copies only this thread: the trainers above ran on one thread (threads = 1 starts none), so
  // no other thread exists here, and the child holds no lock another one took.
  std::fflush(nullptr);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // the child: no Catch2 here, and never back into it
    int status = 0;
    try {
      net_t net(3);
      nn::trainer<nn::adam> t{opt};
      configure(t, epochs);
      t.checkpoint = path;
      t.checkpoint_minutes = 1e-9;  // after every step
      t.checkpoint_epochs = 0;      // and only then: every file after the first is in an epoch
      // Paced, so that the parent sees it in the middle (no effect on the numbers).
      t.on_progress = [](std::size_t, std::size_t) { std::this_thread::sleep_for(std::chrono::milliseconds(2)); };
      t.fit(net, train);
    } catch (...) {
      status = 2;
    }
    ::_exit(status);
  }
  // Kills and reaps the child if the test leaves early.
  struct reaper {
    pid_t pid;
    bool reaped = false;
    ~reaper() {
      if (!reaped) {
        ::kill(pid, SIGKILL);
        int s = 0;
        ::waitpid(pid, &s, 0);
      }
    }
  } guard{child};

  // Wait until the checkpoint is in the middle of the second epoch (or later).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool ready = false, exited = false;
  std::size_t seen = 0;
  while (!ready && std::chrono::steady_clock::now() < deadline) {
    int s = 0;
    if (::waitpid(child, &s, WNOHANG) == child) {
      guard.reaped = exited = true;
      break;
    }
    try {
      const auto at = read_position<float, nn::adam>(path);
      ++seen;
      ready = at.epoch >= 1 && at.next >= 200;
    } catch (const std::exception&) {
      // not written yet
    }
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  REQUIRE_FALSE(exited);
  REQUIRE(ready);
  std::this_thread::sleep_for(std::chrono::milliseconds(37));  // a few more steps: a kill at any point
  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  guard.reaped = true;
  INFO("the child's wait status " << status);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);

  const auto at = read_position<float, nn::adam>(path);  // whole, whatever the kill interrupted
  INFO("killed at epoch " << at.epoch << ", sample " << at.next << " (the parent read " << seen << " checkpoints)");
  REQUIRE(at.epoch >= 1);
  REQUIRE(at.epoch < epochs);
  REQUIRE(at.next > 0);

  net_t net(77);
  nn::trainer<nn::adam> t{opt};
  configure(t, epochs);
  t.checkpoint = path;
  t.resume = true;
  const auto h = t.fit(net, train);
  REQUIRE_SAME_PARAMS(params_of(net), want.params);
  // want's reports were made with test data, these without: compare the training side.
  REQUIRE(h.size() == want.history.size());
  for (std::size_t i = 0; i < h.size(); ++i) {
    INFO("epoch " << i);
    CHECK(same_double(h[i].mean_cost, want.history[i].mean_cost));
    CHECK(h[i].train_correct == want.history[i].train_correct);
  }
  REQUIRE_FALSE(fs::exists(path + ".tmp"));  // a temporary the kill left is replaced and renamed away
  const auto end = read_position<float, nn::adam>(path);
  REQUIRE(end.epoch == epochs);
  REQUIRE(end.next == 0);
}

TEST_CASE("the file left by a finished run is whole and final, with no temporary file beside it", "[checkpoint]") {
  temp_dir dir("final");
  const std::string path = dir.file("run.ckpt");
  net_t net(3);
  nn::trainer<nn::momentum> t{nn::momentum{0.3, 0.9}};
  configure(t, 4);
  t.checkpoint = path;
  t.checkpoint_epochs = 1;
  const auto h = t.fit(net, train_data(), test_data_set());

  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir.path)) files.push_back(e.path().filename().string());
  REQUIRE(files == std::vector<std::string>{"run.ckpt"});
  REQUIRE_FALSE(fs::exists(path + ".tmp"));

  const auto bytes = read_bytes(path);
  REQUIRE(bytes.size() > 28 + 8);
  REQUIRE(std::memcmp(bytes.data(), "nnckpoint\0\0\0\0\0\0\0", 16) == 0);
  std::uint64_t payload = 0;
  std::memcpy(&payload, bytes.data() + 20, 8);
  REQUIRE(payload == bytes.size() - 28 - 8);
  const auto at = read_position<float, nn::momentum>(path);  // checks the hash too
  REQUIRE(at.network == net_t::name());
  REQUIRE(at.value_bytes == sizeof(float));
  REQUIRE(at.samples == 300);
  REQUIRE(at.batch_size == 10);
  REQUIRE(at.epoch == 4);
  REQUIRE(at.next == 0);

  SECTION("resuming the finished run trains nothing more and gives its network and reports") {
    net_t other(42);
    nn::trainer<nn::momentum> r{nn::momentum{0.3, 0.9}};
    configure(r, 4);
    r.checkpoint = path;
    r.resume = true;
    const auto again = r.fit(other, train_data(), test_data_set());
    REQUIRE_SAME_PARAMS(params_of(other), params_of(net));
    require_same_history(again, h);
  }
  SECTION("a run made longer from it is the longer run never interrupted") {
    const auto want = uninterrupted(nn::momentum{0.3, 0.9}, 7, train_data());
    net_t other(42);
    nn::trainer<nn::momentum> r{nn::momentum{0.3, 0.9}};
    configure(r, 7);
    r.checkpoint = path;
    r.resume = true;
    const auto longer = r.fit(other, train_data(), test_data_set());
    REQUIRE_SAME_PARAMS(params_of(other), want.params);
    require_same_history(longer, want.history);
  }
}

namespace {

struct unfused_sgd {  // no checkpoint(): its state cannot be saved
  double learning_rate = 0.5;
  template <class T>
  void step(std::span<T> p, std::span<const T> g) const {
    for (std::size_t i = 0; i < p.size(); ++i) p[i] -= static_cast<T>(learning_rate) * g[i];
  }
};

// The checkpoint of a 2-epoch Adam run with every setting in use: what the error tests resume from.
void write_adam_checkpoint(const std::string& path) {
  net_t net(3);
  nn::trainer<nn::adam> t{nn::adam{0.01}};
  configure(t, 2);
  t.checkpoint = path;
  t.fit(net, train_data<float>(), test_data_set<float>());
}

// A failed resume: the data_error it throws, after checking that the network and the trainer's optimizer
// are as they were and the file untouched.
template <class Net = net_t>
nn::data_error failed_resume(const std::string& path, std::size_t batch_size = 10, std::uint64_t seed = 11) {
  Net net(8);
  const auto before = params_of(net);
  const auto file_before = read_bytes(path);
  nn::trainer<nn::adam> t{nn::adam{0.01}};
  configure(t, 4);
  t.batch_size = batch_size;
  t.seed = seed;
  t.checkpoint = path;
  t.resume = true;
  using T = typename Net::value_type;
  const auto e = error_of([&] { t.fit(net, train_data<T>(), test_data_set<T>()); });
  REQUIRE_SAME_PARAMS(params_of(net), before);
  REQUIRE(t.optimizer.steps() == 0);
  REQUIRE(t.optimizer.learning_rate == 0.01);
  REQUIRE(read_bytes(path) == file_before);
  REQUIRE(e.file() == path);
  REQUIRE_THAT(e.what(), contains_text(path));
  return e;
}

}  // namespace

TEST_CASE("bad files and other runs' files are data_errors naming the file, and the network stays as it was", "[checkpoint]") {
  temp_dir dir("errors");
  const std::string good = dir.file("good.ckpt");
  write_adam_checkpoint(good);
  const auto bytes = read_bytes(good);
  REQUIRE(bytes.size() > 1000);
  const auto copy = [&](const std::string& name, const std::vector<std::uint8_t>& b) {
    const std::string p = dir.file(name);
    write_bytes(p, b);
    return p;
  };

  SECTION("a missing file") {
    const std::string p = dir.file("missing.ckpt");
    net_t net(8);
    const auto before = params_of(net);
    nn::trainer<nn::adam> t{nn::adam{0.01}};
    configure(t, 4);
    t.checkpoint = p;
    t.resume = true;
    const auto e = error_of([&] { t.fit(net, train_data(), test_data_set()); });
    REQUIRE(e.file() == p);
    REQUIRE_THAT(e.what(), contains_text(p));
    REQUIRE_THAT(e.what(), contains_text("expected a checkpoint file, found no file"));
    REQUIRE_SAME_PARAMS(params_of(net), before);
    REQUIRE_FALSE(fs::exists(p));
  }
  SECTION("a truncated file") {
    auto b = bytes;
    b.resize(b.size() - 5);
    const auto e = failed_resume(copy("cut.ckpt", b));
    REQUIRE_THAT(e.what(), contains_text("the header promises " + std::to_string(bytes.size() - 36) + " bytes of state, the file holds " +
                                         std::to_string(bytes.size() - 41) + " (a truncated or extended file)"));
  }
  SECTION("a file cut inside its header") {
    auto b = bytes;
    b.resize(20);
    const auto e = failed_resume(copy("stub.ckpt", b));
    REQUIRE_THAT(e.what(), contains_text("expected an nn checkpoint"));
    REQUIRE_THAT(e.what(), contains_text("found 20 bytes"));
  }
  SECTION("a flipped byte in the state") {
    auto b = bytes;
    b[b.size() / 2] ^= 0x10;
    const auto e = failed_resume(copy("flipped.ckpt", b));
    REQUIRE_THAT(e.what(), contains_text("the state's hash does not match its bytes (a corrupt file)"));
  }
  SECTION("a flipped byte in the hash") {
    auto b = bytes;
    b.back() ^= 0x01;
    const auto e = failed_resume(copy("flipped_hash.ckpt", b));
    REQUIRE_THAT(e.what(), contains_text("hash does not match"));
  }
  SECTION("another version") {
    auto b = bytes;
    b[16] = 9;
    const auto e = failed_resume(copy("version.ckpt", b));
    REQUIRE_THAT(e.what(), contains_text("byte 16: expected checkpoint version 1, found 9"));
  }
  SECTION("a file that is not a checkpoint") {
    const std::string text = "epoch,cost\n0,0.25\n1,0.125\n2,0.0625\n3,0.03125\n4,0.015625\n";
    const auto e = failed_resume(copy("not.ckpt", std::vector<std::uint8_t>(text.begin(), text.end())));
    REQUIRE_THAT(e.what(), contains_text("expected an nn checkpoint"));
    REQUIRE_THAT(e.what(), contains_text("starting \"epoch,cos\""));
  }
  SECTION("an empty file") {
    const auto e = failed_resume(copy("empty.ckpt", {}));
    REQUIRE_THAT(e.what(), contains_text("expected an nn checkpoint"));
    REQUIRE_THAT(e.what(), contains_text("found 0 bytes"));
  }
  SECTION("a directory") {
    const std::string p = dir.file("a_directory");
    fs::create_directory(p);
    net_t net(8);
    nn::trainer<nn::adam> t{nn::adam{0.01}};
    configure(t, 4);
    t.checkpoint = p;
    t.resume = true;
    const auto e = error_of([&] { t.fit(net, train_data(), test_data_set()); });
    REQUIRE(e.file() == p);
    REQUIRE_THAT(e.what(), contains_text("not a regular file"));
  }
  SECTION("a checkpoint made with batch_size 10, resumed with 20") {
    const auto e = failed_resume(good, 20);
    REQUIRE_THAT(e.what(), contains_text("the checkpoint's batch_size is 10, this run's is 20"));
  }
  SECTION("a checkpoint made with another seed") {
    const auto e = failed_resume(good, 10, 12);
    REQUIRE_THAT(e.what(), contains_text("the checkpoint's seed is 11, this run's is 12"));
  }
  SECTION("a checkpoint of another network") {
    using other_t = nn::network<20, 12, 5>;
    const auto e = failed_resume<other_t>(good);
    REQUIRE_THAT(e.what(), contains_text("the checkpoint's network is \"" + net_t::name() + "\", this run's is \"" + other_t::name() + "\""));
  }
  SECTION("a checkpoint of the same layers in double") {
    using other_t = nn::basic_network<nn::policies<double>, 20, 10, 5>;
    REQUIRE(other_t::name() == net_t::name());
    const auto e = failed_resume<other_t>(good);
    REQUIRE_THAT(e.what(), contains_text("the checkpoint's bytes per value is 4, this run's is 8"));
  }
  SECTION("other training data (another number of samples)") {
    net_t net(8);
    const auto before = params_of(net);
    nn::trainer<nn::adam> t{nn::adam{0.01}};
    configure(t, 4);
    t.checkpoint = good;
    t.resume = true;
    const auto e = error_of([&] { t.fit(net, blobs(299, 1), test_data_set()); });
    REQUIRE_THAT(e.what(), contains_text("the checkpoint's training samples is 300, this run's is 299"));
    REQUIRE_SAME_PARAMS(params_of(net), before);
  }
  SECTION("a forged file with a right hash: a count larger than the file") {
    const auto at = read_position<float, nn::adam>(good);
    auto b = bytes;
    const std::uint64_t huge = std::uint64_t{1} << 40;
    std::memcpy(b.data() + at.parameters_at, &huge, 8);
    const std::uint64_t h = nn::detail::fnv1a(b.data() + 28, b.size() - 36);
    std::memcpy(b.data() + b.size() - 8, &h, 8);
    const auto e = failed_resume(copy("forged.ckpt", b));
    REQUIRE_THAT(e.what(), contains_text("byte " + std::to_string(at.parameters_at) + ": a count of 1099511627776 values of 4 bytes"));
  }
  SECTION("a forged file with a right hash: the shuffle's random engine all zero (it would never draw again)") {
    const auto at = read_position<float, nn::adam>(good);
    auto b = bytes;
    std::fill(b.begin() + static_cast<std::ptrdiff_t>(at.shuffle_at), b.begin() + static_cast<std::ptrdiff_t>(at.shuffle_at) + 32, std::uint8_t{0});
    const std::uint64_t h = nn::detail::fnv1a(b.data() + 28, b.size() - 36);
    std::memcpy(b.data() + b.size() - 8, &h, 8);
    const auto e = failed_resume(copy("zero_rng.ckpt", b));
    REQUIRE_THAT(e.what(), contains_text("byte " + std::to_string(at.shuffle_at) + ": expected the shuffle's random engine"));
  }
  SECTION("a forged file with a right hash: bytes after the state (found after the parameters were read)") {
    auto b = bytes;
    b.insert(b.end() - 8, 8, std::uint8_t{0});
    const std::uint64_t payload = b.size() - 36;
    std::memcpy(b.data() + 20, &payload, 8);
    const std::uint64_t h = nn::detail::fnv1a(b.data() + 28, payload);
    std::memcpy(b.data() + b.size() - 8, &h, 8);
    const auto e = failed_resume(copy("longer.ckpt", b));
    REQUIRE_THAT(e.what(), contains_text("byte " + std::to_string(bytes.size() - 8) + ": expected the end of the state, found 8 more bytes"));
  }
  SECTION("a forged file with a right hash: the state ends early") {
    nn::detail::state_writer w;
    w(net_t::name());  // and nothing after it: the optimizer's name is missing
    const std::string p = dir.file("short.ckpt");
    write_bytes(p, w.file());
    const auto e = failed_resume(p);
    REQUIRE_THAT(e.what(), contains_text("expected a value of 8 bytes, found 0 before the hash"));
  }
}

TEST_CASE("settings that cannot work are std::invalid_argument before anything is written", "[checkpoint]") {
  temp_dir dir("settings");
  net_t net(3);
  const auto before = params_of(net);
  SECTION("resume without a path") {
    nn::trainer<nn::adam> t{nn::adam{0.01}};
    configure(t, 2);
    t.resume = true;
    REQUIRE_THROWS_AS(t.fit(net, train_data()), std::invalid_argument);
    REQUIRE_THROWS_WITH(t.fit(net, train_data()), contains_text("resume needs the checkpoint file's path"));
  }
  SECTION("checkpoint_minutes below 0") {
    nn::trainer<nn::adam> t{nn::adam{0.01}};
    configure(t, 2);
    t.checkpoint = dir.file("run.ckpt");
    t.checkpoint_minutes = -1;
    REQUIRE_THROWS_AS(t.fit(net, train_data()), std::invalid_argument);
    REQUIRE_FALSE(fs::exists(dir.file("run.ckpt")));
  }
  SECTION("an optimizer whose state cannot be saved") {
    nn::trainer<unfused_sgd> t{unfused_sgd{}};
    configure(t, 2);
    t.checkpoint = dir.file("run.ckpt");
    REQUIRE_THROWS_AS(t.fit(net, train_data()), std::invalid_argument);
    REQUIRE_THROWS_WITH(t.fit(net, train_data()), contains_text("checkpoint(archive&)"));
    REQUIRE_FALSE(fs::exists(dir.file("run.ckpt")));
  }
  SECTION("a directory that does not exist is a data_error at the start, not after an epoch") {
    nn::trainer<nn::adam> t{nn::adam{0.01}};
    configure(t, 2);
    const std::string p = dir.file("no_such_dir/run.ckpt");
    t.checkpoint = p;
    const auto e = error_of([&] { t.fit(net, train_data()); });
    REQUIRE(e.file() == p);
    REQUIRE_THAT(e.what(), contains_text("cannot create the temporary file"));
  }
  REQUIRE_SAME_PARAMS(params_of(net), before);
}

TEST_CASE("another optimizer, its other settings or another cost are data_errors naming them", "[checkpoint]") {
  temp_dir dir("policies");
  const std::string path = dir.file("adam.ckpt");
  write_adam_checkpoint(path);
  const auto resume_with = [&](auto t) {
    net_t net(8);
    const auto before = params_of(net);
    configure(t, 4);
    t.checkpoint = path;
    t.resume = true;
    const auto e = error_of([&] { t.fit(net, train_data<float>(), test_data_set<float>()); });
    REQUIRE_SAME_PARAMS(params_of(net), before);
    return std::string(e.what());
  };
  REQUIRE_THAT(resume_with(nn::trainer<nn::adam>{nn::adam{0.01, 0.5}}), contains_text("the checkpoint's adam's beta1 is 0.90000000000000002, this run's is 0.5"));
  REQUIRE_THAT(resume_with(nn::trainer<nn::momentum>{nn::momentum{0.01}}), contains_text("the checkpoint's optimizer is"));
  REQUIRE_THAT(resume_with(nn::trainer<nn::adam, nn::cross_entropy>{nn::adam{0.01}}), contains_text("the checkpoint's cost is"));
  // The learning rate, printed with every digit.
  REQUIRE_THAT(resume_with(nn::trainer<nn::adam>{nn::adam{0.0100000001}}),
               contains_text("the checkpoint's starting learning rate is 0.01, this run's is 0.0100000001 "));
}
