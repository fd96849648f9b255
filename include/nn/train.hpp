// Training by mini-batch stochastic gradient descent: nn::trainer's epochs, shuffles, mini-batches, early
// stopping, schedules and reports. Each mini-batch is one nn::train_step (nn/step.hpp), shared by the
// trainer's threads; evaluation is in nn/evaluate.hpp, reports and divergence in nn/report.hpp.
#pragma once

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "nn/callback.hpp"
#include "nn/checkpoint.hpp"
#include "nn/cost.hpp"
#include "nn/data/dataset.hpp"
#include "nn/detail/aligned_buffer.hpp"
#include "nn/detail/clock.hpp"
#include "nn/detail/shape_check.hpp"
#include "nn/detail/thread_team.hpp"
#include "nn/evaluate.hpp"
#include "nn/fwd.hpp"
#include "nn/layer.hpp"
#include "nn/optimizer.hpp"
#include "nn/random.hpp"
#include "nn/report.hpp"
#include "nn/step.hpp"

namespace nn {


// Mini-batch SGD with a pluggable optimizer and cost (docs/policies.md).
//   nn::trainer<> t{nn::sgd{3.0}};  t.epochs = 30;  t.batch_size = 10;
//   t.fit(net, training_data, test_data);
template <class Optimizer, class Cost>
class trainer {
 public:
  Optimizer optimizer{};
  Cost cost{};
  std::size_t epochs = 30;
  std::size_t batch_size = 10;
  std::uint64_t seed = 0;  // seeds the shuffle of every epoch
  // Threads for training and evaluation. A mini-batch is shared out when it has at least
  // min_rows_per_thread samples per thread (smaller ones train on one thread: the threads would cost
  // more than they save); evaluation always uses them. The trained network is the same bit for bit
  // whatever the number (docs/design.md, "Threads").
  std::size_t threads = 1;
  static constexpr std::size_t min_rows_per_thread = 16;
  // L2 regularisation (the course's chapter 3): λ in C = C0 + (λ/2n) Σ_w w², n the training samples; every
  // weight (not the biases) decays by η·λ/n per step. 0: none. Reported costs are C0 (without the L2 term).
  double weight_decay = 0;
  // Optional learning-rate schedule: the factor, at each epoch, by which the optimizer's learning_rate
  // (its value when fit starts) is multiplied, e.g. nn::step_decay(10, 0.5) or nn::cosine_decay(30).
  // fit restores the starting rate when it returns.
  callback<double(std::size_t epoch)> schedule;
  // Early stopping: with patience p > 0, fit stops when the count correct on the data passed as its
  // third argument (a validation set) has not risen for p epochs, and leaves the network with the
  // parameters of the best epoch (the first of equals). Keras's EarlyStopping with
  // restore_best_weights. 0: off (train all epochs, keep the last parameters).
  std::size_t patience = 0;
  // Dropout on the hidden layers during training (nn::dropout): each hidden unit of each sample is
  // dropped with this probability in each step, the kept ones scaled by 1/(1 − p); evaluation and
  // predict use the whole network. The masks depend on seed, epoch, mini-batch and row only, so results
  // are the same on any number of threads. 0: off.
  double dropout = 0;
  // Training over several processes, data parallel (docs/distributed.md): every process runs fit with
  // the same settings and data source; each takes its part of every mini-batch, the gradients are added
  // up over all, and every one applies the same update. nn::mpi::group (nn/mpi.hpp) connects processes
  // over MPI. The reports are the whole run's; on_epoch and on_progress are called on process 0 only.
  process_group* processes = nullptr;
  // Checkpoints (docs/distributed.md): with a path, fit writes the whole state of the run there (the
  // network, the optimizer's state, the shuffle, the schedule's epoch, early stopping, the reports)
  // when it starts, after every checkpoint_epochs epochs and, with checkpoint_minutes > 0, after the
  // first step that ends that long after the last one. Each write replaces the last atomically. With
  // resume, fit goes on from the file: the network it leaves is the one of a run never interrupted,
  // bit for bit.
  std::string checkpoint;
  std::size_t checkpoint_epochs = 1;
  double checkpoint_minutes = 0;
  bool resume = false;
  // Subnormal numbers (below 1.2e-38 in float) become 0 in the training steps (nn::step_settings): x86
  // CPUs compute with them on a slow path, which cost the course's network at η = 3 a quarter of its speed.
  // Evaluation, inference and the callbacks run in the thread's own state. false: IEEE arithmetic in the
  // steps. A run resumed from a checkpoint gives the uninterrupted run's bits only with the same setting.
  bool flush_subnormals = true;
  callback<void(const epoch_report&)> on_epoch = print_report;
  // Optional: (samples done, samples in the epoch), about 100 times an epoch, e.g. for a progress bar.
  callback<void(std::size_t, std::size_t)> on_progress;

  trainer() = default;
  explicit trainer(Optimizer o, Cost c = {}) : optimizer(std::move(o)), cost(std::move(c)) {}

