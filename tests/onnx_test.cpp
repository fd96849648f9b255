// nn::load_onnx (nn/onnx.hpp) on a file PyTorch 1.13 exported (tests/data/onnx/make_fixtures.py, which
// also printed the weights and PyTorch's outputs used here), and on files that differ from the network:
// each an nn::data_error naming the node and what was expected, with the network left as it was.
#include <nn/onnx.hpp>

#include <nn/network.hpp>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "catch.hpp"
#include "data_error_of.hpp"

namespace {

const std::string tiny = std::string(NN_TEST_DATA) + "/onnx/tiny_mlp.onnx";
using mlp = nn::sequential<nn::input<4>, nn::dense<3, nn::sigmoid>, nn::dense<2, nn::softmax>>;

// The fixture's model changed by f, written by nn to a file.
template <class F>
std::string changed(const std::string& name, F&& f) {
  std::ifstream in(tiny, std::ios::binary);
  REQUIRE(in);
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  auto m = nn::onnx::read_model(bytes, tiny);
  f(m);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("nn_onnx_test_" + std::to_string(::getpid()) + "_" + name + ".onnx"))
          .string();
  std::ofstream(path, std::ios::binary) << nn::onnx::write_model(m);
  return path;
}

}  // namespace

TEST_CASE("load_onnx: PyTorch's 4-3-2 network gives PyTorch's outputs", "[onnx]") {
  mlp net(1);
  nn::load_onnx(net, tiny);
  // Weights as PyTorch printed them: Linear's weight is [out][in], nn's file order w[j][k] too.
  REQUIRE(net.layer_parameters<0>()[0] == -0.003743410110473633f);  // w[0][0]
  const float x[2][4] = {{0.1f, 0.2f, 0.3f, 0.4f}, {-1.0f, 0.5f, 2.0f, -0.3f}};
  const float torch[2][2] = {{0.7339257001876831f, 0.2660742402076721f}, {0.726249098777771f, 0.273750901222229f}};
  for (int s = 0; s < 2; ++s) {
    const auto y = net.feedforward(std::span<const float>(x[s], 4));
    for (int o = 0; o < 2; ++o) REQUIRE(y[o] == Approx(torch[s][o]).epsilon(1e-6));
  }
  // The same file into the course's network type, in double.
  nn::basic_network<nn::policies<double, nn::sigmoid, nn::softmax>, 4, 3, 2> course(1);
  nn::load_onnx(course, tiny);
  REQUIRE(course.weight(0, 0, 1) == double(0.26822179555892944f));
  REQUIRE(course.bias(1, 1) == double(-0.11881878226995468f));
}

TEST_CASE("load_onnx: a file that differs from the network is an error naming the node", "[onnx]") {
  auto check = [](auto net, const std::string& path, const std::string& text) {
    const auto before = net;
    const auto e = error_of([&] { nn::load_onnx(net, path); });
    INFO(e.what());
    CHECK(e.problem().find(text) != std::string::npos);
    CHECK(net == before);  // unchanged
  };
  using relu_hidden = nn::sequential<nn::input<4>, nn::dense<3, nn::relu>, nn::dense<2, nn::softmax>>;
  check(relu_hidden(1), tiny,
        "node '/1/Sigmoid' (Sigmoid): expected Relu for layer 1 (dense)'s activation, found Sigmoid");
  using wider = nn::sequential<nn::input<4>, nn::dense<5, nn::sigmoid>, nn::dense<2, nn::softmax>>;
  check(wider(1), tiny, "node '/0/Gemm' (Gemm): expected the weights of layer 1 (dense) of shape [5, 4], found [3, 4]");
  using longer =
      nn::sequential<nn::input<4>, nn::dense<3, nn::sigmoid>, nn::dense<2, nn::softmax>, nn::dense<2, nn::softmax>>;
  check(longer(1), tiny, "expected Gemm or MatMul for layer 3 (dense), found the end of the graph after 'y'");
  using shorter = nn::sequential<nn::input<4>, nn::dense<3, nn::sigmoid>>;
  check(shorter(1), tiny, "node '/2/Gemm' (Gemm): expected the end of the network");
  using other_input = nn::sequential<nn::input<5>, nn::dense<3, nn::sigmoid>, nn::dense<2, nn::softmax>>;
  check(other_input(1), tiny, "expected the graph input 'x' of shape [N, 5]");
  check(mlp(1), changed("conv", [](nn::onnx::model& m) { m.main.nodes[1].op_type = "Elu"; }),
        "node '/1/Sigmoid' (Elu): expected Sigmoid for layer 1 (dense)'s activation, found Elu");
  check(mlp(1), changed("alpha", [](nn::onnx::model& m) { m.main.nodes[0].attributes[0].f = 2; }),
        "expected alpha = beta = 1");
  check(mlp(1),
        changed("branch",
                [](nn::onnx::model& m) {
                  auto extra = m.main.nodes[1];
                  extra.name = "extra";
                  extra.outputs = {"z"};
                  m.main.nodes.push_back(extra);
                }),
        "expected a chain of layers, found a second node reading '/0/Gemm_output_0'");
  check(mlp(1), changed("double", [](nn::onnx::model& m) { m.main.initializers[0].type = nn::onnx::float64; }),
        "expected the weights of layer 1 (dense) of float32 values, found element type 11");
  for (const auto* name : {"conv", "alpha", "branch", "double"})
    std::filesystem::remove(std::filesystem::temp_directory_path() /
                            ("nn_onnx_test_" + std::to_string(::getpid()) + "_" + name + ".onnx"));
  const auto missing = error_of([] {
    mlp net(1);
    nn::load_onnx(net, std::string(NN_TEST_DATA) + "/onnx/no_such.onnx");
  });
  CHECK(missing.problem() == "no such file (expected an ONNX model)");
}

