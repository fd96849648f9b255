// The command-line handling that the examples share: a loop over "--flag value" arguments, --help, and
// usage errors that name the program, say what was wrong, print the usage and exit with status 2 (each
// example keeps its own options and usage text); and join, for lists in their output.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace example {

class command_line {
 public:
  using usage_text = void (*)(std::FILE*);

  command_line(const char* program, usage_text usage, int argc, char** argv)
      : program_(program), usage_(usage), argc_(argc), argv_(argv) {}

  // Moves to the next argument; false when there are none left. --help (or -h) prints the usage and exits.
  bool next() {
    if (++i_ >= argc_) return false;
    flag_ = argv_[i_];
    if (flag_ == "--help" || flag_ == "-h") {
      usage_(stdout);
      std::exit(0);
    }
    return true;
  }
  const std::string& flag() const noexcept { return flag_; }

  // The argument after the flag.
  std::string value() {
    if (i_ + 1 >= argc_) fail(flag_ + " needs a value");
    return argv_[++i_];
  }
  std::size_t whole_number() { return whole_number(value()); }
  // A whole number given as part of the flag's value (e.g. one item of a comma-separated list).
  std::size_t whole_number(const std::string& v) const {
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    // strtoull skips spaces and takes "-1" as a huge number; neither is a whole number here.
    if (v.empty() || *end || v[0] < '0' || v[0] > '9' || errno == ERANGE)
      fail(flag_ + " expects a whole number, got '" + v + "'");
    return static_cast<std::size_t>(n);
  }
  double positive_number() { return real([](double x) { return x > 0; }, "a positive number"); }
  double number() { return real([](double x) { return x >= 0 && x < 1e300; }, "a number of at least 0"); }
  double fraction() { return real([](double x) { return x >= 0 && x < 1; }, "a number in [0, 1)"); }

  // The next value as a real number that `ok` accepts; else a usage error that says what was expected.
  template <class Ok>
  double real(Ok ok, const char* expected) {
    const std::string v = value();
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end || !ok(x)) fail(flag_ + " expects " + expected + ", got '" + v + "'");
    return x;
  }

  // "program: message", the usage, exit status 2.
  [[noreturn]] void fail(const std::string& message) const {
    std::fprintf(stderr, "%s: %s\n\n", program_, message.c_str());
    usage_(stderr);
    std::exit(2);
  }

 private:
  const char* program_;
  usage_text usage_;
  int argc_;
  char** argv_;
  int i_ = 0;
  std::string flag_;
};

// The numbers of a range with a separator between them: join(dims, " x ") is "28 x 28".
template <class Range>
std::string join(const Range& numbers, const std::string& separator) {
  std::string s;
  for (const auto& n : numbers) s += (s.empty() ? "" : separator) + std::to_string(n);
  return s;
}

}  // namespace example