  template <class Net, class Train>
  std::vector<epoch_report> fit(Net& net, const Train& train) {
    return run(net, train, static_cast<const Train*>(nullptr));
  }
  template <class Net, class Train, class Test>
  std::vector<epoch_report> fit(Net& net, const Train& train, const Test& test) {
    return run(net, train, &test);
  }

  // One step on the mini-batch already in ws; returns the batch's total cost. weight_decay needs n, the
  // number of training samples (fit passes it; by hand, say it here).
  template <class Net>
  typename Net::value_type step(Net& net, typename Net::workspace& ws, std::size_t training_samples = 0) {
    using T = typename Net::value_type;
    const nn::dropout drop{dropout, detail::mix64(seed ^ 0x73746570ULL ^ detail::mix64(++steps_))};
    return train_step(net, ws, optimizer, cost, grads<T>(), step_settings<T>{l2_of<T>(training_samples), drop, flush_subnormals});
  }

 private:
  std::uint64_t steps_ = 0;  // steps taken by step(), for its dropout masks

  template <class T>
  T l2_of(std::size_t n) const {
    if (weight_decay == 0) return T(0);
    if (n == 0) throw std::invalid_argument("nn::trainer: weight_decay needs the number of training samples");
    return static_cast<T>(weight_decay / static_cast<double>(n));
  }

  // Holds the optimizer's starting learning rate while a schedule changes it, and puts it back.
  class rate_keeper {
   public:
    rate_keeper(Optimizer& o, bool active) : o_(active ? &o : nullptr) {
      if constexpr (requires { o.learning_rate; }) {
        if (o_) base_ = static_cast<double>(o.learning_rate);
      } else if (active) {
        throw std::invalid_argument("nn::trainer: a schedule needs an optimizer with a learning_rate member");
      }
    }
    rate_keeper(const rate_keeper&) = delete;
    rate_keeper& operator=(const rate_keeper&) = delete;
    ~rate_keeper() {
      if constexpr (requires { o_->learning_rate; })
        if (o_) o_->learning_rate = static_cast<decltype(o_->learning_rate)>(base_);
    }
    void apply(Optimizer& o, double factor, std::size_t epoch) {
      if (!(factor > 0) || !std::isfinite(factor))
        throw std::invalid_argument("nn::trainer: the learning-rate schedule gave " + std::to_string(factor) +
                                    " for epoch " + std::to_string(epoch) + "; it must be a finite factor > 0");
      if constexpr (requires { o.learning_rate; }) o.learning_rate = static_cast<decltype(o.learning_rate)>(base_ * factor);
    }

   private:
    Optimizer* o_;
    double base_ = 0;
  };

  // Everything of a run that a checkpoint holds besides the network and the optimizer: where it is (the
  // next step is the mini-batch at order[next] of epoch `epoch`), the shuffle, the epoch's sums so far,
  // the divergence check's reference, the reports and early stopping's best epoch.
  template <class T>
  struct run_state {
    std::uint64_t epoch = 0, next = 0;
    rng shuffle;
    std::vector<std::size_t> order;  // (u64 in a checkpoint)
    double total = 0, seconds = 0;
    std::uint64_t train_correct = 0, next_progress = 0;
    std::uint64_t batches_seen = 0, reference_samples = 0;
    double reference_sum = 0, batch_limit = std::numeric_limits<double>::infinity();
    std::vector<epoch_report> history;
    std::uint64_t best_epoch = 0;
    std::vector<T> best_params;
  };

  // What the state of a run needs of its network: its name and its parameters. The functions below take
  // this rather than the network, so a program with several networks compiles them once per value type.
  template <class T>
  struct network_params {
    std::string name;        // Net::name()
    std::span<T> values;     // net.parameters()
    std::size_t storage;     // Net::parameter_storage
  };