TEST_CASE("load_onnx: Gemm without transB, and MatMul then Add, give the same network", "[onnx]") {
  mlp expected(1);
  nn::load_onnx(expected, tiny);
  auto transpose = [](nn::onnx::model& m, const std::string& name) {
    for (auto& t : m.main.initializers)
      if (t.name == name) {
        const auto rows = static_cast<std::size_t>(t.dims[0]), cols = static_cast<std::size_t>(t.dims[1]);
        std::vector<float> out(t.floats.size());
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t c = 0; c < cols; ++c) out[c * rows + r] = t.floats[r * cols + c];
        t.floats = out;
        t.dims = {t.dims[1], t.dims[0]};
      }
  };
  const auto gemm = changed("transB0", [&](nn::onnx::model& m) {
    for (auto& n : m.main.nodes)
      if (n.op_type == "Gemm") {
        for (auto& a : n.attributes)
          if (a.name == "transB") a.i = 0;
        transpose(m, n.inputs[1]);
      }
  });
  mlp a(2);
  nn::load_onnx(a, gemm);
  REQUIRE(a == expected);
  const auto matmul = changed("matmul", [&](nn::onnx::model& m) {
    std::vector<nn::onnx::node> nodes;
    for (const auto& n : m.main.nodes) {
      if (n.op_type != "Gemm") {
        nodes.push_back(n);
        continue;
      }
      nn::onnx::node mm, add;
      mm.op_type = "MatMul";
      mm.name = n.name + "_matmul";
      mm.inputs = {n.inputs[0], n.inputs[1]};
      mm.outputs = {n.outputs[0] + "_product"};
      add.op_type = "Add";
      add.name = n.name + "_add";
      // The second layer's Add takes the bias first (Add is commutative).
      add.inputs = n.name == "/2/Gemm" ? std::vector<std::string>{n.inputs[2], mm.outputs[0]}
                                       : std::vector<std::string>{mm.outputs[0], n.inputs[2]};
      add.outputs = n.outputs;
      nodes.push_back(mm);
      nodes.push_back(add);
      transpose(m, n.inputs[1]);
    }
    m.main.nodes = nodes;
  });
  mlp b(3);
  nn::load_onnx(b, matmul);
  REQUIRE(b == expected);
  // Dropout and Identity nodes (inference) are passed over.
  const auto dropout = changed("dropout", [&](nn::onnx::model& m) {
    nn::onnx::node drop, same;
    drop.op_type = "Dropout";
    drop.name = "drop";
    drop.inputs = {m.main.nodes[1].outputs[0]};
    drop.outputs = {"dropped", "mask"};
    same.op_type = "Identity";
    same.name = "same";
    same.inputs = {"dropped"};
    same.outputs = {"kept"};
    m.main.nodes[2].inputs[0] = "kept";
    m.main.nodes.insert(m.main.nodes.begin() + 2, {drop, same});
  });
  mlp c(4);
  nn::load_onnx(c, dropout);
  REQUIRE(c == expected);
  // An operator of another domain is not ONNX's.
  const auto domain = changed("domain", [&](nn::onnx::model& m) { m.main.nodes[1].domain = "com.microsoft"; });
  mlp d(5);
  REQUIRE(error_of([&] { nn::load_onnx(d, domain); }).problem() ==
          "node '/1/Sigmoid' (Sigmoid): expected an operator of ONNX's own domain, found the domain 'com.microsoft'");
  for (const auto& f : {gemm, matmul, dropout, domain}) std::filesystem::remove(f);
}

TEST_CASE("load_onnx: Flatten after an image input, and a dense layer with no activation", "[onnx]") {
  using net_t = nn::sequential<nn::input<1, 2, 3>, nn::flatten, nn::dense<3, nn::relu>, nn::dense<2, nn::identity>>;
  net_t net(1);
  nn::load_onnx(net, std::string(NN_TEST_DATA) + "/onnx/flatten_mlp.onnx");
  const float x[6] = {0.5f, -1.0f, 2.0f, 0.25f, 0.0f, -0.75f};
  const auto y = net.feedforward(std::span<const float>(x, 6));
  REQUIRE(y[0] == Approx(0.1888653039932251f).epsilon(1e-6));
  REQUIRE(y[1] == Approx(-0.62395840883255f).epsilon(1e-6));
  // Reshape to (batch, 6) loads the same; to (batch, 5) is an error.
  auto reshaped = [&](std::int64_t second) {
    std::ifstream in(std::string(NN_TEST_DATA) + "/onnx/flatten_mlp.onnx", std::ios::binary);
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    auto m = nn::onnx::read_model(bytes, "flatten_mlp.onnx");
    m.main.nodes[0].op_type = "Reshape";
    m.main.nodes[0].attributes.clear();
    m.main.nodes[0].inputs.push_back("target");
    nn::onnx::tensor target;
    target.name = "target";
    target.type = nn::onnx::int64;
    target.dims = {2};
    target.ints = {-1, second};
    m.main.initializers.push_back(target);
    const std::string path =
        (std::filesystem::temp_directory_path() / ("nn_onnx_test_" + std::to_string(::getpid()) + "_reshape.onnx"))
            .string();
    std::ofstream(path, std::ios::binary) << nn::onnx::write_model(m);
    return path;
  };
  net_t again(2);
  nn::load_onnx(again, reshaped(6));
  REQUIRE(again == net);
  const auto e = error_of([&] { nn::load_onnx(again, reshaped(5)); });
  REQUIRE(e.problem() == "node '/0/Flatten' (Reshape): expected Reshape to (batch, 6), found (-1, 5)");
  std::filesystem::remove(reshaped(5));
}
