// The hostile files of issue 13, made here and read by the loader they attack, with the time the read
// took and the process's peak memory: the figures of docs/untrusted-files.md (scripts/hostile-files.sh
// runs every case, each in a process of its own so that its peak is its own).
//   hostile_files CASE [DIR]   CASE: one of the names --list prints; DIR for the files (default /tmp)
#include <nn/data/csv.hpp>
#include <nn/data/idx.hpp>
#include <nn/io.hpp>
#include <nn/network.hpp>
#include <nn/onnx.hpp>

#include <sys/resource.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

// `total` bytes of `pattern` repeated, between `head` and `tail`, written in 1 MiB pieces.
std::string make(const std::string& path, const std::string& head, const std::string& pattern, std::size_t total,
                 const std::string& tail) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << head;
  std::string chunk;
  while (chunk.size() < (std::size_t{1} << 20)) chunk += pattern;
  for (std::size_t done = 0; done < total; done += chunk.size())
    f.write(chunk.data(), static_cast<std::streamsize>(std::min(chunk.size(), total - done)));
  f << tail;
  return path;
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// A label file whose header promises 7,840 labels, followed by 4 GiB of zeros, gzipped (made once).
std::string gzip_bomb(const std::string& dir) {
  const std::string path = dir + "/nn_hostile_bomb.gz";
  if (std::ifstream(path).good()) return path;
  gzFile g = gzopen(path.c_str(), "wb9");
  const std::string head = be32(2049) + be32(7840);
  gzwrite(g, head.data(), static_cast<unsigned>(head.size()));
  const std::vector<char> zeros(std::size_t{1} << 20);
  for (int i = 0; i < 4096; ++i) gzwrite(g, zeros.data(), static_cast<unsigned>(zeros.size()));
  gzclose(g);
  return path;
}

// A good 784-30-10 network file, made `total` bytes long (sparse) after changing its first layer's value
// count to `count` (0: unchanged).
std::string params_file(const std::string& path, std::uint64_t count, std::uint64_t total) {
  nn::save_parameters(nn::network<784, 30, 10>(1), path);
  if (count) {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(8 + 4 + 4 + 4 + 4 + 4 + 4 + 5 + 4 + 4 + 4 + 7);  // header, input shape, "dense", <30>, "sigmoid"
    for (int i = 0; i < 8; ++i) f.put(static_cast<char>(count >> (8 * i)));
  }
  std::filesystem::resize_file(path, total);
  return path;
}

// An ONNX file of a 512-512 dense layer's weights that `layers` Gemm nodes all name, after `identities`
// Identity nodes: a small file that describes a huge network, or a long chain of nothing.
std::string onnx_file(const std::string& path, int layers, int identities, std::int64_t rows = 512) {
  nn::onnx::model m;
  m.ir_version = 7;
  m.opset = 13;
  m.has_graph = true;
  auto& g = m.main;
  g.inputs = {{"v0", nn::onnx::float32, {-1, 512}, 0}};
  nn::onnx::tensor w, b;
  w.name = "w";
  w.type = b.type = nn::onnx::float32;
  w.dims = {rows, 512};
  if (rows == 512) w.floats.assign(512 * 512, 0.5f);  // else: dims that promise more than the file holds
  b.name = "b";
  b.dims = {512};
  b.floats.assign(512, 0.5f);
  g.initializers = {w, b};
  int v = 0;
  const auto next = [&](const char* op, std::vector<std::string> more) {
    nn::onnx::node n;
    n.op_type = op;
    n.name = op + std::to_string(v);
    n.inputs = {"v" + std::to_string(v)};
    n.inputs.insert(n.inputs.end(), more.begin(), more.end());
    n.outputs = {"v" + std::to_string(++v)};
    g.nodes.push_back(n);
  };
  for (int i = 0; i < identities; ++i) next("Identity", {});
  for (int i = 0; i < layers; ++i) next("Gemm", {"w", "b"});
  g.outputs = {{"v" + std::to_string(v), nn::onnx::float32, {-1, 512}, 0}};
  std::ofstream(path, std::ios::binary) << nn::onnx::write_model(m);
  return path;
}

