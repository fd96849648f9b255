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
#include "onnx_fixtures.hpp"

namespace {

const std::string tiny = std::string(NN_TEST_DATA) + "/onnx/tiny_mlp.onnx";
using mlp = nn::sequential<nn::input<4>, nn::dense<3, nn::sigmoid>, nn::dense<2, nn::softmax>>;

using namespace onnx_fixtures;
const std::string& fixtures = onnx_fixtures::dir;

// A file in the temporary folder, removed at the end of the test.
struct temp_file {
  std::string path;
  explicit temp_file(std::string p) : path(std::move(p)) {}
  temp_file(const temp_file&) = delete;
  ~temp_file() { std::filesystem::remove(path); }
  operator const std::string&() const noexcept { return path; }
};

nn::onnx::model fixture(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  return nn::onnx::read_model(bytes, path);
}

// The model in `source` changed by f, written by nn to a file.
template <class F>
temp_file changed(const std::string& name, F&& f, const std::string& source = tiny) {
  auto m = fixture(source);
  f(m);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("nn_onnx_test_" + std::to_string(::getpid()) + "_" + name + ".onnx"))
          .string();
  std::ofstream(path, std::ios::binary) << nn::onnx::write_model(m);
  return temp_file{path};
}

// The network's outputs on the two exact inputs are PyTorch's (printed by make_fixtures.py).
template <class Net>
void check_outputs(const Net& net, const std::vector<float>& torch) {
  constexpr std::size_t out = Net::output_shape::size;
  REQUIRE(torch.size() == 2 * out);
  for (int s = 0; s < 2; ++s) {
    const auto x = exact_input(Net::input_shape::size, s);
    const auto y = net.feedforward(std::span<const float>(x));
    for (std::size_t o = 0; o < out; ++o) CHECK(y[o] == Approx(torch[s * out + o]).epsilon(2e-6));
  }
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
    return changed(
        "reshape",
        [&](nn::onnx::model& m) {
          m.main.nodes[0].op_type = "Reshape";
          m.main.nodes[0].attributes.clear();
          m.main.nodes[0].inputs.push_back("target");
          nn::onnx::tensor target;
          target.name = "target";
          target.type = nn::onnx::int64;
          target.dims = {2};
          target.ints = {-1, second};
          m.main.initializers.push_back(target);
        },
        fixtures + "flatten_mlp.onnx");
  };
  net_t again(2);
  nn::load_onnx(again, reshaped(6));
  REQUIRE(again == net);
  const auto e = error_of([&] { nn::load_onnx(again, reshaped(5)); });
  REQUIRE(e.problem() == "node '/0/Flatten' (Reshape): expected Reshape to (batch, 6), found (-1, 5)");
}

TEST_CASE("load_onnx: convolutional networks give PyTorch's outputs", "[onnx]") {
  small_cnn a(1);
  nn::load_onnx(a, fixtures + "small_cnn.onnx");
  check_outputs(a, small_cnn_torch);
  bn_cnn b(1);
  nn::load_onnx(b, fixtures + "bn_cnn.onnx");
  check_outputs(b, bn_cnn_torch);
  // The first convolution has no bias in the file: nn's are 0. Batch norm's four vectors, in order.
  for (std::size_t m = 0; m < 4; ++m) REQUIRE(b.layer_parameters<0>()[bn_cnn::layer_type<0>::bias_offset + m] == 0.0f);
  bn_cnn_fused c(1);
  nn::load_onnx(c, fixtures + "bn_cnn_fused.onnx");
  check_outputs(c, bn_cnn_torch);
  // And in double.
  nn::basic_sequential<double, nn::input<1, 8, 8>, nn::conv2d<3, 3, 3, nn::sigmoid>, nn::max_pool<2>, nn::flatten,
                       nn::dense<4, nn::softmax>>
      d(1);
  nn::load_onnx(d, fixtures + "small_cnn.onnx");
  REQUIRE(d.layer_parameters<0>()[0] == double(a.layer_parameters<0>()[0]));
}

