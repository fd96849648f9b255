// Networks from other tools: nn::load_onnx(net, path) reads an ONNX file (as PyTorch's torch.onnx.export
// or Keras's tf2onnx write it) into a network whose type matches it (docs/onnx.md). The file's graph must
// be a chain from its one input to its one output; nn walks it layer by layer of the network's type:
//   nn::dense<N, Act>          Gemm (transB 0 or 1, alpha = beta = 1), or MatMul then Add; then Act's node:
//                              Sigmoid, Relu, Tanh, Softmax (on the last axis), or none for nn::identity
//   nn::conv2d<M, KH, KW, Act, S, P>  Conv (group 1, no dilation, pads or auto_pad giving nn's padding),
//                              then Act's node
//   nn::max_pool<K>, avg_pool<K>  MaxPool, AveragePool (K × K, strides K, no padding)
//   nn::batch_norm<Act>        BatchNormalization (inference, epsilon 1e-5), then Act's node
//   nn::flatten                Flatten (axis 1) or Reshape to (batch, −1)
// Dropout and Identity nodes are passed over (inference). Anything else — an operator, attribute or
// element type nn does not have, a value used twice, a shape that differs from the network's — is an
// nn::data_error that names the node (its byte offset in the file, its name and op) and what nn expected.
// The network is changed only when the whole file loads.
#pragma once

