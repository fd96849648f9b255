// libFuzzer target: any bytes as an IDX file, read by read_idx, load_idx and load_idx_bytes and held
// against the reference reader (idx_reference.hpp). Bytes that start 1f 8b are a gzip file to both.
#include "idx_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::check_idx_file(std::string_view(reinterpret_cast<const char*>(data), size), "idx");
  return 0;
}