  // The whole state of a run, saved or loaded by the same calls (nn/checkpoint.hpp). The run's settings
  // must match the checkpoint's; epochs may differ (a run can be made longer), and so may threads and
  // processes (their results differ only by rounding: docs/distributed.md).
  template <class Archive, class T>
  void state(Archive& a, const network_params<T>& net, Optimizer& opt, run_state<T>& s, std::size_t n, double base_rate) {
    a.expect("network", net.name);
    // The policies' types (the same spelling from g++ and clang: the Itanium ABI's), then their settings.
    a.expect("optimizer", std::string(typeid(Optimizer).name()));
    a.expect("cost", std::string(typeid(Cost).name()));
    a.expect("bytes per value", static_cast<std::uint32_t>(sizeof(T)));
    a.expect("training samples", static_cast<std::uint64_t>(n));
    a.expect("batch_size", static_cast<std::uint64_t>(batch_size));
    a.expect("seed", seed);
    a.expect("dropout", dropout);
    a.expect("weight_decay", weight_decay);
    a.expect("patience", static_cast<std::uint64_t>(patience));
    a.expect("starting learning rate", base_rate);
    if constexpr (Archive::loading) {
      std::vector<T> p;
      a(p);
      if (p.size() != net.values.size())
        throw data_error(a.path(), a.offset(), "expected " + std::to_string(net.values.size()) + " parameters, found " +
                                                   std::to_string(p.size()));
      for (std::size_t i = 0; i < p.size(); ++i)
        if (!std::isfinite(p[i]))
          throw data_error(a.path(), a.offset() - (p.size() - i) * sizeof(T),
                           "parameter " + std::to_string(i) + " is not a finite number (a damaged or forged checkpoint)");
      std::copy(p.begin(), p.end(), net.values.begin());
    } else {
      a(std::vector<T>(net.values.begin(), net.values.end()));
    }
    opt.checkpoint(a);
    a(steps_);
    a(s.epoch), a(s.next);
    const std::size_t shuffle_at = a.offset();
    s.shuffle.checkpoint(a);
    if constexpr (Archive::loading)
      if (!s.shuffle.valid_state())
        throw data_error(a.path(), shuffle_at,
                         "expected the shuffle's random engine (four words, not all zero, and a finite spare), found "
                         "a state it cannot be in (a damaged or forged checkpoint)");
    std::vector<std::uint64_t> order(s.order.begin(), s.order.end());
    a(order);
    if constexpr (Archive::loading) s.order.assign(order.begin(), order.end());
    a(s.total), a(s.seconds), a(s.train_correct), a(s.next_progress);
    a(s.batches_seen), a(s.reference_samples), a(s.reference_sum), a(s.batch_limit);
    std::uint64_t reports = s.history.size();
    a(reports);
    if constexpr (Archive::loading) {
      constexpr std::size_t report_bytes = 8 * 8 + 4 * 8 + 1;
      if (reports > a.left() / report_bytes)
        throw data_error(a.path(), a.offset() - 8, "a count of " + std::to_string(reports) + " reports of " +
                                                       std::to_string(report_bytes) + " bytes, but only " +
                                                       std::to_string(a.left()) + " bytes are left");
      s.history.assign(static_cast<std::size_t>(reports), epoch_report{});
    }
    for (auto& r : s.history) {
      std::uint64_t u[8] = {r.epoch, r.epochs, r.samples, r.train_correct, r.correct, r.tested, r.threads, r.best_epoch};
      double d[4] = {r.seconds, r.mean_cost, r.eval_seconds, r.learning_rate};
      bool stopped = r.stopped_early;
      for (auto& v : u) a(v);
      for (auto& v : d) a(v);
      a(stopped);
      r = {static_cast<std::size_t>(u[0]), static_cast<std::size_t>(u[1]), static_cast<std::size_t>(u[2]), d[0], d[1],
           static_cast<std::size_t>(u[3]), static_cast<std::size_t>(u[4]), static_cast<std::size_t>(u[5]), d[2],
           static_cast<std::size_t>(u[6]), d[3], static_cast<std::size_t>(u[7]), stopped};
    }
    a(s.best_epoch), a(s.best_params);
    if constexpr (Archive::loading) {
      if (s.order.size() != n || s.next > n || (!s.history.empty() && s.history.size() != s.epoch) ||
          (!s.best_params.empty() && (s.best_params.size() != net.values.size() || s.best_epoch >= s.history.size())) ||
          (patience == 0 && !s.best_params.empty()) || (patience && !s.history.empty() && s.best_params.empty()))
        throw data_error(a.path(), a.offset(), "the state does not fit together (its order, position, reports or best "
                                               "parameters do not match " + std::to_string(n) + " samples)");
      for (const auto i : s.order)
        if (i >= n) throw data_error(a.path(), a.offset(), "the shuffled order holds sample " + std::to_string(i) + " of " + std::to_string(n));
      a.finish();
    }
  }

  // Writes a checkpoint of the run (by process 0 alone when there are several).
  template <class T>
  void save_checkpoint(const network_params<T>& net, run_state<T>& s, std::size_t n, double base_rate) {
    if (processes && processes->rank() != 0) return;
    detail::state_writer w;
    state(w, net, optimizer, s, n, base_rate);
    detail::write_durably(checkpoint, w.file());
  }

  // Loads a state's bytes (a checkpoint's, or process 0's at the start of a run over processes) into net,
  // the optimizer and s, all or nothing. `name` names them in errors.
  template <class T>
  void load_state(const network_params<T>& net, run_state<T>& s, std::size_t n, double base_rate, std::string name,
                  std::vector<std::uint8_t> bytes) {
    detail::state_reader r(std::move(name), std::move(bytes));
    std::vector<T> values(net.values.begin(), net.values.end());
    Optimizer opt(optimizer);
    run_state<T> got;
    const auto steps = steps_;
    try {
      state(r, network_params<T>{net.name, std::span<T>(values), net.storage}, opt, got, n, base_rate);
    } catch (...) {
      steps_ = steps;
      throw;
    }
    std::copy(values.begin(), values.end(), net.values.begin());
    optimizer = std::move(opt);
    s = std::move(got);
  }