#include <algorithm>
#include <cmath>
#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nn/data/limits.hpp"
#include "nn/detail/input_file.hpp"
#include "nn/detail/onnx_proto.hpp"
#include "nn/detail/text.hpp"
#include "nn/quantize.hpp"
#include "nn/io.hpp"
#include "nn/layers/batch_norm.hpp"
#include "nn/simd/conv.hpp"

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
    // Constants: a Constant node's value, and an Identity of a constant (PyTorch writes one for equal
    // initializers), are initializers under the node's output name. Nodes come in topological order.
    used_.assign(g.nodes.size(), false);
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
      const auto& n = g.nodes[i];
      if (n.outputs.size() != 1 || n.outputs.front().empty() || (n.domain != "" && n.domain != "ai.onnx")) continue;
      const onnx::tensor* value = nullptr;
      if (n.op_type == "Constant" && n.attributes.size() == 1 && n.attributes.front().name == "value" &&
          n.attributes.front().t.size() == 1)
        value = &n.attributes.front().t.front();
      else if (n.op_type == "Identity" && n.inputs.size() == 1)
        value = initializer_named(n.inputs.front());
      if (value) {
        initializers_.emplace(n.outputs.front(), value);
        used_[i] = true;
      }
    }
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
      for (const auto& in : g.nodes[i].inputs)
        if (!in.empty() && !used_[i]) {
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
  }

  const onnx::value_info& input() const noexcept { return *input_; }
  std::int64_t opset() const noexcept { return m_.opset; }
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
      if (found->op_type == "Dropout" && found->inputs.size() > 2 && !found->inputs[2].empty()) {
        const onnx::tensor* mode = initializer_named(found->inputs[2]);
        if (!mode || mode->ints.size() != 1 || mode->ints[0] != 0)
          fail(*found, "Dropout for inference (training_mode a constant false), found training_mode '" +
                           shown(found->inputs[2]) + "'");
      }
      if (found->op_type == "Dropout" || found->op_type == "Identity" || zero_pad(*found)) {  // the value as it is
        next_index_ = at;
        (void)take_next();
        continue;
      }
      next_index_ = at;
      return found;
    }
  }
  // A Pad of zeros (PyTorch writes one before AveragePool); other padding belongs to conv2d's.
  bool zero_pad(const onnx::node& n) const {
    if (n.op_type != "Pad") return false;
    const onnx::tensor* pads = n.inputs.size() > 1 ? initializer_named(n.inputs[1]) : nullptr;
    const onnx::attribute* old = n.find("pads");  // before opset 11
    if (pads && (pads->type != onnx::int64 || pads->ints.empty() || pads->ints.size() % 2 != 0))
      fail(n, "Pad's pads as an even number of int64 values, found another tensor");
    const std::vector<std::int64_t> values = pads ? pads->ints : old ? old->ints : std::vector<std::int64_t>{};
    if ((!pads && !old) || values.empty() || std::any_of(values.begin(), values.end(), [](std::int64_t v) { return v != 0; }))
      fail(n, "a Pad of zeros given as a constant (nn pads only in conv2d), found " +
                  (pads || old ? "pads " + dims_text(values) : std::string("pads computed by the graph")));
    return true;
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
    const std::string name = shown(n.inputs[i]);
    if (t->type != onnx::float32)
      fail(n, what + " of float32 values, found element type " + std::to_string(t->type) + " in '" + name + "'");
    if (t->dims != dims)
      fail(n, what + " of shape " + dims_text(dims) + ", found " + dims_text(t->dims) + " in '" + name + "'");
    std::uint64_t count = 1;
    for (const auto d : dims)
      if (d < 0 || __builtin_mul_overflow(count, static_cast<std::uint64_t>(d), &count))
        fail(n, what + " of a size that fits 64 bits, found " + dims_text(dims));
    if (t->floats.size() != count)
      fail(n, what + " with " + std::to_string(count) + " values, found " + std::to_string(t->floats.size()) + " in '" +
                  name + "'");
    for (std::size_t k = 0; k < t->floats.size(); ++k)
      if (!std::isfinite(t->floats[k]))
        fail(n, what + " of finite values, found " + std::to_string(t->floats[k]) + " at index " + std::to_string(k) +
                    " of '" + name + "'");
    return *t;
  }
  // From lo to hi inputs (an empty name is an optional input left out, as ONNX writes them).
  void input_count(const onnx::node& n, std::size_t lo, std::size_t hi) const {
    std::size_t k = n.inputs.size();
    while (k > lo && n.inputs[k - 1].empty()) --k;
    if (k < lo || k > hi)
      fail(n, (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) + " inputs, found " +
                  std::to_string(n.inputs.size()));
  }
  // An attribute's value of the type ONNX gives it, or `fallback` when the node has none.
  template <class V>
  V attribute_value(const onnx::node& n, const char* name, V fallback, std::int32_t type, V onnx::attribute::*value,
                    const char* as) const {
    const onnx::attribute* a = n.find(name);
    if (!a) return fallback;
    if (a->type != type)
      fail(n, std::string("the attribute ") + name + " as " + as + ", found attribute type " + std::to_string(a->type));
    return a->*value;
  }
  std::int64_t int_attribute(const onnx::node& n, const char* name, std::int64_t fallback) const {
    return attribute_value(n, name, fallback, onnx::attr_int, &onnx::attribute::i, "an int");
  }
  float float_attribute(const onnx::node& n, const char* name, float fallback) const {
    return attribute_value(n, name, fallback, onnx::attr_float, &onnx::attribute::f, "a float");
  }
  std::string string_attribute(const onnx::node& n, const char* name, const std::string& fallback) const {
    return attribute_value(n, name, fallback, onnx::attr_string, &onnx::attribute::s, "a string");
  }
  std::vector<std::int64_t> ints_attribute(const onnx::node& n, const char* name,
                                           const std::vector<std::int64_t>& fallback) const {
    return attribute_value(n, name, fallback, onnx::attr_ints, &onnx::attribute::ints, "ints");
  }
  // An attribute nn does not know could change what the node computes: an error.
  void only_attributes(const onnx::node& n, std::initializer_list<const char*> known) const {
    for (const auto& a : n.attributes)
      if (std::none_of(known.begin(), known.end(), [&](const char* k) { return a.name == k; })) {
        std::string names;
        for (const char* k : known) names += (names.empty() ? "" : ", ") + std::string(k);
        fail(n, "no attributes but " + (names.empty() ? std::string("none") : names) + ", found '" + shown(a.name) + "'");
      }
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
    // A second output (MaxPool's indices, BatchNormalization's training statistics) is something nn does not
    // compute; only Dropout's mask may be asked for, as nothing on the chain reads it.
    if (n.op_type != "Dropout" && std::any_of(n.outputs.begin() + 1, n.outputs.end(), [](const std::string& o) { return !o.empty(); }))
      fail(n, "one output, found " + std::to_string(n.outputs.size()));
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

// The ONNX operator of an nn activation: "" for none, nullptr for an activation ONNX has no operator for.
template <class Act>
constexpr const char* activation_op() {
  if constexpr (requires { std::string_view(Act::name); }) {
    constexpr std::string_view name = Act::name;
    if (name == "sigmoid") return "Sigmoid";
    if (name == "relu") return "Relu";
    if (name == "tanh") return "Tanh";
    if (name == "softmax") return "Softmax";
    if (name == "identity") return "";
  }
  return nullptr;
}
// Every layer's activation has an ONNX operator.
// (nn's softmax of an image layer normalises all C·H·W values together: ONNX's Softmax, from opset 13 on,
// normalises along one axis.)
template <class B>
constexpr bool has_onnx_activation() {
  if constexpr (requires { typename B::activation; }) {
    constexpr const char* op = activation_op<typename B::activation>();
    return op != nullptr && !(std::string_view(op) == "Softmax" && B::output_shape::rank > 1);
  } else {
    return true;
  }
}
template <class Net, std::size_t... I>
constexpr bool onnx_activations(std::index_sequence<I...>) {
  return (has_onnx_activation<typename Net::template layer_type<I>>() && ...);
}
template <class Net>
constexpr bool onnx_activations() {
  return onnx_activations<Net>(std::make_index_sequence<Net::layer_count>{});
}

template <class B>
constexpr bool is_kind(std::string_view kind) {
  return std::string_view(B::kind) == kind;
}

// A layer as nn's types name it and as ONNX's nodes hold it. load_onnx fills one from each layer's type
// and reads the file against it; describe_onnx (nn-onnx) starts from the file's nodes and fills in what
// they say. Either way the same code below reads the nodes, checks them and takes the values.
struct layer_spec {
  std::string kind;                    // dense, conv2d, max_pool, avg_pool, batch_norm, flatten
  std::vector<std::size_t> in;         // the input's dims: (values) or (channels, height, width)
  std::size_t units = 0;               // dense: outputs; conv2d: maps; pooling: the window (0: from the file)
  std::size_t kernel_h = 0, kernel_w = 0, stride = 0;  // conv2d (0: from the file)
  padding pad = padding::valid;        // conv2d (from the file when its kernel is)
  std::string activation;              // nn's name: sigmoid, relu, tanh, softmax, identity ("": from the file)

  std::size_t in_size() const noexcept {
    std::size_t n = 1;
    for (const auto d : in) n *= d;
    return n;
  }
  conv_geometry geometry() const noexcept {
    return make_conv_geometry(in[0], in[1], in[2], units, kernel_h, kernel_w, stride, pad);
  }
  std::vector<std::size_t> out() const {
    if (kind == "dense") return {units};
    if (kind == "flatten") return {in_size()};
    if (kind == "conv2d") return {units, geometry().out_h, geometry().out_w};
    if (kind == "max_pool" || kind == "avg_pool") return {in[0], in[1] / units, in[2] / units};
    return in;  // batch_norm
  }
  // The layer's type in nn: "nn::conv2d<20, 5, 5, nn::sigmoid>".
  std::string type_text() const {
    const std::string act = "nn::" + activation;
    if (kind == "dense") return "nn::dense<" + std::to_string(units) + ", " + act + ">";
    if (kind == "conv2d")
      return "nn::conv2d<" + std::to_string(units) + ", " + std::to_string(kernel_h) + ", " + std::to_string(kernel_w) +
             ", " + act + (stride != 1 || pad != padding::valid ? ", " + std::to_string(stride) : "") +
             (pad == padding::same ? ", nn::padding::same>" : ">");
    if (kind == "max_pool" || kind == "avg_pool") return "nn::" + kind + "<" + std::to_string(units) + ">";
    if (kind == "batch_norm") return activation == "identity" ? "nn::batch_norm<>" : "nn::batch_norm<" + act + ">";
    return "nn::" + kind;
  }
};

// What a layer type B says of itself.
template <class B>
layer_spec spec_of() {
  layer_spec s;
  s.kind = B::kind;
  s.in.assign(B::input_shape::dims.begin(), B::input_shape::dims.end());
  if constexpr (requires { typename B::activation; }) s.activation = nn::detail::activation_name<typename B::activation>();
  if constexpr (is_kind<B>("dense")) s.units = B::outputs;
  if constexpr (is_kind<B>("conv2d")) {
    s.units = B::geometry.maps;
    s.kernel_h = B::geometry.kernel_h;
    s.kernel_w = B::geometry.kernel_w;
    s.stride = B::geometry.stride;
    s.pad = B::padding_mode;
  }
  if constexpr (is_kind<B>("max_pool") || is_kind<B>("avg_pool")) s.units = B::window;
  return s;
}

inline std::string onnx_op_of(const std::string& activation) {
  if (activation == "sigmoid") return "Sigmoid";
  if (activation == "relu") return "Relu";
  if (activation == "tanh") return "Tanh";
  if (activation == "softmax") return "Softmax";
  return "";
}

// The node of a layer's activation: the one s names, or (s.activation empty) whichever comes next, if any.
inline void read_activation(chain& c, layer_spec& s, const std::string& layer) {
  // nn's softmax of an image normalises all its values; ONNX's Softmax from opset 13 on, one axis.
  const bool image = s.out().size() > 1;
  if (s.activation.empty()) {
    const onnx::node* n = c.peek();
    s.activation = "identity";
    const bool whole = !image || (c.opset() < 13 && n && n->op_type == "Softmax" && c.int_attribute(*n, "axis", 1) == 1);
    for (const char* name : {"sigmoid", "relu", "tanh", "softmax"})
      if (n && n->op_type == onnx_op_of(name) && (whole || std::string_view(name) != "softmax")) s.activation = name;
  }
  const std::string op = onnx_op_of(s.activation);
  if (op.empty()) return;
  const onnx::node& a = c.expect({op.c_str()}, layer + "'s activation");
  c.input_count(a, 1, 1);
  c.only_attributes(a, op == "Softmax" ? std::initializer_list<const char*>{"axis"} : std::initializer_list<const char*>{});
  if (op == "Softmax") {
    // Before opset 13, Softmax(axis 1) normalised everything after the batch together, as nn does.
    const bool old = c.opset() < 13;
    const std::int64_t axis = c.int_attribute(a, "axis", old ? 1 : -1);
    if (image && !(old && axis == 1))
      c.fail(a, "a Softmax over all of " + layer + "'s values (nn's; ONNX's before opset 13, axis 1), found axis " +
                    std::to_string(axis) + " in opset " + std::to_string(c.opset()));
    if (axis != 1 && axis != -1) c.fail(a, "Softmax over the last axis (1 or -1), found axis " + std::to_string(axis));
  }
}

inline std::int64_t i64(std::size_t v) noexcept { return static_cast<std::int64_t>(v); }

// nn::flatten (or the flattening a dense layer does to an image): Flatten (axis 1) or Reshape to
// (batch, size).
inline void read_flatten(chain& c, const std::string& layer, std::int64_t size, std::size_t rank) {
  const onnx::node& n = c.expect({"Flatten", "Reshape"}, layer);
  c.only_attributes(n, {n.op_type == "Flatten" ? "axis" : "allowzero"});
  c.input_count(n, n.op_type == "Flatten" ? 1 : 2, n.op_type == "Flatten" ? 1 : 2);
  // Axis 1 of (batch, …), also written as −rank.
  if (const auto axis = c.int_attribute(n, "axis", 1); n.op_type == "Flatten" && axis != 1 && axis != -i64(rank))
    c.fail(n, "Flatten with axis 1 (or " + std::to_string(-i64(rank)) + "), found axis " + std::to_string(axis));
  if (n.op_type == "Reshape") {  // the target shape, an initializer: (batch or 0 or −1, C·H·W or −1)
    const onnx::tensor* shape = n.inputs.size() > 1 ? c.initializer(n.inputs[1]) : nullptr;
    if (!shape || shape->type != onnx::int64 || shape->dims != std::vector<std::int64_t>{2} || shape->ints.size() != 2)
      c.fail(n, "Reshape to a target shape of two int64 values given as an initializer (batch, C·H·W), found " +
                    std::string(shape ? "another tensor" : "none"));
    if (c.int_attribute(n, "allowzero", 0) != 0 && shape->ints[0] == 0)
      c.fail(n, "a batch dimension, found a literal 0 (allowzero = 1)");
    const std::int64_t first = shape->ints[0], second = shape->ints[1];
    if (!((first == 1 || first == 0 || first == -1) && (second == size || (second == -1 && first != -1))))
      c.fail(n, "Reshape to (batch, " + std::to_string(size) + "), found (" + std::to_string(first) + ", " +
                    std::to_string(second) + ")");
  }
}

// The shape of input i's initializer, for a layer whose sizes come from the file: `rank` dimensions
// from 1 to 2^24.
inline std::vector<std::int64_t> initializer_dims(const chain& c, const onnx::node& n, std::size_t i, std::size_t rank,
                                                  const std::string& what) {
  const onnx::tensor* t = n.inputs.size() > i ? c.initializer(n.inputs[i]) : nullptr;
  if (!t) (void)c.weights(n, i, {}, what);  // says what is missing
  if (t->dims.size() != rank ||
      std::any_of(t->dims.begin(), t->dims.end(), [](std::int64_t d) { return d < 1 || d > (1 << 24); }))
    c.fail(n, what + " of " + std::to_string(rank) + " dimensions from 1 to 2^24, found " + dims_text(t->dims) + " in '" +
                  shown(n.inputs[i]) + "'");
  return t->dims;
}

// nn::dense: w[j][k] (the file order), then b[j].
inline std::vector<float> read_dense(chain& c, layer_spec& s, const std::string& layer) {
  const std::size_t in = s.in_size();
  // An image into a dense layer: ONNX flattens it first (Gemm and MatMul take matrices).
  if (s.in.size() > 1) read_flatten(c, layer, i64(in), s.in.size());
  const onnx::node& n = c.expect({"Gemm", "MatMul"}, layer);
  const bool gemm = n.op_type == "Gemm";
  const bool transposed = gemm && c.int_attribute(n, "transB", 0) != 0;
  if (s.units == 0) s.units = static_cast<std::size_t>(initializer_dims(c, n, 1, 2, "the weights of " + layer)[transposed ? 0 : 1]);
  const std::size_t out = s.units;
  if (gemm) {
    c.only_attributes(n, {"alpha", "beta", "transA", "transB"});
    if (const auto t = c.int_attribute(n, "transA", 0); t != 0) c.fail(n, "transA = 0, found " + std::to_string(t));
    const float alpha = c.float_attribute(n, "alpha", 1), beta = c.float_attribute(n, "beta", 1);
    if (alpha != 1.0f || (beta != 1.0f && n.inputs.size() > 2))
      c.fail(n, "alpha = beta = 1, found alpha = " + std::to_string(alpha) + " and beta = " + std::to_string(beta));
  } else {
    c.only_attributes(n, {});
  }
  // The weights are checked (their count is the file's) before anything is allocated.
  const auto& wt = c.weights(n, 1,
                             transposed ? std::vector<std::int64_t>{i64(out), i64(in)}
                                        : std::vector<std::int64_t>{i64(in), i64(out)},
                             "the weights of " + layer);
  std::vector<float> values(in * out + out, 0.0f);
  float* w = values.data();
  float* b = w + in * out;
  for (std::size_t j = 0; j < out; ++j)
    for (std::size_t k = 0; k < in; ++k) w[j * in + k] = transposed ? wt.floats[j * in + k] : wt.floats[k * out + j];
  if (gemm) {
    c.input_count(n, 2, 3);
    if (n.inputs.size() > 2 && !n.inputs[2].empty()) {  // C: (out) or (1, out)
      const onnx::tensor* t = c.initializer(n.inputs[2]);
      const bool row = t && t->dims == std::vector<std::int64_t>{1, i64(out)};
      std::ranges::copy(c.weights(n, 2, row ? t->dims : std::vector<std::int64_t>{i64(out)}, "the biases of " + layer).floats, b);
    }
  } else {
    c.input_count(n, 2, 2);
    // Then Add with the biases (either side), unless the layer has none (PyTorch's Linear(bias=False)).
    if (const onnx::node* next = c.peek(); next && next->op_type == "Add") {
      const onnx::node& add = c.expect({"Add"}, "the biases of " + layer);
      c.only_attributes(add, {});
      c.input_count(add, 2, 2);
      std::ranges::copy(c.weights(add, c.other_input(add), {i64(out)}, "the biases of " + layer).floats, b);
    }
  }
  read_activation(c, s, layer);
  return values;
}

// The zeros a node's window adds around the image, [top, left, bottom, right], from its pads or auto_pad
// (the output size of SAME_UPPER and SAME_LOWER is ceil(size / stride)).
inline std::vector<std::int64_t> node_pads(const chain& c, const onnx::node& n, std::int64_t h, std::int64_t w,
                                           std::int64_t kh, std::int64_t kw, std::int64_t stride) {
  const std::string mode = c.string_attribute(n, "auto_pad", "NOTSET");
  if (mode == "NOTSET") {
    auto pads = c.ints_attribute(n, "pads", {0, 0, 0, 0});
    if (pads.size() != 4) c.fail(n, "pads of 4 values, found " + std::to_string(pads.size()));
    return pads;
  }
  if (n.find("pads")) c.fail(n, "pads or auto_pad, found both");
  if (mode == "VALID") return {0, 0, 0, 0};
  if (mode != "SAME_UPPER" && mode != "SAME_LOWER")
    c.fail(n, "auto_pad NOTSET, VALID, SAME_UPPER or SAME_LOWER, found '" + shown(mode) + "'");
  auto total = [&](std::int64_t size, std::int64_t k) {
    return std::max<std::int64_t>(((size + stride - 1) / stride - 1) * stride + k - size, 0);
  };
  const std::int64_t th = total(h, kh), tw = total(w, kw);
  const std::int64_t top = mode == "SAME_UPPER" ? th / 2 : th - th / 2, left = mode == "SAME_UPPER" ? tw / 2 : tw - tw / 2;
  return {top, left, th - top, tw - left};
}

// One attribute of ints that must be `want` (or absent when `fallback` is).
inline void expect_ints(const chain& c, const onnx::node& n, const char* name, const std::vector<std::int64_t>& fallback,
                        const std::vector<std::int64_t>& want, const std::string& layer) {
  const auto got = c.ints_attribute(n, name, fallback);
  if (got != want)
    c.fail(n, std::string(name) + " " + dims_text(want) + " for " + layer + ", found " + dims_text(got));
}

// nn's padding as ONNX's pads [top, left, bottom, right]: the zeros before the image, and the rows and
// columns the last window reaches past it.
inline std::vector<std::int64_t> conv_pads(const conv_geometry& g) {
  const std::int64_t reach_h = i64((g.out_h - 1) * g.stride + g.kernel_h), reach_w = i64((g.out_w - 1) * g.stride + g.kernel_w);
  return {i64(g.pad_top), i64(g.pad_left), std::max<std::int64_t>(reach_h - i64(g.height) - i64(g.pad_top), 0),
          std::max<std::int64_t>(reach_w - i64(g.width) - i64(g.pad_left), 0)};
}

// The node's window size or stride, the same along both axes (for a layer read from the file).
inline std::size_t square(const chain& c, const onnx::node& n, const char* name, std::size_t fallback) {
  const auto v = c.ints_attribute(n, name, {i64(fallback), i64(fallback)});
  if (v.size() != 2 || v[0] != v[1] || v[0] < 1 || v[0] > 4096)
    c.fail(n, std::string(name) + " of two equal sizes from 1 to 4096 (nn's layers are square), found " + dims_text(v));
  return static_cast<std::size_t>(v[0]);
}

// nn::conv2d: the weights map by map, [channel][row][column] (ONNX's [M, C, KH, KW]), then the biases.
inline std::vector<float> read_conv(chain& c, layer_spec& s, const std::string& layer) {
  const onnx::node& n = c.expect({"Conv"}, layer);
  c.only_attributes(n, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
  c.input_count(n, 2, 3);
  if (s.in.size() != 3) c.fail(n, "an image (channels, height, width) into " + layer + ", found " + std::to_string(s.in.size()) + " dimensions");
  if (s.units == 0) {  // from the file: the weights' shape, the strides, and the padding that is nn's
    const auto dims = initializer_dims(c, n, 1, 4, "the weights of " + layer);
    s.units = static_cast<std::size_t>(dims[0]);
    s.kernel_h = static_cast<std::size_t>(dims[2]);
    s.kernel_w = static_cast<std::size_t>(dims[3]);
    s.stride = square(c, n, "strides", 1);
    const auto pads = node_pads(c, n, i64(s.in[1]), i64(s.in[2]), i64(s.kernel_h), i64(s.kernel_w), i64(s.stride));
    s.pad = pads == conv_pads(make_conv_geometry(s.in[0], s.in[1], s.in[2], s.units, s.kernel_h, s.kernel_w, s.stride,
                                                 padding::same)) && pads != std::vector<std::int64_t>{0, 0, 0, 0}
                ? padding::same
                : padding::valid;
  }
  const conv_geometry g = s.geometry();
  if (const auto groups = c.int_attribute(n, "group", 1); groups != 1)
    c.fail(n, "group 1 (every map reads every channel), found " + std::to_string(groups));
  expect_ints(c, n, "dilations", {1, 1}, {1, 1}, layer);
  expect_ints(c, n, "kernel_shape", {i64(g.kernel_h), i64(g.kernel_w)}, {i64(g.kernel_h), i64(g.kernel_w)}, layer);
  expect_ints(c, n, "strides", {1, 1}, {i64(g.stride), i64(g.stride)}, layer);
  if (g.out_h == 0 || g.out_w == 0)
    c.fail(n, "a kernel that fits the image for " + layer + ", found " + std::to_string(g.kernel_h) + " × " +
                  std::to_string(g.kernel_w) + " on " + std::to_string(g.height) + " × " + std::to_string(g.width));
  const std::vector<std::int64_t> want = conv_pads(g);
  const auto pads = node_pads(c, n, i64(g.height), i64(g.width), i64(g.kernel_h), i64(g.kernel_w), i64(g.stride));
  if (pads != want)
    c.fail(n, "pads (top, left, bottom, right) " + dims_text(want) + " for " + layer + ", found " + dims_text(pads));
  const auto& wt = c.weights(n, 1, {i64(g.maps), i64(g.channels), i64(g.kernel_h), i64(g.kernel_w)},
                             "the weights of " + layer);
  std::vector<float> values(wt.floats);
  values.resize(values.size() + g.maps, 0.0f);
  if (n.inputs.size() > 2 && !n.inputs[2].empty())
    std::ranges::copy(c.weights(n, 2, {i64(g.maps)}, "the biases of " + layer).floats, values.end() - i64(g.maps));
  read_activation(c, s, layer);
  return values;
}

// nn::max_pool and nn::avg_pool: K × K windows with stride K, no padding.
inline void read_pool(chain& c, layer_spec& s, const std::string& layer) {
  const bool is_max = s.kind == "max_pool";
  const onnx::node& n = c.expect({is_max ? "MaxPool" : "AveragePool"}, layer);
  if (is_max) c.only_attributes(n, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"});
  else c.only_attributes(n, {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"});
  if (s.in.size() != 3) c.fail(n, "an image (channels, height, width) into " + layer + ", found " + std::to_string(s.in.size()) + " dimensions");
  if (s.units == 0) s.units = square(c, n, "kernel_shape", 0);
  const std::int64_t k = i64(s.units), h = i64(s.in[1]), w = i64(s.in[2]);
  c.input_count(n, 1, 1);
  expect_ints(c, n, "kernel_shape", {}, {k, k}, layer);
  expect_ints(c, n, "strides", {1, 1}, {k, k}, layer);
  expect_ints(c, n, "dilations", {1, 1}, {1, 1}, layer);
  if (k > h || k > w)
    c.fail(n, "a window that fits the image for " + layer + ", found " + std::to_string(k) + " on " + std::to_string(h) +
                  " × " + std::to_string(w));
  const auto pads = node_pads(c, n, h, w, k, k, k);
  if (pads != std::vector<std::int64_t>{0, 0, 0, 0})
    c.fail(n, "no padding for " + layer + ", found pads " + dims_text(pads));
  // ceil_mode would add a last window over a partial row or column: the same when the size fits.
  if (const auto ceil = c.int_attribute(n, "ceil_mode", 0); ceil != 0 && (h % k != 0 || w % k != 0))
    c.fail(n, "ceil_mode 0 for " + layer + " (" + std::to_string(h) + " × " + std::to_string(w) +
                  " in windows of " + std::to_string(k) + "), found " + std::to_string(ceil));
}

// nn::batch_norm: γ, β, running mean, running variance per channel (ONNX's scale, B, mean, var).
inline std::vector<float> read_batch_norm(chain& c, layer_spec& s, const std::string& layer) {
  const onnx::node& n = c.expect({"BatchNormalization"}, layer);
  c.only_attributes(n, {"epsilon", "momentum", "training_mode", "spatial"});
  if (const auto t = c.int_attribute(n, "training_mode", 0); t != 0)
    c.fail(n, "training_mode 0 (inference), found " + std::to_string(t));
  if (const auto sp = c.int_attribute(n, "spatial", 1); sp != 1) c.fail(n, "spatial 1, found " + std::to_string(sp));
  c.input_count(n, 5, 5);
  constexpr float epsilon = static_cast<float>(batch_norm<>::epsilon);
  if (const float e = c.float_attribute(n, "epsilon", 1e-5f); e != epsilon)
    c.fail(n, "epsilon 1e-05 (nn's), found " + std::to_string(e));
  const std::size_t channels = s.in.size() == 1 ? s.in[0] : s.in.front();
  std::vector<float> values;
  const char* names[] = {"the scale (γ) of ", "the bias (β) of ", "the running mean of ", "the running variance of "};
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& t = c.weights(n, i + 1, {i64(channels)}, names[i] + layer);
    values.insert(values.end(), t.floats.begin(), t.floats.end());
  }
  read_activation(c, s, layer);
  return values;
}

// One layer: its values in file order (io.hpp's visit_parameters), read from the chain as s says, and
// what s left open (0 or empty) filled in from the file.
inline std::vector<float> read_layer(chain& c, layer_spec& s, std::size_t index) {
  const std::string layer = "layer " + std::to_string(index + 1) + " (" + s.kind + ")";
  if (s.kind == "dense") return read_dense(c, s, layer);
  if (s.kind == "conv2d") return read_conv(c, s, layer);
  if (s.kind == "batch_norm") return read_batch_norm(c, s, layer);
  if (s.kind == "max_pool" || s.kind == "avg_pool") read_pool(c, s, layer);
  else if (s.kind == "flatten") read_flatten(c, layer, i64(s.in_size()), s.in.size());
  else
    throw data_error(c.file(), data_error::no_offset,
                     layer + ": nn::load_onnx reads dense, conv2d, max_pool, avg_pool, batch_norm and flatten layers, "
                             "not this kind");
  return {};
}

// The graph save_onnx writes, a node at a time: layer k's nodes are "layerk/Op", each node's output is
// named after it, and its initializers "layerk.what".
class graph_writer {
 public:
  graph_writer() {
    m_.ir_version = 7;  // the IR version of ONNX 1.8, which introduced opset 13
    m_.opset = 13;
    m_.producer_name = "nn";
    m_.main.name = "nn";
    m_.has_graph = true;
  }
  void begin_layer(std::size_t index) { layer_ = "layer" + std::to_string(index + 1); }
  // A node reading the current value (and these initializers or other inputs); its output becomes current.
  onnx::node& add(const std::string& op, std::vector<std::string> more = {}) {
    onnx::node n;
    n.op_type = op;
    n.name = layer_ + "/" + op;
    n.inputs = {current_};
    n.inputs.insert(n.inputs.end(), more.begin(), more.end());
    n.outputs = {n.name};
    current_ = n.name;
    m_.main.nodes.push_back(std::move(n));
    return m_.main.nodes.back();
  }
  // A node that does not read the current value (a weight's DequantizeLinear): its output's name.
  onnx::node& side(const std::string& op, const std::string& what, std::vector<std::string> inputs) {
    onnx::node n;
    n.op_type = op;
    n.name = layer_ + "/" + op + "_" + what;
    n.inputs = std::move(inputs);
    n.outputs = {n.name};
    m_.main.nodes.push_back(std::move(n));
    return m_.main.nodes.back();
  }
  // An initializer of 8-bit integers (onnx::int8 or onnx::uint8).
  std::string initializer(const std::string& what, std::vector<std::int64_t> dims, std::int32_t type, std::vector<std::int64_t> values) {
    onnx::tensor t;
    t.name = layer_ + "." + what;
    t.type = type;
    t.dims = std::move(dims);
    t.ints = std::move(values);
    m_.main.initializers.push_back(std::move(t));
    return m_.main.initializers.back().name;
  }
  std::string initializer(const std::string& what, std::vector<std::int64_t> dims, const float* values) {
    onnx::tensor t;
    t.name = layer_ + "." + what;
    t.type = onnx::float32;
    std::size_t count = 1;
    for (const auto d : dims) count *= static_cast<std::size_t>(d);
    t.dims = std::move(dims);
    t.floats.assign(values, values + count);
    m_.main.initializers.push_back(std::move(t));
    return m_.main.initializers.back().name;
  }
  static onnx::attribute ints(const char* name, std::vector<std::int64_t> v) {
    onnx::attribute a;
    a.name = name;
    a.type = onnx::attr_ints;
    a.ints = std::move(v);
    return a;
  }
  static onnx::attribute integer(const char* name, std::int64_t v) {
    onnx::attribute a;
    a.name = name;
    a.type = onnx::attr_int;
    a.i = v;
    return a;
  }
  static onnx::attribute real(const char* name, float v) {
    onnx::attribute a;
    a.name = name;
    a.type = onnx::attr_float;
    a.f = v;
    return a;
  }
  template <class Act>
  void activation() {
    constexpr const char* op = activation_op<Act>();
    if constexpr (op[0] != '\0') {
      auto& n = add(op);
      if (std::string_view(op) == "Softmax") n.attributes = {integer("axis", 1)};
    }
  }
  // The graph's input and output (batch dimension free), the last node's output renamed to "output".
  onnx::model finish(std::vector<std::int64_t> in, std::vector<std::int64_t> out) {
    in.insert(in.begin(), -1);
    out.insert(out.begin(), -1);
    if (m_.main.nodes.empty()) add("Identity");
    m_.main.nodes.back().outputs = {"output"};
    m_.main.inputs = {{"input", onnx::float32, std::move(in), 0}};
    m_.main.outputs = {{"output", onnx::float32, std::move(out), 0}};
    return std::move(m_);
  }

 private:
  onnx::model m_;
  std::string layer_, current_ = "input";
};

// One layer's nodes and initializers; `v` holds its parameters in file order (io.hpp's visit_parameters).
template <class B>
void write_layer(graph_writer& w, const std::vector<float>& v) {
  const auto i64 = [](std::size_t x) { return static_cast<std::int64_t>(x); };
  if constexpr (is_kind<B>("dense")) {
    constexpr std::size_t in = B::inputs, out = B::outputs;
    if constexpr (B::input_shape::rank > 1) w.add("Flatten").attributes = {graph_writer::integer("axis", 1)};
    const auto weights = w.initializer("weight", {i64(out), i64(in)}, v.data());
    const auto biases = w.initializer("bias", {i64(out)}, v.data() + in * out);
    w.add("Gemm", {weights, biases}).attributes = {graph_writer::integer("transB", 1)};
    w.template activation<typename B::activation>();
  } else if constexpr (is_kind<B>("conv2d")) {
    constexpr conv_geometry g = B::geometry;
    const auto weights =
        w.initializer("weight", {i64(g.maps), i64(g.channels), i64(g.kernel_h), i64(g.kernel_w)}, v.data());
    const auto biases = w.initializer("bias", {i64(g.maps)}, v.data() + g.maps * g.taps());
    w.add("Conv", {weights, biases}).attributes = {graph_writer::ints("kernel_shape", {i64(g.kernel_h), i64(g.kernel_w)}),
                                                   graph_writer::ints("pads", conv_pads(g)),
                                                   graph_writer::ints("strides", {i64(g.stride), i64(g.stride)})};
    w.template activation<typename B::activation>();
  } else if constexpr (is_kind<B>("max_pool") || is_kind<B>("avg_pool")) {
    constexpr std::int64_t k = B::window;
    w.add(B::is_max ? "MaxPool" : "AveragePool").attributes = {graph_writer::ints("kernel_shape", {k, k}),
                                                                graph_writer::ints("strides", {k, k})};
  } else if constexpr (is_kind<B>("batch_norm")) {
    constexpr std::size_t C = B::C;
    std::vector<std::string> inputs;
    for (std::size_t i = 0; i < 4; ++i)
      inputs.push_back(w.initializer(std::array{"scale", "bias", "mean", "var"}[i], {i64(C)}, v.data() + i * C));
    // ONNX's momentum is the share of the old running value (PyTorch's 0.1 is ONNX's 0.9).
    w.add("BatchNormalization", inputs).attributes = {
        graph_writer::real("epsilon", static_cast<float>(batch_norm<>::epsilon)),
        graph_writer::real("momentum", static_cast<float>(1 - batch_norm<>::momentum))};
    w.template activation<typename B::activation>();
  } else if constexpr (is_kind<B>("flatten")) {
    w.add("Flatten").attributes = {graph_writer::integer("axis", 1)};
  } else {
    static_assert(is_kind<B>("dense"),
                  "nn::save_onnx writes dense, conv2d, max_pool, avg_pool, batch_norm and flatten layers, not this kind");
  }
}

// The layer whose first node this is ("" for none).
inline std::string layer_kind_of(const std::string& op) {
  if (op == "Gemm" || op == "MatMul") return "dense";
  if (op == "Conv") return "conv2d";
  if (op == "MaxPool") return "max_pool";
  if (op == "AveragePool") return "avg_pool";
  if (op == "BatchNormalization") return "batch_norm";
  if (op == "Flatten" || op == "Reshape") return "flatten";
  return "";
}

}  // namespace onnx_detail

// An ONNX file's network as nn's layers: the input's dims (without the batch), each layer, and its values
// in file order (io.hpp's visit_parameters).
struct onnx_layers {
  std::vector<std::size_t> input;
  std::vector<onnx_detail::layer_spec> layers;
  std::vector<std::vector<float>> values;

  // "nn::sequential<nn::input<1, 28, 28>, nn::conv2d<20, 5, 5, nn::sigmoid>, ...>"
  std::string type_text() const {
    std::string s = "nn::sequential<nn::input<";
    for (std::size_t i = 0; i < input.size(); ++i) s += (i ? ", " : "") + std::to_string(input[i]);
    s += ">";
    for (const auto& l : layers) s += ", " + l.type_text();
    return s + ">";
  }
  std::size_t parameter_count() const noexcept {
    std::size_t n = 0;
    for (const auto& v : values) n += v.size();
    return n;
  }
};

namespace onnx_detail {

// A shape's values when the file gives the sizes: at most 2^31 (nn's layers index them with 32 bits to spare).
inline void check_size(const std::string& path, std::size_t offset, const std::vector<std::size_t>& dims,
                       const std::string& what) {
  std::uint64_t n = 1;
  for (const auto d : dims)
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n) || n > (std::uint64_t{1} << 31))
      throw data_error(path, offset,
                       "expected " + what + " of at most 2^31 values, found " + dims_text(std::vector<std::int64_t>(dims.begin(), dims.end())));
}

// The file at `path` read as a chain of layers: those in `expected` (load_onnx: the network's, whose
// input has the dims `input` and whose type is `type_name`), or, with `expected` empty, whatever layers
// its nodes begin (describe_onnx). `model_bytes` sizes the limit on the file (0: 256 MiB).
inline onnx_layers read_onnx(const std::string& path, const read_limits& limits, std::uint64_t model_bytes,
                             std::vector<layer_spec> expected, std::vector<std::size_t> input,
                             const std::string& type_name) {
  std::string what_limit;
  std::uint64_t limit = detail::parameter_file_limit(limits, model_bytes, what_limit);
  if (model_bytes == 0 && limits.parameter_file_bytes == 0) {  // describe: 64 million parameters and more
    limit = std::uint64_t{256} << 20;
    what_limit = "describe_onnx reads at most 256 MiB by default; raise nn::read_limits::parameter_file_bytes";
  }
  detail::input_file file(path, "an ONNX model", limits.fifo_writer_seconds);
  std::vector<std::uint8_t> bytes;
  file.read_to(bytes, std::numeric_limits<std::uint64_t>::max(), limit, what_limit);
  const onnx::model model = onnx::read_model(bytes, path);
  chain c(model, path);

  // The input: (batch, C, H, W) or (batch, values), the batch free or 1.
  const bool from_file = expected.empty();
  const auto& in = c.input();
  auto got = in.dims;
  if (!got.empty() && got.front() == 1) got.front() = -1;
  if (from_file) {
    if (got.size() < 2 || got.front() != -1 ||
        std::any_of(got.begin() + 1, got.end(), [](std::int64_t d) { return d < 1 || d > (1 << 24); }))
      throw data_error(path, in.offset,
                       "expected the graph input '" + shown(in.name) +
                           "' of a batch and known sizes from 1 to 2^24 ([N, values] or [N, C, H, W]), found " +
                           dims_text(in.dims));
    input.assign(got.begin() + 1, got.end());
    check_size(path, in.offset, input, "the graph input '" + shown(in.name) + "'");
  } else {
    std::vector<std::int64_t> want{-1};
    for (const auto d : input) want.push_back(static_cast<std::int64_t>(d));
    if (got != want)
      throw data_error(path, in.offset,
                       "expected the graph input '" + shown(in.name) + "' of shape " + dims_text(want) + " (" +
                           type_name + "), found " + dims_text(in.dims));
  }
  if (in.type != onnx::float32)
    throw data_error(path, in.offset, "expected a float32 input, found element type " + std::to_string(in.type));

  onnx_layers r;
  r.input = input;
  std::vector<std::size_t> dims = input;
  std::uint64_t values = 0, file_values = 0;
  for (const auto& t : model.main.initializers) file_values += t.floats.size();
  for (const auto& n : model.main.nodes)
    for (const auto& a : n.attributes)
      for (const auto& t : a.t) file_values += t.floats.size();
  for (std::size_t i = 0; !from_file || i < onnx::limits::nodes; ++i) {
    if (!from_file && i == expected.size()) break;
    layer_spec s;
    if (from_file) {
      const onnx::node* n = c.peek();
      if (!n) break;
      s.kind = layer_kind_of(n->op_type);
      if (s.kind.empty())
        c.fail(*n, "a node that begins one of nn's layers (Gemm, MatMul, Conv, MaxPool, AveragePool, "
                   "BatchNormalization, Flatten or Reshape)");
      s.in = dims;
    } else {
      s = std::move(expected[i]);
    }
    r.values.push_back(read_layer(c, s, i));
    dims = s.out();
    if (from_file) {
      check_size(path, data_error::no_offset, dims, "layer " + std::to_string(i + 1) + "'s output");
      // Layers may name the same weights (PyTorch writes one tensor for equal ones): what they take together
      // stays within a multiple of what the file holds.
      values += r.values.back().size();
      if (values > 4 * file_values + (1u << 20))
        throw data_error(path, data_error::no_offset,
                         "expected layers with weights of their own, found layer " + std::to_string(i + 1) +
                             " bringing them to " + std::to_string(values) + " values from the file's " +
                             std::to_string(file_values));
    }
    r.layers.push_back(std::move(s));
  }
  c.finish();
  if (r.layers.empty())
    throw data_error(path, data_error::no_offset, "expected at least one layer, found none: the graph is empty");
  return r;
}

}  // namespace onnx_detail

// Reads the ONNX file at `path` into `net`, whose layers must match the file's graph (see the top of this
// header). The file is read up to four times the size of this network's parameters plus 1 MiB (raise
// nn::read_limits::parameter_file_bytes for a bigger file).
template <class Net>
void load_onnx(Net& net, const std::string& path, const read_limits& limits = {}) {
  static_assert(onnx_detail::onnx_activations<Net>(),
                "nn::load_onnx: every activation of the network needs an ONNX operator (sigmoid, relu, tanh, softmax, "
                "identity; softmax only on a layer of one dimension)");
  using T = typename Net::value_type;
  std::vector<onnx_detail::layer_spec> specs;
  simd::detail::static_for<Net::layer_count>(
      [&](auto i) { specs.push_back(onnx_detail::spec_of<typename Net::template layer_type<i>>()); });
  const onnx_layers file = onnx_detail::read_onnx(
      path, limits, std::max<std::uint64_t>(Net::parameter_count * sizeof(float), 1), std::move(specs),
      {Net::input_shape::dims.begin(), Net::input_shape::dims.end()}, Net::name());
  Net loaded(net);
  simd::detail::static_for<Net::layer_count>([&](auto i) {
    std::size_t at = 0;
    detail::visit_parameters<typename Net::template layer_type<i>>(
        loaded.template layer_parameters<i>(), [&](T& v) { v = static_cast<T>(file.values[i][at++]); });
  });
  net = std::move(loaded);
}

// The network an ONNX file holds, as nn's layers (what nn-onnx describe prints): its type, e.g.
// "nn::sequential<nn::input<784>, nn::dense<30, nn::sigmoid>, nn::dense<10, nn::sigmoid>>", and each
// layer's values in file order. Every node is checked as load_onnx checks it. The file is read up to
// 256 MiB (nn::read_limits::parameter_file_bytes).
inline onnx_layers describe_onnx(const std::string& path, const read_limits& limits = {}) {
  return onnx_detail::read_onnx(path, limits, 0, {}, {}, "");
}

}  // namespace nn

