// How much reading a file may cost, at most: nn reads files from anywhere, so every loader stops at a
// bound, with an nn::data_error that names it, instead of reading on until memory runs out. Each bound
// has a default that fits every honest file of its kind; raise one to read a bigger file
// (docs/untrusted-files.md lists them).
#pragma once

#include <cstdint>

namespace nn {

struct read_limits {
  // Network files (nn::load_parameters, nn::read_parameter_sizes): at most this many bytes. 0, the
  // default: four times the size of a file of the model being loaded, plus 1 MiB (enough to read a
  // somewhat bigger network's file and name the first layer that differs), or 1 GiB when there is no
  // model (read_parameter_sizes).
  std::uint64_t parameter_file_bytes = 0;
  // A FIFO (named pipe): how long to wait for a writer to connect and send its first bytes.
  double fifo_writer_seconds = 10;
};

}  // namespace nn