  // Loads the checkpoint. Process 0 reads the file and sends its bytes to the others.
  template <class T>
  void load_checkpoint(const network_params<T>& net, run_state<T>& s, std::size_t n, double base_rate) {
    std::vector<std::uint8_t> bytes;
    std::string failure;
    if (!processes || processes->rank() == 0) {
      try {
        // At most: the parameters 8 times over (the network, the best epoch's, the optimizer's state),
        // the order and a report per epoch, and 1 MiB.
        const auto limit = detail::add_sat(detail::add_sat(std::uint64_t{1} << 20, 8ull * 2 * n),
                                           detail::add_sat(8ull * net.storage * sizeof(T), 256ull * std::min<std::uint64_t>(epochs, 1ull << 40)));
        bytes = detail::read_checkpoint_bytes(checkpoint, limit);
      } catch (const std::exception& e) {
        if (!processes) throw;
        failure = e.what();
        bytes.clear();
      }
    }
    if (processes) {
      processes->broadcast(bytes, "the checkpoint's bytes");
      if (bytes.empty())
        throw data_error(checkpoint, data_error::no_offset,
                         processes->rank() == 0 ? failure : "process 0 could not read the checkpoint (its message says why)");
    }
    load_state(net, s, n, base_rate, checkpoint, std::move(bytes));
  }

  // Every process of a run over several starts from process 0's network, optimizer state and run state
  // (as PyTorch's DDP broadcasts the module at the start); each checks on the way that its settings are
  // process 0's.
  template <class T>
  void start_from_process_0(const network_params<T>& net, run_state<T>& s, std::size_t n, double base_rate) {
    std::vector<std::uint8_t> bytes;
    if constexpr (requires(Optimizer& o, detail::state_writer& w) { o.checkpoint(w); }) {
      if (processes->rank() == 0) {
        detail::state_writer w;
        state(w, net, optimizer, s, n, base_rate);
        bytes = w.file();
      }
      processes->broadcast(bytes, "process 0's network and settings");
      if (processes->rank() != 0) load_state(net, s, n, base_rate, "process 0's state", std::move(bytes));
    } else {  // an optimizer that cannot say its state: the parameters alone
      const auto p = net.values;
      if (processes->rank() == 0)
        bytes.assign(reinterpret_cast<const std::uint8_t*>(p.data()), reinterpret_cast<const std::uint8_t*>(p.data() + p.size()));
      processes->broadcast(bytes, "process 0's network");
      std::memcpy(p.data(), bytes.data(), std::min(bytes.size(), p.size_bytes()));
    }
  }

  // After a stage of the start that may fail on one process alone (a file, a setting): every process
  // learns whether any failed, and all throw, so that none waits for the others in the next exchange.
  void agree(std::exception_ptr failure, const char* stage) {
    if (!processes || processes->size() == 1) {
      if (failure) std::rethrow_exception(failure);
      return;
    }
    double failed = failure ? 1.0 : 0.0;
    processes->sum(std::span<double>(&failed, 1), stage);
    if (failure) std::rethrow_exception(failure);
    if (failed > 0)
      throw std::runtime_error("nn::trainer: " + std::to_string(static_cast<std::size_t>(failed)) + " of the " +
                               std::to_string(processes->size()) + " processes failed " + stage +
                               " (their messages say why); process " + std::to_string(processes->rank()) + " stops too");
  }

  // The run's place in an epoch, for after_step.
  template <class T>
  struct epoch_context {
    run_state<T>& st;
    const network_params<T>& self;
    std::size_t n, epoch, batches, reference_batches, progress_every;
    double base_rate, t0;
    double& last_checkpoint;
    bool by_time;
    std::size_t me;    // this process's rank (0 without processes)
    bool distributed;  // over several processes
  };

  // What a run needs of its network and data: the only part of fit compiled for each (network, training
  // data, test data). The rest of the run (epochs, the divergence check, checkpoints, reports, processes:
  // run_loop) compiles once per value type, however many networks a program trains (docs/design.md,
  // "Build time"). A few virtual calls per epoch, none per mini-batch.
  template <class T>
  class fit_part {
   public:
    network_params<T> params;  // the network's name (when a checkpoint or processes need it) and parameters
    std::size_t train_size = 0, test_size = 0;
    bool has_test = false;
    bool same_source = false;     // one source is both the training and the test data
    bool train_prepares = false;  // the training data reads files: it is told each epoch's samples first
    // The workspaces: `rows` for this process's part of a mini-batch, one for each evaluating thread.
    virtual void allocate(std::size_t rows, std::size_t evaluation_threads) = 0;
    virtual void prepare_train(std::span<const std::size_t> samples) const = 0;
    virtual void prepare_test(std::span<const std::size_t> samples) const = 0;
    virtual void run_epoch(detail::thread_team& team, epoch_context<T>& c, T l2, std::uint64_t epoch_key) = 0;
    // How many of the test samples [first, last) the network gets right, on team (nullptr: this thread).
    virtual std::size_t test_correct(detail::thread_team* team, std::size_t first, std::size_t last) = 0;

