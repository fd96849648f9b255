// The part of ONNX's schema (onnx/onnx.proto) that nn reads and writes: a model, its graph, the graph's
// nodes with their attributes, its initializers (the weights) and its inputs and outputs with their
// shapes. Read from bytes with every length checked (nn/detail/protobuf.hpp); what nn does not use is
// skipped, and what it cannot use is kept only as far as needed to name it in an error (an attribute's
// type, a tensor's element type or external location). The schema has a fixed depth (model, graph, node,
// attribute, tensor: a graph inside an attribute is not read), so no input can make the reader recurse,
// and the counts of what it keeps are capped (limits below), so memory stays within a small multiple of
// the file's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nn/detail/protobuf.hpp"

namespace nn::onnx {

// TensorProto.DataType values nn meets.
enum data_type : std::int32_t { undefined = 0, float32 = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7, boolean = 9, float64 = 11 };
// AttributeProto.AttributeType values.
enum attribute_type : std::int32_t {
  attr_undefined = 0,
  attr_float = 1,
  attr_int = 2,
  attr_string = 3,
  attr_tensor = 4,
  attr_graph = 5,
  attr_floats = 6,
  attr_ints = 7,
  attr_strings = 8
};

struct tensor {
  std::string name;
  std::vector<std::int64_t> dims;
  std::int32_t type = undefined;
  std::vector<float> floats;       // FLOAT values, from float_data or raw_data
  std::vector<std::int64_t> ints;  // INT64, INT32 and BOOL values (Reshape's shape, a Constant, Dropout's mode)
  bool external = false;           // data_location EXTERNAL: the values are in another file
  std::size_t offset = 0;          // of the TensorProto in the file
};

struct attribute {
  std::string name;
  std::int32_t type = attr_undefined;
  float f = 0;
  std::int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  std::vector<tensor> t;  // at most one: the TENSOR attribute's value
  std::size_t offset = 0;
};

struct node {
  std::string name, op_type, domain;
  std::vector<std::string> inputs, outputs;
  std::vector<attribute> attributes;
  std::size_t offset = 0;

