// How much reading a file may cost, at most: nn reads files from anywhere, so every loader stops at a
// bound, with an nn::data_error that names it, instead of reading on until memory runs out. Each bound
// has a default that fits every honest file of its kind; raise one to read a bigger file
// (docs/untrusted-files.md lists them).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nn {

struct read_limits {
  // Network files (nn::load_parameters, nn::read_parameter_sizes): at most this many bytes. 0, the
  // default: four times the size of a file of the model being loaded, plus 1 MiB (enough to read a
  // somewhat bigger network's file and name the first layer that differs), or 1 GiB when there is no
  // model (read_parameter_sizes).
  std::uint64_t parameter_file_bytes = 0;
  // CSV (nn::read_csv, nn::csv_reader, nn::csv_stream): at most this many fields in a record, bytes in
  // a field, and bytes in a record (its line ends included). The buffer grows only to hold one record,
  // so these bound a reader's memory whatever the file holds (/dev/zero, a header of 10 million commas).
  std::size_t csv_columns = 100'000;
  std::size_t csv_field_bytes = std::size_t{1} << 20;
  std::size_t csv_record_bytes = std::size_t{16} << 20;
  // A FIFO (named pipe): how long to wait for a writer to connect and send its first bytes.
  double fifo_writer_seconds = 10;
};

}  // namespace nn