   protected:
    fit_part() = default;
    fit_part(const fit_part&) = delete;
    fit_part& operator=(const fit_part&) = delete;
    ~fit_part() = default;
  };

  template <class Net, class Train, class Test>
  class fit_of final : public fit_part<typename Net::value_type> {
    using T = typename Net::value_type;
    template <class Data>
    static constexpr bool prepares = requires(const Data& d, std::span<const std::size_t> i) { d.prepare(i); };

   public:
    fit_of(trainer& t, Net& net, const Train& train, const Test* test, bool named) : t_(t), net_(net), train_(train), test_(test) {
      this->params = network_params<T>{named ? Net::name() : std::string(), net.parameters(), Net::parameter_storage};
      this->train_size = train.size();
      this->has_test = test != nullptr;
      this->test_size = test ? test->size() : 0;
      this->same_source = static_cast<const void*>(test) == static_cast<const void*>(&train);
      this->train_prepares = prepares<Train>;
    }
    void allocate(std::size_t rows, std::size_t evaluation_threads) override {
      ws_.clear();
      ws_.emplace_back(rows);
      eval_ws_ = detail::evaluation_workspaces<Net>(evaluation_threads);
    }
    void prepare_train(std::span<const std::size_t> samples) const override {
      if constexpr (prepares<Train>) train_.prepare(samples);
    }
    void prepare_test(std::span<const std::size_t> samples) const override {
      if constexpr (prepares<Test>)
        if (test_ && !this->same_source) test_->prepare(samples);
    }
    void run_epoch(detail::thread_team& team, epoch_context<T>& c, T l2, std::uint64_t epoch_key) override {
      t_.run_epoch(team, net_, train_, c, ws_[0], l2, epoch_key);
    }
    std::size_t test_correct(detail::thread_team* team, std::size_t first, std::size_t last) override {
      if (!team) return detail::count_correct(net_, *test_, first, last, eval_ws_[0]);
      return detail::evaluate_on(*team, net_, *test_, eval_ws_, first, last);
    }

   private:
    trainer& t_;
    Net& net_;
    const Train& train_;
    const Test* test_;
    std::vector<typename Net::workspace> ws_, eval_ws_;
  };

  template <class Net, class Train, class Test>
  std::vector<epoch_report> run(Net& net, const Train& train, const Test* test) {
    detail::check_shapes<Net>(train, "training");
    if (test) detail::check_shapes<Net>(*test, "test");
    static_assert(optimizer_for<Optimizer, typename Net::value_type>,
                  "nn::trainer: the optimizer must satisfy nn::optimizer_for<Optimizer, T>: step(params, grads) "
                  "with std::span<T> and std::span<const T> (see docs/policies.md)");
    fit_of<Net, Train, Test> part(*this, net, train, test, !checkpoint.empty() || (processes && processes->size() > 1));
    return run_loop(part);
  }

  static constexpr bool checkpointable = requires(Optimizer& o, detail::state_writer& w) { o.checkpoint(w); };