TEST_CASE("load_onnx: a convolution, pooling or batch norm that differs is an error naming the node", "[onnx]") {
  const std::string bn = fixtures + "bn_cnn.onnx";
  auto check = [](auto net, const std::string& path, const std::string& text) {
    const auto before = net;
    const auto e = error_of([&] { nn::load_onnx(net, path); });
    INFO(e.what());
    CHECK(e.problem() == text);
    CHECK(net == before);
  };
  auto attribute = [](nn::onnx::node& n, const std::string& name) -> nn::onnx::attribute& {
    for (auto& a : n.attributes)
      if (a.name == name) return a;
    n.attributes.push_back({});
    n.attributes.back().name = name;
    return n.attributes.back();
  };
  // Types that differ from the file.
  using valid_first =
      nn::sequential<nn::input<2, 6, 6>, nn::conv2d<4, 3, 3>, nn::batch_norm<nn::relu>, nn::avg_pool<2>,
                     nn::conv2d<2, 2, 2, nn::tanh>, nn::flatten, nn::dense<3, nn::identity>, nn::batch_norm<nn::tanh>>;
  check(valid_first(1), bn,
        "node '/0/Conv' (Conv): expected pads (top, left, bottom, right) [0, 0, 0, 0] for layer 1 (conv2d), found "
        "[1, 1, 1, 1]");
  check(bn_cnn_of<nn::relu, nn::avg_pool<2>, 1>(1), bn,
        "node '/4/Conv' (Conv): expected strides [1, 1] for layer 4 (conv2d), found [2, 2]");
  check(bn_cnn_of<nn::relu, nn::max_pool<2>>(1), bn,
        "node '/3/AveragePool' (AveragePool): expected MaxPool for layer 3 (max_pool), found AveragePool");
  check(bn_cnn_of<nn::sigmoid>(1), bn,
        "node '/2/Relu' (Relu): expected Sigmoid for layer 2 (batch_norm)'s activation, found Relu");
  check(bn_cnn_fused(1), bn,
        "node '/1/BatchNormalization' (BatchNormalization): expected Relu for layer 1 (conv2d)'s activation, found "
        "BatchNormalization");
  check(bn_cnn(1), fixtures + "bn_cnn_fused.onnx",
        "node '/2/Relu' (Relu): expected BatchNormalization for layer 2 (batch_norm), found Relu");
  using three = nn::sequential<nn::input<2, 6, 6>, nn::conv2d<4, 3, 3, nn::identity, 1, nn::padding::same>,
                               nn::batch_norm<nn::relu>, nn::avg_pool<3>, nn::flatten, nn::dense<3, nn::identity>>;
  check(three(1), bn,
        "node '/3/AveragePool' (AveragePool): expected kernel_shape [3, 3] for layer 3 (avg_pool), found [2, 2]");
  // Attributes nn does not have.
  check(bn_cnn(1), changed("group", [&](nn::onnx::model& m) { attribute(m.main.nodes[0], "group").i = 2; }, bn),
        "node '/0/Conv' (Conv): expected group 1 (every map reads every channel), found 2");
  check(bn_cnn(1), changed("dilations", [&](nn::onnx::model& m) { attribute(m.main.nodes[6], "dilations").ints = {2, 2}; }, bn),
        "node '/4/Conv' (Conv): expected dilations [1, 1] for layer 4 (conv2d), found [2, 2]");
  check(bn_cnn(1),
        changed("unknown",
                [&](nn::onnx::model& m) {
                  auto& a = attribute(m.main.nodes[6], "future");
                  a.type = nn::onnx::attr_int;
                },
                bn),
        "node '/4/Conv' (Conv): expected no attributes but auto_pad, dilations, group, kernel_shape, pads, strides, "
        "found 'future'");
  check(bn_cnn(1), changed("valid", [&](nn::onnx::model& m) {
          auto& n = m.main.nodes[0];
          std::erase_if(n.attributes, [](const auto& a) { return a.name == "pads"; });
          auto& a = attribute(n, "auto_pad");
          a.type = nn::onnx::attr_string;
          a.s = "VALID";
        }, bn),
        "node '/0/Conv' (Conv): expected pads (top, left, bottom, right) [1, 1, 1, 1] for layer 1 (conv2d), found "
        "[0, 0, 0, 0]");
  check(bn_cnn(1), changed("epsilon", [&](nn::onnx::model& m) { attribute(m.main.nodes[1], "epsilon").f = 1e-3f; }, bn),
        "node '/1/BatchNormalization' (BatchNormalization): expected epsilon 1e-05 (nn's), found 0.001000");
  check(bn_cnn(1),
        changed("training", [&](nn::onnx::model& m) {
          auto& a = attribute(m.main.nodes[10], "training_mode");
          a.type = nn::onnx::attr_int;
          a.i = 1;
        }, bn),
        "node '/8/BatchNormalization' (BatchNormalization): expected training_mode 0 (inference), found 1");
  check(bn_cnn(1), changed("pad", [&](nn::onnx::model& m) { m.main.nodes[3].attributes[0].t[0].ints[3] = 1; }, bn),
        "node '/3/Pad' (Pad): expected a Pad of zeros given as a constant (nn pads only in conv2d), found pads "
        "[0, 0, 0, 1, 0, 0, 0, 0]");
  check(bn_cnn(1), changed("ceil", [&](nn::onnx::model& m) { attribute(m.main.nodes[5], "strides").ints = {1, 1}; }, bn),
        "node '/3/AveragePool' (AveragePool): expected strides [2, 2] for layer 3 (avg_pool), found [1, 1]");
  check(bn_cnn(1),
        changed("variance", [&](nn::onnx::model& m) { m.main.nodes[10].inputs[4] = m.main.nodes[9].outputs[0]; }, bn),
        "node '/8/BatchNormalization' (BatchNormalization): expected the running variance of layer 7 (batch_norm) as "
        "an initializer, found '/7/Gemm_output_0', computed by the graph");

  // SAME_LOWER puts an odd padding's extra row and column first, nn's 'same' (SAME_UPPER) last.
  using strided = nn::sequential<nn::input<1, 8, 8>, nn::conv2d<3, 3, 3, nn::sigmoid, 2, nn::padding::same>,
                                 nn::max_pool<2>, nn::flatten, nn::dense<4, nn::softmax>>;
  auto auto_pad = [&](const char* mode) {
    return changed(mode, [&](nn::onnx::model& m) {
      auto& n = m.main.nodes[0];
      std::erase_if(n.attributes, [](const auto& a) { return a.name == "pads"; });
      attribute(n, "strides").ints = {2, 2};
      auto& a = attribute(n, "auto_pad");
      a.type = nn::onnx::attr_string;
      a.s = mode;
    }, fixtures + "small_cnn.onnx");
  };
  check(strided(1), auto_pad("SAME_LOWER"),
        "node '/0/Conv' (Conv): expected pads (top, left, bottom, right) [0, 0, 1, 1] for layer 1 (conv2d), found "
        "[1, 1, 0, 0]");
  check(strided(1), auto_pad("SAME_UPPER"),  // the convolution matches; the dense layer after it does not
        "node '/4/Gemm' (Gemm): expected the weights of layer 4 (dense) of shape [4, 12], found [4, 27] in '4.weight'");

  // What computes the same loads the same: SAME_UPPER or SAME_LOWER for symmetric padding, ceil_mode
  // when the windows fit, a Constant's value, an Identity of an initializer.
  bn_cnn expected(1);
  nn::load_onnx(expected, bn);
  const auto same = changed("same", [&](nn::onnx::model& m) {
    int k = 0;
    for (auto& n : m.main.nodes)
      if (n.op_type == "Conv") {
        std::erase_if(n.attributes, [](const auto& a) { return a.name == "pads"; });
        auto& a = attribute(n, "auto_pad");
        a.type = nn::onnx::attr_string;
        a.s = k++ ? "SAME_LOWER" : "SAME_UPPER";
      } else if (n.op_type == "AveragePool") {
        attribute(n, "ceil_mode").i = 1;
      }
    // The first batch norm's running mean from an Identity of a Constant.
    auto& n = m.main.nodes[1];
    nn::onnx::node constant, identity;
    constant.op_type = "Constant";
    constant.outputs = {"mean_constant"};
    constant.attributes.resize(1);
    constant.attributes[0].name = "value";
    constant.attributes[0].type = nn::onnx::attr_tensor;
    for (const auto& t : m.main.initializers)
      if (t.name == n.inputs[3]) constant.attributes[0].t = {t};
    identity.op_type = "Identity";
    identity.inputs = {"mean_constant"};
    identity.outputs = {"mean_identity"};
    std::erase_if(m.main.initializers, [&](const auto& t) { return t.name == n.inputs[3]; });
    n.inputs[3] = "mean_identity";
    m.main.nodes.insert(m.main.nodes.begin(), {constant, identity});
    REQUIRE(k == 2);
  }, bn);
  bn_cnn again(2);
  nn::load_onnx(again, same);
  REQUIRE(again == expected);
}

