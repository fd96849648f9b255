// Networks from other tools: nn::load_onnx(net, path) reads an ONNX file (as PyTorch's torch.onnx.export
// or Keras's tf2onnx write it) into a network whose type matches it (docs/onnx.md). The file's graph must
// be a chain from its one input to its one output; nn walks it layer by layer of the network's type:
//   nn::dense<N, Act>   Gemm (transB 0 or 1, alpha = beta = 1), or MatMul then Add; then Act's node:
//                       Sigmoid, Relu, Tanh, Softmax (on the last axis), or none for nn::identity
//   nn::flatten         Flatten (axis 1) or Reshape to (batch, −1)
// Dropout and Identity nodes are passed over (inference). Anything else — an operator, attribute or
// element type nn does not have, a value used twice, a shape that differs from the network's — is an
// nn::data_error that names the node (its byte offset in the file, its name and op) and what nn expected.
// The network is changed only when the whole file loads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nn/data/limits.hpp"
#include "nn/detail/input_file.hpp"
#include "nn/detail/onnx_proto.hpp"
#include "nn/detail/text.hpp"
#include "nn/io.hpp"

namespace nn {

namespace onnx_detail {

inline std::string dims_text(const std::vector<std::int64_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i)
    s += (i ? ", " : "") + (d[i] == -1 ? std::string("N") : std::to_string(d[i]));
  return s + "]";
}

// A name from the file, for a message: as it is when short and printable, else an excerpt.
inline std::string shown(const std::string& name) {
  const bool plain = name.size() <= 80 && std::all_of(name.begin(), name.end(), [](char ch) {
                       return static_cast<unsigned char>(ch) >= 0x20 && static_cast<unsigned char>(ch) < 0x7f;
                     });
  return plain ? name : nn::detail::excerpt(name, 80);
}

// The graph as a chain: the value flowing (`current`) and the nodes that read it, each used once.
class chain {
 public:
  chain(const onnx::model& m, std::string file) : m_(m), file_(std::move(file)) {
    const auto& g = m.main;
    if (!m.has_graph) throw data_error(file_, data_error::no_offset, "expected an ONNX model with a graph, found none");
    for (const auto& t : g.initializers) initializers_.emplace(t.name, &t);  // the first of a name
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
      for (const auto& in : g.nodes[i].inputs)
        if (!in.empty()) {
          auto& r = readers_[in];
          if (r.empty() || r.back() != i) r.push_back(i);
        }
    for (const auto& t : g.initializers) {
      if (t.external)
        throw data_error(
            file_, t.offset,
            "expected the initializer '" + t.name + "' inside the file, found it stored in an external file");
    }
    std::vector<const onnx::value_info*> real;  // graph inputs that are not initializers (older exporters list both)
    for (const auto& v : g.inputs)
      if (!initializer_named(v.name)) real.push_back(&v);
    if (real.size() != 1)
      throw data_error(file_, data_error::no_offset,
                       "expected a graph with one input, found " + std::to_string(real.size()));
    if (g.outputs.size() != 1)
      throw data_error(file_, data_error::no_offset,
                       "expected a graph with one output, found " + std::to_string(g.outputs.size()));
    input_ = real.front();
    if (input_->name.empty() || g.outputs.front().name.empty())
      throw data_error(file_, input_->offset, "expected a named graph input and output, found an empty name");
    current_ = input_->name;
    used_.assign(g.nodes.size(), false);
  }

  const onnx::value_info& input() const noexcept { return *input_; }
  const std::string& file() const noexcept { return file_; }