struct hostile_case {
  std::function<std::string()> make;             // the file (not timed)
  std::function<void(const std::string&)> read;  // what reads it (timed)
};

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 2 ? argv[2] : "/tmp";
  const auto device = [](const char* p) { return [p] { return std::string(p); }; };
  const auto load = [](const std::string& p) {
    nn::network<784, 30, 10> net;
    nn::load_parameters(net, p);
  };
  const std::uint64_t gib = std::uint64_t{1} << 30;
  const auto load_onnx = [](const std::string& p) {
    nn::sequential<nn::input<512>, nn::dense<512, nn::identity>> net;
    nn::load_onnx(net, p);
  };
  const auto describe = [](const std::string& p) { (void)nn::describe_onnx(p); };
  const std::map<std::string, hostile_case> cases = {
      {"csv-dev-zero", {device("/dev/zero"), [](const std::string& p) { (void)nn::read_csv(p); }}},
      {"csv-stream-dev-zero", {device("/dev/zero"), [](const std::string& p) { nn::csv_stream<float> s(p, {"x"}, {"y"}); }}},
      {"csv-header-of-10M-commas", {[&] { return make(dir + "/nn_hostile_commas.csv", "", ",", 10'000'000, "\n1\n"); },
                                    [](const std::string& p) { (void)nn::read_csv(p); }}},
      {"csv-100MB-row-of-50M-fields", {[&] { return make(dir + "/nn_hostile_row.csv", "x,y\n", "1,", 100'000'000, "\n"); },
                                       [](const std::string& p) { (void)nn::read_csv(p); }}},
      {"csv-100MB-cell", {[&] { return make(dir + "/nn_hostile_cell.csv", "x\n", "1", 100'000'000, "\n"); },
                          [](const std::string& p) { (void)nn::read_csv(p); }}},
      {"idx-dev-zero", {device("/dev/zero"), [](const std::string& p) { (void)nn::read_idx(p); }}},
      {"idx-gzip-bomb-4GiB", {[&] { return gzip_bomb(dir); }, [](const std::string& p) { (void)nn::read_idx(p); }}},
      {"onnx-dev-zero", {device("/dev/zero"), load_onnx}},
      {"onnx-describe-dev-zero", {device("/dev/zero"), describe}},
      {"onnx-describe-4000-layers-sharing-1MB", {[&] { return onnx_file(dir + "/nn_hostile.onnx", 4000, 0); }, describe}},
      {"onnx-describe-99000-identities-then-a-layer", {[&] { return onnx_file(dir + "/nn_hostile.onnx", 1, 99'000); }, describe}},
      {"onnx-describe-weights-promising-2^48-values",
       {[&] { return onnx_file(dir + "/nn_hostile.onnx", 1, 0, std::int64_t{1} << 39); }, describe}},
      {"params-dev-zero", {device("/dev/zero"), load}},
      {"params-1GiB-of-zeros-after-magic",
       {[&] { return make(dir + "/nn_hostile_params", "nnparams", std::string(1, '\0'), gib, ""); }, load}},
      {"params-good-file-then-1GiB", {[&] { return params_file(dir + "/nn_hostile_params", 0, gib); }, load}},
      {"params-promise-of-4TiB-in-1GiB",
       {[&] { return params_file(dir + "/nn_hostile_params", std::uint64_t{1} << 40, gib); }, load}},
      {"params-sizes-promise-of-4TiB-in-1GiB",
       {[&] { return params_file(dir + "/nn_hostile_params", std::uint64_t{1} << 40, gib); },
        [](const std::string& p) { (void)nn::read_parameter_sizes(p); }}},
  };
  if (argc < 2 || std::strcmp(argv[1], "--list") == 0 || !cases.count(argv[1])) {
    for (const auto& [name, c] : cases) std::printf("%s\n", name.c_str());
    return argc < 2 || std::strcmp(argv[1], "--list") != 0 ? 2 : 0;
  }
  const hostile_case& c = cases.at(argv[1]);
  const std::string path = c.make();
  std::string result = "no error";
  const auto start = std::chrono::steady_clock::now();
  try {
    c.read(path);
  } catch (const nn::data_error& e) {
    result = e.what();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  // The peak of the whole process, making the file included (at most a 1 MiB piece).
  std::printf("%s | %.2f s | %.1f MB | %s\n", argv[1], seconds, static_cast<double>(u.ru_maxrss) / 1024, result.c_str());
  return 0;
}
