// nn-onnx: what an ONNX file holds, as nn's types, and a header that compiles the model into a program.
//   nn-onnx describe MODEL.onnx                         the nn type that holds the model, and its layers
//   nn-onnx header MODEL.onnx --namespace NAME [--output FILE]
//                                                       a header defining NAME::network (the type) and
//                                                       NAME::load() (the network with the model's weights,
//                                                       compiled in: no file, no heap at run time)
// Every node is read and checked as nn::load_onnx does (nn/onnx.hpp); an error names the file, the node
// and what nn expected, and the exit status is 1 (2 for a usage error).
#include <nn/onnx.hpp>

#include <cctype>
#include <cmath>
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

const char* const program = "nn-onnx";

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: nn-onnx describe MODEL.onnx\n"
               "       nn-onnx header MODEL.onnx --namespace NAME [--output FILE]\n"
               "describe prints the nn type that holds the model and its layers; header writes (to FILE or the\n"
               "standard output) a C++ header defining NAME::network and NAME::load(), the weights compiled in.\n");
}

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n\n", program, message.c_str());
  usage(stderr);
  std::exit(2);
}

// "23,860"
std::string grouped(std::size_t n) {
  const std::string digits = std::to_string(n);
  std::string s;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

std::string dims_text(const std::vector<std::size_t>& d) {
  std::string s;
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? " x " : "") + std::to_string(d[i]);
  return s;
}

void describe(const std::string& path, const nn::onnx_layers& m) {
  std::printf("%s: %zu layer%s, %s parameters, as the nn type\n  %s\n\n", path.c_str(), m.layers.size(), m.layers.size() == 1 ? "" : "s",
              grouped(m.parameter_count()).c_str(), m.type_text().c_str());
  std::size_t width = 4;
  for (const auto& l : m.layers) width = std::max(width, l.type_text().size());
  std::printf("  %-5s  %-*s  %-12s  %-12s  %12s\n", "layer", static_cast<int>(width), "type", "input", "output",
              "parameters");
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const auto& l = m.layers[i];
    std::printf("  %-5zu  %-*s  %-12s  %-12s  %12s\n", i + 1, static_cast<int>(width), l.type_text().c_str(),
                dims_text(l.in).c_str(), dims_text(l.out()).c_str(), grouped(m.values[i].size()).c_str());
  }
}

// A C++ name, or names joined by "::", that is no keyword and does not open nn's or std's namespace.
bool is_namespace(const std::string& name) {
  static const char* const keywords[] = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch", "char",
      "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "const", "consteval", "constexpr", "constinit",
      "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype", "default", "delete", "do", "double",
      "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if",
      "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or",
      "or_eq", "private", "protected", "public", "register", "reinterpret_cast", "requires", "return", "short",
      "signed", "sizeof", "static", "static_assert", "static_cast", "struct", "switch", "template", "this",
      "thread_local", "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual",
      "void", "volatile", "wchar_t", "while", "xor", "xor_eq"};
  std::size_t i = 0;
  for (bool first = true;; first = false) {
    const std::size_t start = i;
    if (i >= name.size() || !(std::isalpha(static_cast<unsigned char>(name[i])) || name[i] == '_')) return false;
    while (i < name.size() && (std::isalnum(static_cast<unsigned char>(name[i])) || name[i] == '_')) ++i;
    const std::string part = name.substr(start, i - start);
    if (std::ranges::find(keywords, part) != std::end(keywords)) return false;
    if (first && (part == "nn" || part == "std")) return false;
    if (i == name.size()) return true;
    if (name.compare(i, 2, "::") != 0) return false;
    i += 2;
  }
}

// A path for a // comment: printable, on one line.
std::string printable(const std::string& s) {
  std::string out;
  for (const char ch : s) out += static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f ? ch : '?';
  return out;
}

void header(std::ostream& out, const std::string& path, const std::string& name, const nn::onnx_layers& m) {
  const std::size_t n = m.parameter_count();
  const std::string file = printable(path);
  out << "// Generated by nn-onnx from " << file << " (" << grouped(n) << " parameters); do not edit. Made by\n"
      << "//   nn-onnx header " << file << " --namespace " << name << "\n"
      << "// Use: " << name << "::load().feedforward(x) for one sample (no heap, no exception); "
      << name << "::load().network()\n// for an nn::sequential of its own to train further or to save.\n"
      << "#pragma once\n\n#include <nn/network.hpp>\n\nnamespace " << name << " {\n\n";
  std::string type = m.type_text();  // nn:: names, written ::nn:: so that no namespace of the user's hides them
  for (std::size_t at = 0; (at = type.find("nn::", at)) != std::string::npos; at += 6) type.replace(at, 4, "::nn::");
  out << "using network = " << type << ";\n\n";
  if (n == 0) {
    out << "// (The network has no parameters.)\ninline constexpr ::nn::parameter_array<network> parameters{};\n\n";
  } else {
    out << "// The parameters in file order (layer by layer; nn::dense: w[j][k], then b[j]), exact.\n"
        << "inline constexpr float parameter_values[" << n << "] = {";
    std::size_t column = 0;
    char text[32];
    for (const auto& layer : m.values)
      for (const float v : layer) {
        std::snprintf(text, sizeof text, "%af,", static_cast<double>(v));
        if (column % 8 == 0) out << "\n   ";
        out << ' ' << text;
        ++column;
      }
    out << "\n};\n\n"
        << "// As network keeps them (laid out by the compiler for the machine it builds for), in static storage.\n"
        << "inline constexpr ::nn::parameter_array<network> parameters =\n"
        << "    ::nn::parameter_storage_of<network>(parameter_values);\n\n";
  }
  out << "// The network with the model's weights.\n"
      << "constexpr ::nn::network_view<network> load() noexcept { return ::nn::network_view<network>(parameters); }\n\n"
      << "}  // namespace " << name << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (!a.empty() && (a[0] == "--help" || a[0] == "-h")) {
    usage(stdout);
    return 0;
  }
  if (a.size() < 2 || (a[0] != "describe" && a[0] != "header")) usage_error("expected a command (describe or header) and a file");
  std::string name, output;
  for (std::size_t i = 2; i < a.size(); ++i) {
    if (a[0] == "header" && (a[i] == "--namespace" || a[i] == "--output") && i + 1 < a.size()) {
      (a[i] == "--namespace" ? name : output) = a[i + 1];
      ++i;
    } else {
      usage_error("unexpected argument '" + a[i] + "'");
    }
  }
  if (a[0] == "header" && !is_namespace(name))
    usage_error(name.empty() ? "header needs --namespace NAME"
                             : "'" + name + "' is not a namespace name for the header (C++ names joined by ::, no "
                                            "keyword, not in nn or std)");
  try {
    const nn::onnx_layers m = nn::describe_onnx(a[1]);
    if (a[0] == "describe") {
      describe(a[1], m);
    } else if (output.empty()) {
      header(std::cout, a[1], name, m);
    } else {
      std::ostringstream text;
      header(text, a[1], name, m);
      const std::string s = text.str();
      nn::detail::write_atomically(output, std::vector<std::uint8_t>(s.begin(), s.end()));
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  }
}
