// ONNX's messages as nn reads them (nn/detail/onnx_proto.hpp): a file PyTorch 1.13 exported
// (tests/data/onnx/make_fixtures.py wrote it), read field by field; written back and read again; cut
// short at every length and corrupted at every byte, always a result or an nn::data_error, never more.
#include <nn/detail/onnx_proto.hpp>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "catch.hpp"
#include "data_error_of.hpp"

namespace {

namespace onnx = nn::onnx;

std::vector<std::uint8_t> fixture(const std::string& name) {
  const std::string path = std::string(NN_TEST_DATA) + "/onnx/" + name;
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);  // a test that cannot find its data fails
  return {std::istreambuf_iterator<char>(in), {}};
}

onnx::model read(const std::vector<std::uint8_t>& bytes) { return onnx::read_model(bytes, "tiny_mlp.onnx"); }
std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("onnx: a file PyTorch exported reads field by field", "[onnx]") {
  const auto m = read(fixture("tiny_mlp.onnx"));
  REQUIRE(m.ir_version == 7);
  REQUIRE(m.opset == 13);
  REQUIRE(m.producer_name == "pytorch");
  REQUIRE(m.has_graph);
  const auto& g = m.main;
  REQUIRE(g.inputs.size() == 1);
  REQUIRE(g.inputs[0].name == "x");
  REQUIRE(g.inputs[0].type == onnx::float32);
  REQUIRE(g.inputs[0].dims == std::vector<std::int64_t>{-1, 4});  // the batch dimension has a name, "N"
  REQUIRE(g.outputs.size() == 1);
  REQUIRE(g.outputs[0].dims == std::vector<std::int64_t>{-1, 2});

  REQUIRE(g.nodes.size() == 4);
  const char* ops[] = {"Gemm", "Sigmoid", "Gemm", "Softmax"};
  for (std::size_t i = 0; i < 4; ++i) REQUIRE(g.nodes[i].op_type == ops[i]);
  const auto& gemm = g.nodes[0];
  REQUIRE(gemm.name == "/0/Gemm");
  REQUIRE(g.nodes[3].name == "/3/Softmax");
  REQUIRE(gemm.domain.empty());
  REQUIRE(gemm.inputs == std::vector<std::string>{"x", "0.weight", "0.bias"});
  REQUIRE(gemm.outputs.size() == 1);
  REQUIRE(g.nodes[1].inputs == gemm.outputs);  // a chain
  REQUIRE(gemm.find("transB") != nullptr);
  REQUIRE((gemm.find("transB")->type == onnx::attr_int && gemm.find("transB")->i == 1));
  REQUIRE((gemm.find("alpha")->type == onnx::attr_float && gemm.find("alpha")->f == 1.0f));
  REQUIRE(gemm.find("transA") == nullptr);
  REQUIRE(g.nodes[3].find("axis")->i == 1);

  // The weights, as the export script printed them (float32 values, exact).
  REQUIRE(g.initializers.size() == 4);
  const auto& w0 = g.initializers[0];
  REQUIRE(w0.name == "0.weight");
  REQUIRE(w0.dims == std::vector<std::int64_t>{3, 4});
  REQUIRE(w0.floats.size() == 12);
  REQUIRE(w0.floats.front() == -0.003743410110473633f);
  REQUIRE(w0.floats.back() == -0.09828269481658936f);
  REQUIRE(g.initializers[3].name == "2.bias");
  REQUIRE(g.initializers[3].floats == std::vector<float>{0.47942468523979187f, -0.11881878226995468f});
  REQUIRE(!w0.external);
}