namespace nn {

// The ONNX model of `net` (opset 13, float32, the batch dimension free): what save_onnx writes.
template <class Net>
onnx::model to_onnx(const Net& net) {
  static_assert(onnx_detail::onnx_activations<Net>(),
                "nn::save_onnx: every activation of the network needs an ONNX operator (sigmoid, relu, tanh, softmax, "
                "identity; softmax only on a layer of one dimension)");
  using T = typename Net::value_type;
  onnx_detail::graph_writer w;
  simd::detail::static_for<Net::layer_count>([&](auto i) {
    using B = typename Net::template layer_type<i>;
    std::vector<float> values;
    detail::visit_parameters<B>(const_cast<Net&>(net).template layer_parameters<i>(),
                                [&](T& v) { values.push_back(static_cast<float>(v)); });
    w.begin_layer(i);
    onnx_detail::write_layer<B>(w, values);
  });
  const auto dims = [](const auto& d) { return std::vector<std::int64_t>(d.begin(), d.end()); };
  return w.finish(dims(Net::input_shape::dims), dims(Net::output_shape::dims));
}

// The ONNX model of an int8 network (nn/quantize.hpp) in the QDQ form ONNX runtimes fuse into int8 kernels:
// each int8 layer's input through QuantizeLinear and DequantizeLinear (u8, its scale and zero point), its
// int8 weights through a DequantizeLinear of one scale per output (axis 0), then Gemm with the float bias
// and the activation; the float layers as to_onnx writes them. Run in float, the graph computes nn's int8
// outputs (up to the order of the sums, and an input a rounding step away when x / scale and nn's
// x · (1 / scale) round apart).
template <class Net>
onnx::model to_onnx(const quantized<Net>& q) {
  static_assert(onnx_detail::onnx_activations<Net>(),
                "nn::save_onnx: every activation of the network needs an ONNX operator (sigmoid, relu, tanh, softmax, "
                "identity; softmax only on a layer of one dimension)");
  onnx_detail::graph_writer w;
  simd::detail::static_for<Net::layer_count>([&](auto i) {
    using B = typename Net::template layer_type<i>;
    w.begin_layer(i);
    if constexpr (quantized<Net>::template in_int8<i>) {
      const auto& L = q.template int8_layer<i>();
      const auto n = static_cast<std::int64_t>(L.inputs), m = static_cast<std::int64_t>(L.outputs);
      if constexpr (B::input_shape::rank > 1) w.add("Flatten").attributes = {onnx_detail::graph_writer::integer("axis", 1)};
      const auto xs = w.initializer("input_scale", {}, &L.in_scale);
      const auto xz = w.initializer("input_zero_point", {}, onnx::uint8, {L.zero});
      w.add("QuantizeLinear", {xs, xz});
      w.add("DequantizeLinear", {xs, xz});
      const auto wq = w.initializer("weight_quantized", {m, n}, onnx::int8, std::vector<std::int64_t>(L.q.begin(), L.q.end()));
      const auto ws = w.initializer("weight_scale", {m}, L.w_scale.data());
      const auto wz = w.initializer("weight_zero_point", {m}, onnx::int8, std::vector<std::int64_t>(L.outputs, 0));
      auto& dq = w.side("DequantizeLinear", "weight", {wq, ws, wz});
      dq.attributes = {onnx_detail::graph_writer::integer("axis", 0)};
      const std::string weights = dq.name;
      const auto biases = w.initializer("bias", {m}, L.bias.data());
      w.add("Gemm", {weights, biases}).attributes = {onnx_detail::graph_writer::integer("transB", 1)};
      w.template activation<typename B::activation>();
    } else {
      std::vector<float> values;
      detail::visit_parameters<B>(const_cast<Net&>(q.float_model()).template layer_parameters<i>(),
                                  [&](float& v) { values.push_back(v); });
      onnx_detail::write_layer<B>(w, values);
    }
  });
  const auto dims = [](const auto& d) { return std::vector<std::int64_t>(d.begin(), d.end()); };
  return w.finish(dims(Net::input_shape::dims), dims(Net::output_shape::dims));
}

// Writes `net` as an ONNX file that onnx.checker accepts and nn::load_onnx reads (a double network's
// parameters rounded to float). The file is written under a temporary name and renamed.
template <class Net>
void save_onnx(const Net& net, const std::string& path) {
  const std::string bytes = onnx::write_model(to_onnx(net));
  detail::write_atomically(path, std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}

}  // namespace nn