TEST_CASE("save_onnx: what nn writes loads back into the same network", "[onnx]") {
  const auto path = [](const char* name) {
    return temp_file((std::filesystem::temp_directory_path() /
                      ("nn_onnx_test_" + std::to_string(::getpid()) + "_" + name + ".onnx"))
                         .string());
  };
  auto round_trip = [&](const auto& net, const char* name) {
    const auto file = path(name);
    nn::save_onnx(net, file);
    auto again = std::remove_cvref_t<decltype(net)>(99);
    REQUIRE_FALSE(again == net);
    nn::load_onnx(again, file);
    REQUIRE(again == net);
  };
  bn_cnn b(1);
  nn::load_onnx(b, fixtures + "bn_cnn.onnx");
  round_trip(b, "bn");
  round_trip(small_cnn(3), "small");
  round_trip(bn_cnn_fused(4), "fused");
  round_trip(nn::basic_network<nn::policies<float, nn::sigmoid, nn::softmax>, 784, 30, 10>(5), "course");
  // A dense layer straight after an image: nn flattens it, and the file has a Flatten node.
  using unflattened = nn::sequential<nn::input<1, 8, 8>, nn::conv2d<3, 3, 3, nn::relu>, nn::avg_pool<2>,
                                     nn::dense<4, nn::tanh>, nn::dense<2, nn::identity>>;
  round_trip(unflattened(6), "unflattened");
  const auto m = nn::to_onnx(unflattened(6));
  REQUIRE(m.main.nodes.size() == 7);
  CHECK(m.main.nodes[3].op_type == "Flatten");
  CHECK(m.main.nodes[3].name == "layer3/Flatten");
  // The file loads into the type that has the flatten layer too.
  using flattened = nn::sequential<nn::input<1, 8, 8>, nn::conv2d<3, 3, 3, nn::relu>, nn::avg_pool<2>, nn::flatten,
                                   nn::dense<4, nn::tanh>, nn::dense<2, nn::identity>>;
  const auto file = path("flattened");
  nn::save_onnx(unflattened(6), file);
  flattened f(7);
  nn::load_onnx(f, file);
  CHECK(f.layer_parameters<4>()[0] == unflattened(6).layer_parameters<3>()[0]);
}

