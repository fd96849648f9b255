// Includes Catch2 v2 or v3, whichever CMake found (NN_CATCH_MAJOR). Both may be installed at once,
// so the choice comes from the build, not from __has_include.
#pragma once

#if NN_CATCH_MAJOR == 3
#include <catch2/catch_approx.hpp>
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
using Catch::Approx;
#else
#include <catch2/catch.hpp>
#endif

#include <string>

// A matcher for "the message contains this text", under its name in either version.
inline auto contains_text(const std::string& s) {
#if NN_CATCH_MAJOR == 3
  return Catch::Matchers::ContainsSubstring(s);
#else
  return Catch::Matchers::Contains(s);
#endif
}