TEST_CASE("onnx: what nn writes reads back the same, and writing is stable", "[onnx]") {
  const auto m = read(fixture("tiny_mlp.onnx"));
  const std::string once = onnx::write_model(m);
  const auto again = read(bytes_of(once));
  REQUIRE(again.ir_version == m.ir_version);
  REQUIRE(again.opset == m.opset);
  REQUIRE(again.producer_name == m.producer_name);
  REQUIRE(again.main.nodes.size() == m.main.nodes.size());
  for (std::size_t i = 0; i < m.main.nodes.size(); ++i) {
    const auto &a = m.main.nodes[i], &b = again.main.nodes[i];
    REQUIRE((a.op_type == b.op_type && a.name == b.name && a.inputs == b.inputs && a.outputs == b.outputs));
    REQUIRE(a.attributes.size() == b.attributes.size());
    for (std::size_t k = 0; k < a.attributes.size(); ++k)
      REQUIRE((a.attributes[k].name == b.attributes[k].name && a.attributes[k].type == b.attributes[k].type &&
               a.attributes[k].f == b.attributes[k].f && a.attributes[k].i == b.attributes[k].i));
  }
  REQUIRE(again.main.initializers.size() == m.main.initializers.size());
  for (std::size_t i = 0; i < m.main.initializers.size(); ++i) {
    const auto &a = m.main.initializers[i], &b = again.main.initializers[i];
    REQUIRE((a.name == b.name && a.dims == b.dims && a.type == b.type && a.floats == b.floats));
  }
  REQUIRE(again.main.inputs[0].dims == m.main.inputs[0].dims);
  REQUIRE(again.main.outputs[0].name == "y");
  REQUIRE(onnx::write_model(again) == once);
}

TEST_CASE("onnx: every prefix and every corrupted byte of a file reads or is a data_error", "[onnx]") {
  const auto file = fixture("tiny_mlp.onnx");
  std::size_t errors = 0;
  for (std::size_t n = 0; n < file.size(); ++n) {
    const std::vector<std::uint8_t> prefix(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      (void)read(prefix);
    } catch (const nn::data_error& e) {
      ++errors;
      REQUIRE(e.offset() <= n);
      REQUIRE(e.file() == "tiny_mlp.onnx");
    }
  }
  REQUIRE(errors > file.size() / 2);  // most cuts land inside a field
  for (std::size_t i = 0; i < file.size(); ++i)
    for (const std::uint8_t v : {0x00, 0x07, 0x80, 0xff}) {
      auto bad = file;
      bad[i] = v;
      try {
        (void)read(bad);
      } catch (const nn::data_error& e) {
        REQUIRE(e.offset() <= file.size());
      }
    }
}

TEST_CASE("onnx: malformed messages name the byte and what was expected", "[onnx]") {
  namespace pb = nn::detail::pb;
  auto model_with_tensor = [](const pb::writer& tensor) {
    pb::writer graph, model;
    graph.field_message(5, tensor);
    model.field_message(7, graph);
    return bytes_of(model.bytes());
  };
  {  // raw float data that is not whole floats; the offset is the raw data field's length
    pb::writer t;
    t.field_varint(2, onnx::float32);
    t.field_bytes(9, "abcdef");
    const auto e = error_of([&] { (void)read(model_with_tensor(t)); });
    REQUIRE(e.problem() == "expected raw float data in a multiple of 4 bytes, found 6");
    REQUIRE(e.offset() == 7);  // model tag, length, graph tag, length, type field (2 bytes), raw data tag
  }
  {  // a name sent as a number
    pb::writer t;
    t.field_varint(8, 5);
    const auto e = error_of([&] { (void)read(model_with_tensor(t)); });
    REQUIRE(e.problem() == "expected a name (field 8, wire type 2), found wire type 0");
    REQUIRE(e.offset() == 4);
  }
  {  // empty raw data (the fuzzer's first find: a copy from a null pointer): a tensor with no values
    pb::writer t;
    t.field_varint(2, onnx::float32);
    t.field_bytes(9, "");
    REQUIRE(read(model_with_tensor(t)).main.initializers.at(0).floats.empty());
  }
  {  // too many dimensions
    pb::writer t;
    const std::vector<std::int64_t> dims(65, 1);
    t.field_varints(1, dims);
    REQUIRE(error_of([&] { (void)read(model_with_tensor(t)); }).problem() ==
            "expected at most 64 dimensions (nn's limit), found 65");
  }
  {  // too many nodes: the 100,001st is refused, before it is read
    pb::writer graph, model, node;
    node.field_bytes(4, "Relu");
    for (std::size_t i = 0; i <= onnx::limits::nodes; ++i) graph.field_message(1, node);
    model.field_message(7, graph);
    REQUIRE(error_of([&] { (void)read(bytes_of(model.bytes())); }).problem() ==
            "expected at most 100000 nodes (nn's limit), found more");
  }
}
