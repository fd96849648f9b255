// The nn::data_error that f throws; the test fails if it throws none.
#pragma once

#include <nn/data/error.hpp>

#include "catch.hpp"

template <class F>
nn::data_error error_of(F&& f) {
  try {
    f();
  } catch (const nn::data_error& e) {
    return e;
  }
  FAIL("expected nn::data_error");
  return nn::data_error("", 0, "");
}