  // The next node: the one that reads the current value, passing over Dropout and Identity; nullptr at
  // the end of the chain. Two nodes reading it is a graph nn cannot hold.
  const onnx::node* peek() {
    for (;;) {
      const onnx::node* found = nullptr;
      std::size_t at = 0;
      const auto readers = readers_.find(current_);
      if (readers != readers_.end())
        for (const std::size_t i : readers->second) {
          if (used_[i]) continue;
          const auto& n = m_.main.nodes[i];
          if (found)
            fail(n, "a chain of layers, found a second node reading '" + shown(current_) + "' (after '" +
                        shown(found->name) + "')");
          found = &n;
          at = i;
        }
      if (!found) return nullptr;
      if (found->domain != "" && found->domain != "ai.onnx")
        fail(*found, "an operator of ONNX's own domain, found the domain '" + shown(found->domain) + "'");
      if (found->op_type == "Dropout" || found->op_type == "Identity") {  // inference: the value as it is
        next_index_ = at;
        (void)take_next();
        continue;
      }
      next_index_ = at;
      return found;
    }
  }
  // Takes the node peek() returned, checks it reads the current value as its first input, and moves on
  // to its first output.
  const onnx::node& take_next() {
    const onnx::node& n = m_.main.nodes[next_index_];
    // Add is commutative: a bias may come first.
    const bool second = n.op_type == "Add" && n.inputs.size() == 2 && n.inputs[1] == current_;
    if (n.inputs.front() != current_ && !second)
      fail(n, "'" + shown(current_) + "' as the node's first input, found '" + shown(n.inputs.front()) + "'");
    take(n, next_index_);
    return n;
  }
  // The input of `n` that is not the value flowing (Add's bias, either side).
  std::size_t other_input(const onnx::node& n) const {
    return n.inputs.size() == 2 && n.inputs[0] != previous_ ? 0 : 1;
  }
  const onnx::node& expect(std::initializer_list<const char*> ops, const std::string& layer) {
    const onnx::node* n = peek();
    std::string names;
    for (const char* op : ops) names += (names.empty() ? "" : " or ") + std::string(op);
    if (!n)
      throw data_error(file_, data_error::no_offset,
                       "expected " + names + " for " + layer + ", found the end of the graph after '" + current_ + "'");
    for (const char* op : ops)
      if (n->op_type == op) return take_next();
    fail(*n, names + " for " + layer);
  }
  // A float initializer given as input i of node n, with these dimensions.
  const onnx::tensor& weights(const onnx::node& n, std::size_t i, const std::vector<std::int64_t>& dims,
                              const std::string& what) const {
    if (n.inputs.size() <= i || n.inputs[i].empty())
      fail(n, what + " as input " + std::to_string(i + 1) + ", found " + std::to_string(n.inputs.size()) + " inputs");
    const onnx::tensor* t = initializer_named(n.inputs[i]);
    if (!t) fail(n, what + " as an initializer, found '" + n.inputs[i] + "', computed by the graph");
    if (t->type != onnx::float32)
      fail(n, what + " of float32 values, found element type " + std::to_string(t->type) + " in '" + t->name + "'");
    if (t->dims != dims)
      fail(n, what + " of shape " + dims_text(dims) + ", found " + dims_text(t->dims) + " in '" + t->name + "'");
    std::uint64_t count = 1;
    for (const auto d : dims) count *= static_cast<std::uint64_t>(d);
    if (t->floats.size() != count)
      fail(n, what + " with " + std::to_string(count) + " values, found " + std::to_string(t->floats.size()) + " in '" +
                  t->name + "'");
    return *t;
  }
  std::int64_t int_attribute(const onnx::node& n, const char* name, std::int64_t fallback) const {
    const onnx::attribute* a = n.find(name);
    if (!a) return fallback;
    if (a->type != onnx::attr_int)
      fail(n, std::string("the attribute ") + name + " as an int, found attribute type " + std::to_string(a->type));
    return a->i;
  }
  float float_attribute(const onnx::node& n, const char* name, float fallback) const {
    const onnx::attribute* a = n.find(name);
    if (!a) return fallback;
    if (a->type != onnx::attr_float)
      fail(n, std::string("the attribute ") + name + " as a float, found attribute type " + std::to_string(a->type));
    return a->f;
  }
  // After the last layer: the chain must end at the graph's output.
  void finish() {
    if (const onnx::node* n = peek()) fail(*n, "the end of the network (its last layer is done), found another node");
    if (current_ != m_.main.outputs.front().name)
      throw data_error(file_, data_error::no_offset,
                       "expected the chain to end at the graph's output '" + m_.main.outputs.front().name +
                           "', found it ending at '" + current_ + "'");
  }

  // "node 'name' (op): expected …, found …"; without a ", found" of its own, what was found is the op.
  [[noreturn]] void fail(const onnx::node& n, const std::string& expected) const {
    throw data_error(file_, n.offset,
                     "node '" + shown(n.name) + "' (" + shown(n.op_type) + "): expected " + expected +
                         (expected.find(", found") == std::string::npos ? ", found " + shown(n.op_type) : ""));
  }