  // The run: fit's settings checked, the start (a checkpoint, or process 0's state), the epochs, each
  // epoch's report and evaluation, early stopping and checkpoints. Compiled once per value type.
  template <class T>
  std::vector<epoch_report> run_loop(fit_part<T>& part) {
    if (batch_size == 0) throw std::invalid_argument("nn::trainer: batch_size must be at least 1");
    if (part.train_size == 0) throw std::invalid_argument("nn::trainer: the training data is empty");
    if (!checkpoint.empty() && !checkpointable)
      throw std::invalid_argument("nn::trainer: checkpoints hold the optimizer's state: give the optimizer a member template "
                                  "checkpoint(archive&) that passes each of its values to the archive (docs/policies.md)");
    if (resume && checkpoint.empty()) throw std::invalid_argument("nn::trainer: resume needs the checkpoint file's path (checkpoint)");
    if (!(checkpoint_minutes >= 0)) throw std::invalid_argument("nn::trainer: checkpoint_minutes must be ≥ 0");
    const std::size_t n = part.train_size;
    const std::size_t procs = processes ? processes->size() : 1, me = processes ? processes->rank() : 0;
    const bool distributed = procs > 1;
    const network_params<T>& self = part.params;
    run_state<T> st;
    st.shuffle = rng(seed);
    st.order.resize(n);
    std::iota(st.order.begin(), st.order.end(), std::size_t{0});
    const std::size_t local_rows = (std::min(batch_size, n) + procs - 1) / procs;
    part.allocate(std::max<std::size_t>(1, local_rows), part.has_test ? std::max<std::size_t>(threads, 1) : 0);
    if constexpr (!has_fused_learning_rate<Optimizer>)
      if (grads<T>().size() != self.storage) grads<T>() = detail::aligned_buffer<T>(self.storage);
    if (distributed && grads<T>().size() != self.storage) grads<T>() = detail::aligned_buffer<T>(self.storage);
    if (!(weight_decay >= 0) || !std::isfinite(weight_decay))
      throw std::invalid_argument("nn::trainer: weight_decay must be a finite λ ≥ 0, not " + std::to_string(weight_decay));
    const T l2 = l2_of<T>(n);
    if (!(dropout >= 0 && dropout < 1))
      throw std::invalid_argument("nn::trainer: dropout must be a probability in [0, 1), not " + std::to_string(dropout));
    if (patience && !part.has_test)
      throw std::invalid_argument("nn::trainer: early stopping (patience) needs validation data: fit(net, train, validation)");
    rate_keeper keep(optimizer, static_cast<bool>(schedule));
    const double base_rate = detail::learning_rate_of(optimizer);
    // The start, in stages that may fail on one process alone; after each the processes agree (agree),
    // so that a bad file or setting on one stops them all with an exception instead of a wait.
    if (distributed) {  // the same run everywhere: data, batches, epochs, evaluation
      const double mine[5] = {double(n), double(batch_size), double(epochs), part.has_test ? double(part.test_size) : -1.0, double(seed % (1u << 30))};
      double sums[5] = {mine[0], mine[1], mine[2], mine[3], mine[4]};
      processes->sum(std::span<double>(sums), "the start's settings");
      std::exception_ptr differs;
      for (std::size_t i = 0; i < 5; ++i)
        if (sums[i] != mine[i] * double(procs)) {
          const char* names[5] = {"training samples", "batch_size", "epochs", "test samples", "seed"};
          differs = std::make_exception_ptr(std::invalid_argument(
              std::string("nn::trainer: the processes disagree on ") + names[i] + ": this one (" + std::to_string(me) + ") has " +
              (i == 3 && mine[3] < 0 ? std::string("no test data") : std::to_string(static_cast<long long>(mine[i]))) +
              "; every process must run fit with the same settings and data"));
          break;
        }
      agree(differs, "to start with the same settings");
    }
    std::exception_ptr failure;
    if constexpr (checkpointable) {
      try {
        if (resume) load_checkpoint(self, st, n, base_rate);
        else if (distributed) start_from_process_0(self, st, n, base_rate);
      } catch (...) {
        failure = std::current_exception();
      }
    } else if (distributed) {
      start_from_process_0(self, st, n, base_rate);
    }
    agree(failure, resume ? "to load the checkpoint" : "to take process 0's network and settings");
    // This process's part of the test data; a source that reads files reads only it.
    const std::size_t test_first = part.test_size * me / procs, test_last = part.test_size * (me + 1) / procs;
    std::vector<std::size_t> test_part;
    try {
      if constexpr (checkpointable)
        if (!resume && !checkpoint.empty()) save_checkpoint(self, st, n, base_rate);  // the start: a path that works
      if (part.has_test) {
        test_part.resize(test_last - test_first);
        std::iota(test_part.begin(), test_part.end(), test_first);
        part.prepare_test(test_part);
      }
    } catch (...) {
      failure = std::current_exception();
    }
    agree(failure, "to write the first checkpoint or read the test data");
    const std::size_t team_size = std::max<std::size_t>(1, std::min(threads, local_rows / min_rows_per_thread));
    detail::thread_team team(team_size);
    std::unique_ptr<detail::thread_team> eval_team;
    if (part.has_test && threads > 1) eval_team = team_size == threads ? nullptr : std::make_unique<detail::thread_team>(threads);

    // Divergence is checked after every mini-batch, so that a blow-up inside the first epoch stops at
    // once: a cost that is not finite, or a mini-batch's mean cost divergence_factor times the mean over
    // the run's first few mini-batches (the run's natural scale; the lowest cost so far may be a near-exact
    // fit, where noise alone is a large factor). Each epoch's mean is compared with the first epoch's.
    const std::size_t batches = (n + batch_size - 1) / batch_size;
    const std::size_t reference_batches = std::min<std::size_t>(8, batches);
    const std::size_t progress_every = std::max<std::size_t>(1, n / 100);
    double last_checkpoint = detail::monotonic_seconds();
    const bool by_time = !checkpoint.empty() && checkpoint_minutes > 0;

    try {
      for (; st.epoch < epochs; ++st.epoch) {
        const std::size_t e = static_cast<std::size_t>(st.epoch);
        if (schedule) keep.apply(optimizer, schedule(e), e);
        if (st.next == 0) {  // a new epoch (not one a checkpoint left halfway)
          st.shuffle.shuffle(std::span<std::size_t>(st.order));
          st.total = st.seconds = 0;
          st.train_correct = 0;
          st.next_progress = progress_every;
        }
        // A source that reads files reads this process's samples of the epoch (docs/distributed.md).
        if (part.train_prepares) {
          std::vector<std::size_t> mine;
          mine.reserve(n / procs + batches);
          for (std::size_t s0 = static_cast<std::size_t>(st.next); s0 < n; s0 += batch_size) {
            const row_range r = part_of(std::min(batch_size, n - s0), me, procs);  // this process's rows
            mine.insert(mine.end(), st.order.begin() + static_cast<std::ptrdiff_t>(s0 + r.first),
                        st.order.begin() + static_cast<std::ptrdiff_t>(s0 + r.first + r.count));
          }
          // One source as training and test data: it holds both parts.
          if (part.same_source) mine.insert(mine.end(), test_part.begin(), test_part.end());
          part.prepare_train(mine);
        }
        const double t0 = detail::monotonic_seconds();
        epoch_context<T> ctx{st, self, n, e, batches, reference_batches, progress_every, base_rate, t0, last_checkpoint, by_time, me, distributed};
        part.run_epoch(team, ctx, l2, detail::mix64(detail::mix64(seed ^ 0x64726f706f7574ULL) + e));
        st.next = 0;
        if constexpr (has_on_epoch_end<Optimizer>) optimizer.on_epoch_end(e);

        epoch_report rep;
        rep.epoch = e;
        rep.epochs = epochs;
        rep.samples = n;
        rep.threads = team.size();
        rep.learning_rate = detail::learning_rate_of(optimizer);
        rep.seconds = st.seconds + (detail::monotonic_seconds() - t0);
        rep.mean_cost = st.total / static_cast<double>(n);
        rep.train_correct = static_cast<std::size_t>(st.train_correct);
        const double first_cost = st.history.empty() ? rep.mean_cost : st.history.front().mean_cost;
        if (!std::isfinite(rep.mean_cost) || (first_cost > 0 && rep.mean_cost > divergence_factor * first_cost))
          throw divergence_error({.epoch = e, .epochs = epochs, .batches = batches, .cost = rep.mean_cost,
                                  .reference = first_cost, .learning_rate = detail::learning_rate_of(optimizer)});
        if (part.has_test) {
          const double t1 = detail::monotonic_seconds();
          std::size_t correct = part.test_correct(threads <= 1 ? nullptr : eval_team ? eval_team.get() : &team, test_first, test_last);
          if (distributed) {
            double c = static_cast<double>(correct);
            processes->sum(std::span<double>(&c, 1), "the evaluation's count");
            correct = static_cast<std::size_t>(c);
          }
          rep.correct = correct;
          rep.tested = part.test_size;
          rep.eval_seconds = detail::monotonic_seconds() - t1;
        }
        if (patience) {
          if (st.best_params.empty() || rep.correct > st.history[st.best_epoch].correct) {
            st.best_epoch = e;
            st.best_params.assign(self.values.begin(), self.values.end());
          }
          rep.best_epoch = static_cast<std::size_t>(st.best_epoch);
          rep.stopped_early = e - st.best_epoch >= patience && e + 1 < epochs;
        }
        st.history.push_back(rep);
        if (on_epoch && me == 0) on_epoch(rep);
        if (rep.stopped_early) break;
        if constexpr (checkpointable) {
          if (!checkpoint.empty() && checkpoint_epochs && (e + 1) % checkpoint_epochs == 0) {
            ++st.epoch;  // the state after this epoch: the next one's start
            save_checkpoint(self, st, n, base_rate);
            --st.epoch;
            last_checkpoint = detail::monotonic_seconds();
          }
        }
      }
    } catch (const divergence_error&) {
      throw;  // every process sees the same sums, so every one stops here
    } catch (const std::exception& x) {
      if (distributed) processes->abort("nn::trainer: process " + std::to_string(me) + " of " + std::to_string(procs) + " failed: " + x.what());
      throw;
    } catch (...) {
      if (distributed) processes->abort("nn::trainer: process " + std::to_string(me) + " of " + std::to_string(procs) + " failed");
      throw;
    }
    if (patience) std::copy(st.best_params.begin(), st.best_params.end(), self.values.begin());
    return st.history;
  }