TEST_CASE("describe_onnx: the nn type of a file, and its values as load_onnx reads them", "[onnx]") {
  const auto d = nn::describe_onnx(fixtures + "bn_cnn.onnx");
  REQUIRE(d.type_text() ==
          "nn::sequential<nn::input<2, 6, 6>, nn::conv2d<4, 3, 3, nn::identity, 1, nn::padding::same>, "
          "nn::batch_norm<nn::relu>, nn::avg_pool<2>, nn::conv2d<2, 3, 3, nn::tanh, 2, nn::padding::same>, nn::flatten, "
          "nn::dense<3, nn::identity>, nn::batch_norm<nn::tanh>>");
  REQUIRE(d.parameter_count() == 205);
  bn_cnn net;
  nn::load_onnx(net, fixtures + "bn_cnn.onnx");
  std::vector<float> all;
  for (const auto& v : d.values) all.insert(all.end(), v.begin(), v.end());
  std::size_t at = 0;
  nn::detail::for_each_parameter(net, [&](float& v) { REQUIRE(v == all[at++]); });
  REQUIRE(at == all.size());
  REQUIRE(nn::describe_onnx(fixtures + "tiny_mlp.onnx").type_text() ==
          "nn::sequential<nn::input<4>, nn::dense<3, nn::sigmoid>, nn::dense<2, nn::softmax>>");
  REQUIRE(nn::describe_onnx(fixtures + "small_cnn.onnx").type_text() ==
          "nn::sequential<nn::input<1, 8, 8>, nn::conv2d<3, 3, 3, nn::sigmoid>, nn::max_pool<2>, nn::flatten, "
          "nn::dense<4, nn::softmax>>");

  // What the file must say when nothing else does.
  auto problem = [](const std::string& path) {
    return error_of([&] { (void)nn::describe_onnx(path); }).problem();
  };
  CHECK(problem(changed("elu", [](nn::onnx::model& m) { m.main.nodes[0].op_type = "Elu"; })) ==
        "node '/0/Gemm' (Elu): expected a node that begins one of nn's layers (Gemm, MatMul, Conv, MaxPool, "
        "AveragePool, BatchNormalization, Flatten or Reshape), found Elu");
  CHECK(problem(changed("named", [](nn::onnx::model& m) { m.main.inputs[0].dims = {-1, -1}; })) ==
        "expected the graph input 'x' of a batch and known sizes from 1 to 2^24 ([N, values] or [N, C, H, W]), found "
        "[N, N]");
  CHECK(problem(changed("rank", [](nn::onnx::model& m) { m.main.initializers[0].dims = {3, 4, 1}; })) ==
        "node '/0/Gemm' (Gemm): expected the weights of layer 1 (dense) of 2 dimensions from 1 to 2^24, found [3, 4, 1] "
        "in '0.weight'");
  CHECK(problem(changed("nan", [](nn::onnx::model& m) { m.main.initializers[0].floats[5] = std::nanf(""); })) ==
        "node '/0/Gemm' (Gemm): expected the weights of layer 1 (dense) of finite values, found nan at index 5 of "
        "'0.weight'");
  CHECK(problem(changed("pads", [](nn::onnx::model& m) { m.main.nodes[0].attributes[3].ints = {1, 0, 1, 0}; },
                        fixtures + "bn_cnn.onnx")) ==
        "node '/0/Conv' (Conv): expected pads (top, left, bottom, right) [0, 0, 0, 0] for layer 1 (conv2d), found "
        "[1, 0, 1, 0]");
  // Sizes the file gives are bounded: a shape of more than 2^31 values, weights shared by many layers.
  CHECK(problem(changed("huge", [](nn::onnx::model& m) { m.main.inputs[0].dims = {-1, 10584714, 460321, 3785993}; })) ==
        "expected the graph input 'x' of at most 2^31 values, found [10584714, 460321, 3785993]");
  CHECK(problem(changed("shared", [](nn::onnx::model& m) {
          m.main.inputs[0].dims = {-1, 512};
          m.main.outputs[0].name = "v10";
          m.main.initializers.resize(2);
          m.main.initializers[0].dims = {512, 512};
          m.main.initializers[0].floats.assign(512 * 512, 0.5f);
          m.main.initializers[1].dims = {512};
          m.main.initializers[1].floats.assign(512, 0.5f);
          m.main.nodes.assign(10, nn::onnx::node(m.main.nodes[0]));
          const auto value = [](int k) { return k ? std::string("v").append(std::to_string(k)) : std::string("x"); };
          for (int k = 0; k < 10; ++k) {
            m.main.nodes[k].inputs = {value(k), m.main.initializers[0].name, m.main.initializers[1].name};
            m.main.nodes[k].outputs = {value(k + 1)};
          }
        })).starts_with("expected layers with weights of their own, found layer 8 bringing them to 2101248 values"));
  // nn's softmax of an image normalises all of its values: ONNX's Softmax(axis 1) before opset 13, never after.
  auto softmax_image = [](std::int64_t opset) {
    return changed("softmax" + std::to_string(opset), [&](nn::onnx::model& m) {
      m.opset = opset;
      m.main.nodes[1].op_type = "Softmax";
      nn::onnx::attribute axis;
      axis.name = "axis";
      axis.type = nn::onnx::attr_int;
      axis.i = 1;
      m.main.nodes[1].attributes = {axis};
    }, fixtures + "small_cnn.onnx");
  };
  CHECK(problem(softmax_image(13)) ==
        "node '/1/Sigmoid' (Softmax): expected a node that begins one of nn's layers (Gemm, MatMul, Conv, MaxPool, "
        "AveragePool, BatchNormalization, Flatten or Reshape), found Softmax");
  CHECK(nn::describe_onnx(softmax_image(11)).type_text() ==
        "nn::sequential<nn::input<1, 8, 8>, nn::conv2d<3, 3, 3, nn::softmax>, nn::max_pool<2>, nn::flatten, "
        "nn::dense<4, nn::softmax>>");
  CHECK(problem(changed("wide_pool", [](nn::onnx::model& m) { m.main.nodes[5].attributes[1].ints = m.main.nodes[5].attributes[3].ints = {7, 7}; },
                        fixtures + "bn_cnn.onnx")) ==
        "node '/3/AveragePool' (AveragePool): expected a window that fits the image for layer 3 (avg_pool), found 7 on 6 "
        "× 6");
}