 public:
  const onnx::tensor* initializer(const std::string& name) const { return initializer_named(name); }

 private:
  const onnx::tensor* initializer_named(const std::string& name) const {
    const auto it = initializers_.find(name);
    return it == initializers_.end() ? nullptr : it->second;
  }
  void take(const onnx::node& n, std::size_t i) {
    used_[i] = true;
    if (n.outputs.empty() || n.outputs.front().empty()) fail(n, "a named output, found none");
    previous_ = current_;
    current_ = n.outputs.front();
  }

  const onnx::model& m_;
  std::string file_;
  const onnx::value_info* input_ = nullptr;
  std::string current_, previous_;
  std::vector<bool> used_;
  std::unordered_map<std::string, const onnx::tensor*> initializers_;
  std::unordered_map<std::string, std::vector<std::size_t>> readers_;  // value name → the nodes reading it
  std::size_t next_index_ = 0;
};

// The ONNX operator of an nn activation ("" for none).
template <class Act>
std::string activation_op() {
  const std::string name = nn::detail::activation_name<Act>();
  if (name == "sigmoid") return "Sigmoid";
  if (name == "relu") return "Relu";
  if (name == "tanh") return "Tanh";
  if (name == "softmax") return "Softmax";
  if (name == "identity") return "";
  return "?" + name;  // no ONNX operator: an error when loading
}

// One layer: its values in the layer's file order (io.hpp's visit_parameters), read from the chain.
template <class B, class T>
std::vector<T> read_layer(chain& c, std::size_t index) {
  const std::string layer = "layer " + std::to_string(index + 1) + " (" + std::string(B::kind) + ")";
  std::vector<T> values;
  const std::string_view kind = B::kind;
  if constexpr (requires {
                  B::inputs;
                  B::outputs;
                  typename B::activation;
                }) {
    if (kind == "dense") {
      constexpr std::size_t in = B::inputs, out = B::outputs;
      const onnx::node& n = c.expect({"Gemm", "MatMul"}, layer);
      std::vector<float> w(in * out), b(out, 0.0f);  // w[j][k] (the file order), b[j]
      if (n.op_type == "Gemm") {
        if (const auto t = c.int_attribute(n, "transA", 0); t != 0) c.fail(n, "transA = 0, found " + std::to_string(t));
        const float alpha = c.float_attribute(n, "alpha", 1), beta = c.float_attribute(n, "beta", 1);
        if (alpha != 1.0f || (beta != 1.0f && n.inputs.size() > 2))
          c.fail(n, "alpha = beta = 1, found alpha = " + std::to_string(alpha) + " and beta = " + std::to_string(beta));
        const bool transposed = c.int_attribute(n, "transB", 0) != 0;
        const auto& wt = c.weights(n, 1,
                                   transposed ? std::vector<std::int64_t>{std::int64_t(out), std::int64_t(in)}
                                              : std::vector<std::int64_t>{std::int64_t(in), std::int64_t(out)},
                                   "the weights of " + layer);
        for (std::size_t j = 0; j < out; ++j)
          for (std::size_t k = 0; k < in; ++k)
            w[j * in + k] = transposed ? wt.floats[j * in + k] : wt.floats[k * out + j];
        if (n.inputs.size() > 2 && !n.inputs[2].empty())
          b = c.weights(n, 2, {std::int64_t(out)}, "the biases of " + layer).floats;
      } else {
        const auto& wt = c.weights(n, 1, {std::int64_t(in), std::int64_t(out)}, "the weights of " + layer);
        for (std::size_t j = 0; j < out; ++j)
          for (std::size_t k = 0; k < in; ++k) w[j * in + k] = wt.floats[k * out + j];
        const onnx::node& add = c.expect({"Add"}, "the biases of " + layer);
        b = c.weights(add, c.other_input(add), {std::int64_t(out)}, "the biases of " + layer).floats;
      }
      const std::string op = activation_op<typename B::activation>();
      if (!op.empty() && op.front() == '?')
        throw data_error(c.file(), data_error::no_offset,
                         layer + "'s activation " + op.substr(1) + " has no ONNX operator");
      if (!op.empty()) {
        const onnx::node& a = c.expect({op.c_str()}, layer + "'s activation");
        if (op == "Softmax") {
          const std::int64_t axis = c.int_attribute(a, "axis", -1);
          if (axis != 1 && axis != -1)
            c.fail(a, "Softmax over the last axis (1 or -1), found axis " + std::to_string(axis));
        }
      }
      values.reserve(w.size() + b.size());
      for (const float v : w) values.push_back(static_cast<T>(v));
      for (const float v : b) values.push_back(static_cast<T>(v));
      return values;
    }
  }
  if (kind == "flatten") {
    const onnx::node& n = c.expect({"Flatten", "Reshape"}, layer);
    if (const auto axis = c.int_attribute(n, "axis", 1); n.op_type == "Flatten" && axis != 1)
      c.fail(n, "Flatten with axis 1, found axis " + std::to_string(axis));
    if (n.op_type == "Reshape") {  // the target shape, an initializer: (batch or 0 or −1, C·H·W or −1)
      const onnx::tensor* shape = n.inputs.size() > 1 ? c.initializer(n.inputs[1]) : nullptr;
      if (!shape || shape->type != onnx::int64 || shape->dims != std::vector<std::int64_t>{2} ||
          shape->ints.size() != 2)
        c.fail(n, "Reshape to a target shape of two int64 values given as an initializer (batch, C·H·W), found " +
                      std::string(shape ? "another tensor" : "none"));
      if (c.int_attribute(n, "allowzero", 0) != 0 && shape->ints[0] == 0)
        c.fail(n, "a batch dimension, found a literal 0 (allowzero = 1)");
      const std::int64_t size = static_cast<std::int64_t>(B::output_shape::size), first = shape->ints[0],
                         second = shape->ints[1];
      if (!((first == 1 || first == 0 || first == -1) && (second == size || (second == -1 && first != -1))))
        c.fail(n, "Reshape to (batch, " + std::to_string(size) + "), found (" + std::to_string(first) + ", " +
                      std::to_string(second) + ")");
    }
    return values;
  }
  throw data_error(c.file(), data_error::no_offset,
                   layer + ": nn::load_onnx does not read this kind of layer yet (it reads dense and flatten)");
}

}  // namespace onnx_detail