  // After every mini-batch's step, on member 0 only: the sums of the whole mini-batch (over the
  // processes), the divergence check, progress and checkpoints by time.
  template <class T>
  void after_step(epoch_context<T>& c, std::size_t s0, std::size_t m, double cost, std::size_t correct) {
    run_state<T>& st = c.st;
    bool save_now = c.by_time && c.me == 0 && detail::monotonic_seconds() - c.last_checkpoint >= 60 * checkpoint_minutes;
    if (c.distributed) {
      double sums[3] = {cost, static_cast<double>(correct), save_now ? 1.0 : 0.0};
      processes->sum(std::span<double>(sums), "the costs of a step");
      cost = sums[0];
      correct = static_cast<std::size_t>(sums[1]);
      save_now = sums[2] > 0;
    }
    st.total += cost;
    st.train_correct += correct;
    if (!std::isfinite(cost) || cost > st.batch_limit * static_cast<double>(m))
      throw divergence_error({.epoch = c.epoch, .epochs = epochs, .in_batch = true, .batch = s0 / batch_size,
                              .batches = c.batches, .cost = cost / static_cast<double>(m),
                              .reference = st.reference_sum / static_cast<double>(std::max<std::uint64_t>(1, st.reference_samples)),
                              .reference_batches = c.reference_batches, .learning_rate = detail::learning_rate_of(optimizer)});
    if (st.batches_seen < c.reference_batches) {
      st.reference_sum += cost;
      st.reference_samples += m;
      if (++st.batches_seen == c.reference_batches && st.reference_sum > 0)
        st.batch_limit = divergence_factor * st.reference_sum / static_cast<double>(st.reference_samples);
    }
    if (on_progress && c.me == 0 && s0 + m >= st.next_progress) {
      on_progress(s0 + m, c.n);
      st.next_progress = s0 + m + c.progress_every;
    }
    if constexpr (checkpointable) {
      if (save_now) {
        st.next = s0 + m;
        st.seconds += detail::monotonic_seconds() - c.t0;
        save_checkpoint(c.self, st, c.n, c.base_rate);
        st.seconds -= detail::monotonic_seconds() - c.t0;
        c.last_checkpoint = detail::monotonic_seconds();
      }
    }
  }