TEST_CASE("load_onnx: other spellings of the same layers, and nodes with inputs or outputs nn does not have", "[onnx]") {
  mlp expected(1);
  nn::load_onnx(expected, tiny);
  // Gemm's bias as a row (1, out), as some exporters write it.
  mlp a(2);
  nn::load_onnx(a, changed("row_bias", [](nn::onnx::model& m) {
    for (auto& t : m.main.initializers)
      if (t.dims.size() == 1) t.dims = {1, t.dims[0]};
  }));
  REQUIRE(a == expected);
  // MatMul with no Add after it: a layer without biases (PyTorch's Linear(bias=False)).
  mlp b(3);
  nn::load_onnx(b, changed("no_bias", [](nn::onnx::model& m) {
    auto& n = m.main.nodes[0];
    n.op_type = "MatMul";
    n.attributes.clear();
    for (auto& t : m.main.initializers)
      if (t.name == n.inputs[1]) {  // MatMul's weights are (in, out)
        std::vector<float> w(t.floats.size());
        for (std::size_t j = 0; j < 3; ++j)
          for (std::size_t k = 0; k < 4; ++k) w[k * 3 + j] = t.floats[j * 4 + k];
        t.floats = w;
        t.dims = {4, 3};
      }
    n.inputs.resize(2);
  }));
  for (std::size_t j = 0; j < 3; ++j) {
    CHECK(b.layer_parameters<0>()[mlp::layer_type<0>::bias_offset + j] == 0.0f);
    for (std::size_t k = 0; k < 4; ++k)
      CHECK(b.layer_parameters<0>()[k * mlp::layer_type<0>::stride + j] ==
            expected.layer_parameters<0>()[k * mlp::layer_type<0>::stride + j]);
  }
  // Flatten's axis 1 of (batch, 1, 2, 3) written as −3.
  using flat = nn::sequential<nn::input<1, 2, 3>, nn::flatten, nn::dense<3, nn::relu>, nn::dense<2, nn::identity>>;
  flat f(1), g(2);
  nn::load_onnx(f, fixtures + "flatten_mlp.onnx");
  nn::load_onnx(g, changed("axis", [](nn::onnx::model& m) { m.main.nodes[0].attributes[0].i = -3; },
                           fixtures + "flatten_mlp.onnx"));
  REQUIRE(f == g);
  CHECK(error_of([&] {
          nn::load_onnx(g, changed("axis2", [](nn::onnx::model& m) { m.main.nodes[0].attributes[0].i = -2; },
                                   fixtures + "flatten_mlp.onnx"));
        }).problem() == "node '/0/Flatten' (Flatten): expected Flatten with axis 1 (or -3), found axis -2");

  auto problem = [](auto net, const std::string& path) { return error_of([&] { nn::load_onnx(net, path); }).problem(); };
  CHECK(problem(mlp(1), changed("relu2", [](nn::onnx::model& m) { m.main.nodes[1].inputs.push_back("0.bias"); })) ==
        "node '/1/Sigmoid' (Sigmoid): expected 1 inputs, found 2");
  CHECK(problem(mlp(1), changed("gemm4", [](nn::onnx::model& m) { m.main.nodes[0].inputs.push_back("0.bias"); })) ==
        "node '/0/Gemm' (Gemm): expected 2 to 3 inputs, found 4");
  CHECK(problem(small_cnn(1), changed("indices", [](nn::onnx::model& m) { m.main.nodes[2].outputs.push_back("where"); },
                                      fixtures + "small_cnn.onnx")) ==
        "node '/2/MaxPool' (MaxPool): expected one output, found 2");
  // Dropout passes only for inference: its training_mode, when given, a constant false.
  auto dropout = [&](bool training) {
    return changed(training ? "train" : "infer", [&](nn::onnx::model& m) {
      nn::onnx::node drop;
      drop.op_type = "Dropout";
      drop.name = "drop";
      drop.inputs = {m.main.nodes[1].outputs[0], "", "mode"};
      drop.outputs = {"dropped"};
      m.main.nodes[2].inputs[0] = "dropped";
      m.main.nodes.insert(m.main.nodes.begin() + 2, drop);
      nn::onnx::tensor mode;
      mode.name = "mode";
      mode.type = nn::onnx::boolean;
      mode.ints = {training ? 1 : 0};
      m.main.initializers.push_back(mode);
    });
  };
  mlp c(4);
  nn::load_onnx(c, dropout(false));
  REQUIRE(c == expected);
  CHECK(problem(mlp(1), dropout(true)) ==
        "node 'drop' (Dropout): expected Dropout for inference (training_mode a constant false), found training_mode "
        "'mode'");
}