// Reads the ONNX file at `path` into `net`, whose layers must match the file's graph (see the top of this
// header). The file is read up to four times the size of this network's parameters plus 1 MiB (raise
// nn::read_limits::parameter_file_bytes for a bigger file).
template <class Net>
void load_onnx(Net& net, const std::string& path, const read_limits& limits = {}) {
  using T = typename Net::value_type;
  std::string what_limit;
  const std::uint64_t limit = detail::parameter_file_limit(
      limits, std::max<std::uint64_t>(Net::parameter_count * sizeof(float), 1), what_limit);
  detail::input_file file(path, "an ONNX model", limits.fifo_writer_seconds);
  std::vector<std::uint8_t> bytes;
  file.read_to(bytes, std::numeric_limits<std::uint64_t>::max(), limit, what_limit);
  const onnx::model model = onnx::read_model(bytes, path);
  onnx_detail::chain c(model, path);

  // The input: (batch, C, H, W) or (batch, values), the batch free or 1.
  std::vector<std::int64_t> want{-1};
  for (const auto d : Net::input_shape::dims) want.push_back(static_cast<std::int64_t>(d));
  auto got = c.input().dims;
  if (!got.empty() && got.front() == 1) got.front() = -1;
  if (got != want)
    throw data_error(path, c.input().offset,
                     "expected the graph input '" + c.input().name + "' of shape " + onnx_detail::dims_text(want) +
                         " (" + Net::name() + "), found " + onnx_detail::dims_text(c.input().dims));
  if (c.input().type != onnx::float32)
    throw data_error(path, c.input().offset,
                     "expected a float32 input, found element type " + std::to_string(c.input().type));

  Net loaded(net);
  simd::detail::static_for<Net::layer_count>([&](auto i) {
    using B = typename Net::template layer_type<i>;
    const auto values = onnx_detail::read_layer<B, T>(c, i);
    std::size_t at = 0;
    detail::visit_parameters<B>(loaded.template layer_parameters<i>(), [&](T& v) { v = values[at++]; });
  });
  c.finish();
  net = std::move(loaded);
}

}  // namespace nn