  const attribute* find(const std::string& attribute_name) const noexcept {
    for (const auto& a : attributes)
      if (a.name == attribute_name) return &a;
    return nullptr;
  }
};

// A graph input or output: its name, element type and shape (−1 for a dimension given by name, such as
// the batch's "N", or not given).
struct value_info {
  std::string name;
  std::int32_t type = undefined;
  std::vector<std::int64_t> dims;
  std::size_t offset = 0;
};

struct graph {
  std::string name;
  std::vector<node> nodes;
  std::vector<tensor> initializers;
  std::vector<value_info> inputs, outputs;
};

struct model {
  std::int64_t ir_version = 0;
  std::string producer_name, producer_version;
  std::int64_t opset = 0;  // the default domain's (ai.onnx) operator set version
  graph main;
  bool has_graph = false;
};

// The most of each kind the reader keeps: far above any network nn can hold, and each a data_error past it.
struct limits {
  static constexpr std::size_t nodes = 100'000, initializers = 100'000, values = 10'000, attributes = 1'000, dims = 64;
  // Per node, its input and output names; and in the whole graph, attributes and names (each kept item
  // costs up to about 160 bytes however few bytes of the file it took, so the graph's total is capped).
  static constexpr std::size_t names = 1'000, graph_attributes = 200'000, graph_names = 1'000'000;
};

namespace detail {

namespace pb = nn::detail::pb;

inline void expect(pb::reader& r, const pb::field& f, pb::wire type, const char* what) {
  if (f.type != type)
    r.fail(f.offset, std::string(what) + " (field " + std::to_string(f.number) + ", wire type " +
                         std::to_string(static_cast<int>(type)) + "), found wire type " +
                         std::to_string(static_cast<int>(f.type)));
}
// A field's value in the wire type the schema gives it (else an error naming the field and both types).
inline std::string string_value(pb::reader& r, const pb::field& f, const char* what) {
  expect(r, f, pb::wire::bytes, what);
  return r.string();
}
inline float float_value(pb::reader& r, const pb::field& f, const char* what) {
  expect(r, f, pb::wire::fixed32, what);
  return r.float32();
}
inline pb::reader message_value(pb::reader& r, const pb::field& f, const char* what) {
  expect(r, f, pb::wire::bytes, what);
  return r.message();
}
inline std::int64_t int64_value(pb::reader& r, const pb::field& f, const char* what) {
  expect(r, f, pb::wire::varint, what);
  return static_cast<std::int64_t>(r.varint());
}
// An int32 field (a data type, an attribute type): a varint that must fit.
inline std::int32_t int32_value(pb::reader& r, const pb::field& f, const char* what) {
  expect(r, f, pb::wire::varint, what);
  const std::uint64_t v = r.varint();
  if (v > 0x7fffffffu) r.fail(f.offset, std::string(what) + " that fits 31 bits, found " + std::to_string(v));
  return static_cast<std::int32_t>(v);
}

template <class V>
void check_count(const pb::reader& r, std::size_t at, const V& kept, std::size_t most, const char* what) {
  if (kept.size() >= most) r.fail(at, "at most " + std::to_string(most) + " " + what + " (nn's limit), found more");
}

// Packed or not, as protobuf allows for repeated numbers.
inline void read_int64s(pb::reader& r, const pb::field& f, std::vector<std::int64_t>& out) {
  if (f.type == pb::wire::bytes) {
    pb::reader packed = r.message();
    while (!packed.done()) out.push_back(static_cast<std::int64_t>(packed.varint()));
  } else if (f.type == pb::wire::varint) {
    out.push_back(static_cast<std::int64_t>(r.varint()));
  } else {
    r.fail(f.offset, "field " + std::to_string(f.number) + " as int64 values (wire type 0 or 2), found wire type " +
                         std::to_string(static_cast<int>(f.type)));
  }
}
inline void read_floats(pb::reader& r, const pb::field& f, std::vector<float>& out) {
  if (f.type == pb::wire::bytes) {
    pb::reader packed = r.message();
    if (packed.remaining() % 4)
      r.fail(f.offset, "packed floats in a multiple of 4 bytes, found " + std::to_string(packed.remaining()));
    while (!packed.done()) out.push_back(packed.float32());
  } else if (f.type == pb::wire::fixed32) {
    out.push_back(r.float32());
  } else {
    r.fail(f.offset, "field " + std::to_string(f.number) + " as float values (wire type 5 or 2), found wire type " +
                         std::to_string(static_cast<int>(f.type)));
  }
}

inline tensor read_tensor(pb::reader r, std::size_t offset) {
  tensor t;
  t.offset = offset;
  std::span<const std::uint8_t> raw;
  std::size_t raw_at = 0;
  bool has_raw = false;
  while (!r.done()) {
    const pb::field f = r.next();
    switch (f.number) {
      case 1:
        read_int64s(r, f, t.dims);
        if (t.dims.size() > limits::dims)
          r.fail(f.offset, "at most " + std::to_string(limits::dims) + " dimensions (nn's limit), found " +
                               std::to_string(t.dims.size()));
        break;
      case 2: t.type = int32_value(r, f, "a data type"); break;
      case 4: read_floats(r, f, t.floats); break;
      case 5:
      case 7: read_int64s(r, f, t.ints); break;  // int32_data (varints too), int64_data
      case 8: t.name = string_value(r, f, "a name"); break;
      case 9:
        expect(r, f, pb::wire::bytes, "raw data");
        raw_at = r.offset();
        raw = r.bytes();
        has_raw = true;
        break;
      case 14: t.external = int64_value(r, f, "a data location") == 1; break;
      default: r.skip(f);
    }
  }
  if (has_raw && !raw.empty()) {  // (empty raw data: no values, and no memcpy from a null pointer)
    if (t.type == float32) {
      if (raw.size() % 4)
        r.fail(raw_at, "raw float data in a multiple of 4 bytes, found " + std::to_string(raw.size()));
      t.floats.resize(raw.size() / 4);
      std::memcpy(t.floats.data(), raw.data(), raw.size());
    } else if (t.type == int64 || t.type == int32) {
      const std::size_t width = t.type == int64 ? 8 : 4;
      if (raw.size() % width)
        r.fail(raw_at, "raw integer data in a multiple of " + std::to_string(width) + " bytes, found " +
                           std::to_string(raw.size()));
      for (std::size_t i = 0; i < raw.size(); i += width) {
        std::int64_t v = 0;
        if (width == 8)
          std::memcpy(&v, raw.data() + i, 8);
        else {
          std::int32_t v32;
          std::memcpy(&v32, raw.data() + i, 4);
          v = v32;
        }
        t.ints.push_back(v);
      }
    } else if (t.type == boolean && raw.size() <= 64) {  // a flag (Dropout's mode), not data: kept when small
      for (const std::uint8_t v : raw) t.ints.push_back(v);
    }
    // Other element types keep no values: nn names the type in its error.
  }
  return t;
}

inline attribute read_attribute(pb::reader r, std::size_t offset) {
  attribute a;
  a.offset = offset;
  while (!r.done()) {
    const pb::field f = r.next();
    switch (f.number) {
      case 1: a.name = string_value(r, f, "a name"); break;
      case 20: a.type = int32_value(r, f, "an attribute type"); break;
      case 2: a.f = float_value(r, f, "a float"); break;
      case 3: a.i = int64_value(r, f, "an int"); break;
      case 4: a.s = string_value(r, f, "a string"); break;
      case 5: {
        const std::size_t at = r.offset();
        a.t.assign(1, read_tensor(message_value(r, f, "a tensor"), at));
        break;
      }
      case 7: read_floats(r, f, a.floats); break;
      case 8: read_int64s(r, f, a.ints); break;
      default: r.skip(f);  // graphs, strings, tensors: kept as their type only
    }
  }
  return a;
}

inline node read_node(pb::reader r, std::size_t offset) {
  node n;
  n.offset = offset;
  while (!r.done()) {
    const pb::field f = r.next();
    switch (f.number) {
      case 1:
        check_count(r, f.offset, n.inputs, limits::names, "inputs of a node");
        n.inputs.push_back(string_value(r, f, "an input name"));
        break;
      case 2:
        check_count(r, f.offset, n.outputs, limits::names, "outputs of a node");
        n.outputs.push_back(string_value(r, f, "an output name"));
        break;
      case 3: n.name = string_value(r, f, "a node name"); break;
      case 4: n.op_type = string_value(r, f, "an op type"); break;
      case 7: n.domain = string_value(r, f, "a domain"); break;
      case 5: {
        expect(r, f, pb::wire::bytes, "an attribute");
        check_count(r, f.offset, n.attributes, limits::attributes, "attributes in a node");
        const std::size_t at = r.offset();
        n.attributes.push_back(read_attribute(r.message(), at));
        break;
      }
      default: r.skip(f);
    }
  }
  return n;
}

// ValueInfoProto → TypeProto → TypeProto.Tensor → TensorShapeProto → Dimension.
inline value_info read_value_info(pb::reader r, std::size_t offset) {
  value_info v;
  v.offset = offset;
  while (!r.done()) {
    const pb::field f = r.next();
    if (f.number == 1) {
      v.name = string_value(r, f, "a name");
    } else if (f.number == 2) {
      pb::reader type = message_value(r, f, "a type");
      while (!type.done()) {
        const pb::field tf = type.next();
        if (tf.number != 1) {  // sequences and maps: nn reads tensors only, and says so
          type.skip(tf);
          continue;
        }
        pb::reader tensor_type = message_value(type, tf, "a tensor type");
        while (!tensor_type.done()) {
          const pb::field g = tensor_type.next();
          if (g.number == 1) {
            v.type = int32_value(tensor_type, g, "an element type");
          } else if (g.number == 2) {
            pb::reader shape = message_value(tensor_type, g, "a shape");
            while (!shape.done()) {
              const pb::field d = shape.next();
              if (d.number != 1) {
                shape.skip(d);
                continue;
              }
              expect(shape, d, pb::wire::bytes, "a dimension");
              check_count(shape, d.offset, v.dims, limits::dims, "dimensions");
              pb::reader dim = shape.message();
              std::int64_t value = -1;
              while (!dim.done()) {
                const pb::field e = dim.next();
                if (e.number == 1 && e.type == pb::wire::varint)
                  value = static_cast<std::int64_t>(dim.varint());
                else
                  dim.skip(e);
              }
              v.dims.push_back(value);
            }
          } else {
            tensor_type.skip(g);
          }
        }
      }
    } else {
      r.skip(f);
    }
  }
  return v;
}

inline graph read_graph(pb::reader r) {
  graph g;
  std::size_t attributes = 0, names = 0;  // kept in the whole graph so far
  while (!r.done()) {
    const pb::field f = r.next();
    const std::size_t at = f.number == 1 || f.number == 5 || f.number == 11 || f.number == 12 ? r.offset() : 0;
    if (f.number == 1) check_count(r, f.offset, g.nodes, limits::nodes, "nodes");
    if (f.number == 5) check_count(r, f.offset, g.initializers, limits::initializers, "initializers");
    if (f.number == 11) check_count(r, f.offset, g.inputs, limits::values, "graph inputs");
    if (f.number == 12) check_count(r, f.offset, g.outputs, limits::values, "graph outputs");
    switch (f.number) {
      case 1: {
        g.nodes.push_back(read_node(message_value(r, f, "a node"), at));
        attributes += g.nodes.back().attributes.size();
        names += g.nodes.back().inputs.size() + g.nodes.back().outputs.size();
        if (attributes > limits::graph_attributes)
          r.fail(f.offset, "at most " + std::to_string(limits::graph_attributes) +
                               " attributes in the graph (nn's limit), found more");
        if (names > limits::graph_names)
          r.fail(f.offset, "at most " + std::to_string(limits::graph_names) +
                               " input and output names in the graph (nn's limit), found more");
        break;
      }
      case 2: g.name = string_value(r, f, "a graph name"); break;
      case 5: g.initializers.push_back(read_tensor(message_value(r, f, "an initializer"), at)); break;
      case 11: g.inputs.push_back(read_value_info(message_value(r, f, "a graph input"), at)); break;
      case 12: g.outputs.push_back(read_value_info(message_value(r, f, "a graph output"), at)); break;
      default: r.skip(f);
    }
  }
  return g;
}

}  // namespace detail

// A whole ModelProto from its bytes; `file` names it in errors.
inline model read_model(std::span<const std::uint8_t> bytes, const std::string& file) {
  namespace pb = nn::detail::pb;
  pb::reader r(bytes, file);
  model m;
  while (!r.done()) {
    const pb::field f = r.next();
    switch (f.number) {
      case 1: m.ir_version = detail::int64_value(r, f, "an IR version"); break;
      case 2: m.producer_name = detail::string_value(r, f, "a producer name"); break;
      case 3: m.producer_version = detail::string_value(r, f, "a producer version"); break;
      case 7:
        m.main = detail::read_graph(detail::message_value(r, f, "a graph"));
        m.has_graph = true;
        break;
      case 8: {
        pb::reader set = detail::message_value(r, f, "an operator set");
        std::string domain;
        std::int64_t version = 0;
        while (!set.done()) {
          const pb::field g = set.next();
          if (g.number == 1 && g.type == pb::wire::bytes)
            domain = set.string();
          else if (g.number == 2 && g.type == pb::wire::varint)
            version = static_cast<std::int64_t>(set.varint());
          else
            set.skip(g);
        }
        if (domain.empty() || domain == "ai.onnx") m.opset = version;
        break;
      }
      default: r.skip(f);
    }
  }
  return m;
}

// The bytes of a ModelProto: what read_model reads (float tensors as raw data, as PyTorch writes them).
inline std::string write_model(const model& m) {
  namespace pb = nn::detail::pb;
  auto tensor_bytes = [](const tensor& t) {
    pb::writer w;
    w.field_varints(1, t.dims);
    w.field_varint(2, static_cast<std::uint64_t>(t.type));
    w.field_bytes(8, t.name);
    if (t.type == float32)
      w.field_bytes(9, std::string_view(reinterpret_cast<const char*>(t.floats.data()), t.floats.size() * 4));
    else if (t.type == int64)
      w.field_bytes(9, std::string_view(reinterpret_cast<const char*>(t.ints.data()), t.ints.size() * 8));
    else if (t.type == int8 || t.type == uint8) {  // a byte each
      std::string b;
      for (const auto v : t.ints) b += static_cast<char>(static_cast<std::uint8_t>(v));
      w.field_bytes(9, b);
    } else if (t.type == boolean) {
      std::string flags;
      for (const auto v : t.ints) flags += static_cast<char>(v != 0);
      w.field_bytes(9, flags);
    }
    return w;
  };
  auto value_info_bytes = [](const value_info& v) {
    pb::writer shape;
    for (const std::int64_t d : v.dims) {
      pb::writer dim;
      if (d >= 0)
        dim.field_varint(1, static_cast<std::uint64_t>(d));
      else
        dim.field_bytes(2, "N");
      shape.field_message(1, dim);
    }
    pb::writer tensor_type;
    tensor_type.field_varint(1, static_cast<std::uint64_t>(v.type));
    tensor_type.field_message(2, shape);
    pb::writer type;
    type.field_message(1, tensor_type);
    pb::writer w;
    w.field_bytes(1, v.name);
    w.field_message(2, type);
    return w;
  };
  pb::writer g;
  for (const node& n : m.main.nodes) {
    pb::writer w;
    for (const auto& s : n.inputs) w.field_bytes(1, s);
    for (const auto& s : n.outputs) w.field_bytes(2, s);
    w.field_bytes(3, n.name);
    w.field_bytes(4, n.op_type);
    for (const attribute& a : n.attributes) {
      pb::writer aw;
      aw.field_bytes(1, a.name);
      aw.field_varint(20, static_cast<std::uint64_t>(a.type));
      if (a.type == attr_float)
        aw.field_float(2, a.f);
      else if (a.type == attr_int)
        aw.field_varint(3, static_cast<std::uint64_t>(a.i));
      else if (a.type == attr_string)
        aw.field_bytes(4, a.s);
      else if (a.type == attr_ints)
        aw.field_varints(8, a.ints);
      else if (a.type == attr_floats)
        aw.field_floats(7, a.floats);
      else if (a.type == attr_tensor && !a.t.empty())
        aw.field_message(5, tensor_bytes(a.t.front()));
      w.field_message(5, aw);
    }
    if (!n.domain.empty()) w.field_bytes(7, n.domain);
    g.field_message(1, w);
  }
  g.field_bytes(2, m.main.name);
  for (const tensor& t : m.main.initializers) g.field_message(5, tensor_bytes(t));
  for (const value_info& v : m.main.inputs) g.field_message(11, value_info_bytes(v));
  for (const value_info& v : m.main.outputs) g.field_message(12, value_info_bytes(v));
  pb::writer w;
  w.field_varint(1, static_cast<std::uint64_t>(m.ir_version));
  w.field_bytes(2, m.producer_name);
  w.field_bytes(3, m.producer_version);
  w.field_message(7, g);
  pb::writer set;
  set.field_bytes(1, "");
  set.field_varint(2, static_cast<std::uint64_t>(m.opset));
  w.field_message(8, set);
  return w.bytes();
}

}  // namespace nn::onnx