  // One epoch of mini-batch steps over st.order from st.next, every member of the team taking its part of
  // each step (nn::train_step with nn::team_member, or nn::process_member over processes): its rows of
  // the process's part of the mini-batch gathered, then its share of both phases. Member 0 does the
  // bookkeeping. A member that throws (a bad sample, the divergence check, a callback) records it; all
  // leave at the next barrier, and it is rethrown here.
  template <class Net, class Data, class T = typename Net::value_type>
  void run_epoch(detail::thread_team& team, Net& net, const Data& train, epoch_context<T>& c, typename Net::workspace& ws,
                 T l2, std::uint64_t epoch_key) {
    run_state<T>& st = c.st;
    const std::size_t n = st.order.size(), from = static_cast<std::size_t>(st.next);
    const std::size_t procs = processes ? processes->size() : 1, me = processes ? processes->rank() : 0;
    const auto rows_at = [&](std::size_t at, std::size_t count) { return std::span<const std::size_t>(st.order.data() + at, count); };
    team_member::failure failure;
    std::string what;
    team.run([&](std::size_t t) {
      const auto body = [&](auto& ex) {
        for (std::size_t s0 = from; s0 < n; s0 += batch_size) {
          const std::size_t m = std::min(batch_size, n - s0);
          const row_range mine = part_of(m, me, procs);  // this process's rows of the mini-batch
          const auto fill = [&](std::size_t first, std::size_t count) {
            detail::gather_rows<Net>(train, rows_at(s0 + mine.first + first, count), ws, first);
            if (s0 + batch_size < n) {  // this member's rows of the next mini-batch
              const std::size_t next_m = std::min(batch_size, n - s0 - batch_size);
              const row_range next = part_of(next_m, me, procs), sub = ex.rows(next.count);
              detail::prefetch_inputs(train, rows_at(s0 + batch_size + next.first + sub.first, sub.count));
            }
          };
          const auto after = [&] {
            T batch_cost(0);
            for (std::size_t s = 0; s < mine.count; ++s) batch_cost += ws.row_costs()[s];
            after_step(c, s0, m, static_cast<double>(batch_cost), detail::correct_rows<Net>(train, ws, mine.count));
          };
          // Weight decay's λ/n·w joins the gradient once: on process 0's part, before the sum over processes.
          const step_settings<T> settings{procs > 1 && me != 0 ? T(0) : l2, nn::dropout{dropout, detail::mix64(epoch_key + s0), mine.first},
                                          flush_subnormals};
          if constexpr (exchanges_gradients<std::remove_cvref_t<decltype(ex)>>()) {
            ex.batch_rows(m);
            if (t == 0) what = "step " + std::to_string(s0 / batch_size) + " of epoch " + std::to_string(st.epoch);
          }
          if (!train_step(net, ws, mine.count, optimizer, cost, grads<T>(), settings, ex, fill, after)) return;
        }
      };
      team_member member(team, t, failure);
      if (procs > 1) {
        process_member ex(member, *processes, what);
        body(ex);
      } else {
        body(member);
      }
    });
    if (failure.first) std::rethrow_exception(failure.first);
  }

  // Scratch for the mean gradient when the optimizer is not fused; the network decides float or double.
  template <class T>
  detail::aligned_buffer<T>& grads() noexcept { return grads_.template get<T>(); }
  detail::buffer_per_type grads_;
};

}  // namespace nn
