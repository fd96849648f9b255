// nn::callback<R(A...)>: the type of the trainers' callbacks and schedules (trainer::on_epoch, on_progress,
// schedule; online_trainer::on_report). It holds any callable, as std::function does, and is used the same
// way: assign a lambda, a function, a std::function or nullptr; test it; call it. It exists so that
// nn/network.hpp need not include <functional> (0.1 s of every program's build; docs/benchmarks.md,
// "Compile time").
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace nn {

template <class Signature>
class callback;

template <class R, class... A>
class callback<R(A...)> {
  struct base {
    virtual ~base() = default;
    virtual R call(A... a) = 0;
    virtual std::unique_ptr<base> clone() const = 0;
  };
  template <class F>
  struct holder final : base {
    F f;
    explicit holder(F g) : f(std::move(g)) {}
    R call(A... a) override { return static_cast<R>(f(std::forward<A>(a)...)); }
    std::unique_ptr<base> clone() const override { return std::make_unique<holder>(f); }
  };
  std::unique_ptr<base> f_;

 public:
  using is_nn_callback = void;  // (any nn::callback, for the emptiness test below)
  callback() noexcept = default;
  callback(std::nullptr_t) noexcept {}
  // Any callable object or function with this signature (not a pointer to a member: wrap it in a lambda).
  // A null function pointer, an empty std::function or an empty nn::callback of another signature gives
  // an empty callback, as std::function's own constructor does.
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, callback> && !std::is_member_pointer_v<std::decay_t<F>> &&
             std::is_invocable_r_v<R, std::decay_t<F>&, A...>)
  callback(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (std::is_pointer_v<std::remove_cvref_t<F>>) {  // (a function itself is never null)
      if (f == nullptr) return;
    } else if constexpr (requires(const D& d) {
                           requires requires { typename D::result_type; } || requires { typename D::is_nn_callback; };
                           static_cast<bool>(d);
                         }) {  // (std::function, without naming it, or another nn::callback)
      if (!static_cast<bool>(f)) return;
    }
    f_ = std::make_unique<holder<D>>(std::forward<F>(f));
  }
  callback(const callback& o) : f_(o.f_ ? o.f_->clone() : nullptr) {}
  callback(callback&&) noexcept = default;
  callback& operator=(const callback& o) {
    if (this != &o) f_ = o.f_ ? o.f_->clone() : nullptr;
    return *this;
  }
  callback& operator=(callback&&) noexcept = default;

  explicit operator bool() const noexcept { return f_ != nullptr; }
  friend bool operator==(const callback& c, std::nullptr_t) noexcept { return !c; }

  // Calls the callable (std::logic_error if there is none: test the callback first).
  R operator()(A... a) const {
    if (!f_) throw std::logic_error("nn::callback: called while empty");
    return f_->call(std::forward<A>(a)...);
  }
};

}  // namespace nn
