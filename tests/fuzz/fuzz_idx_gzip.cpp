// libFuzzer target: IDX files gzipped. The first byte chooses:
//   bit 0 clear: the rest is an IDX file's content, which the target gzips (as two members when bit 1 is
//                set, cut at the second byte's share of it; with bytes appended after the last member when
//                bit 2 is set, which must make it an error), so the fuzzer explores the content while
//                every file is a well-formed .gz;
//   bit 0 set:   the rest is the .gz file itself, with a gzip header put in front when it lacks one, so
//                the fuzzer explores broken compressed streams.
// Either way nn's loaders are held against the reference (idx_check.hpp).
#include "idx_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::uint8_t mode = fuzz::take(in);
  if (mode & 1) {
    std::string file(in);
    if (file.size() < 2 || file[0] != '\x1f' || file[1] != '\x8b') file = std::string("\x1f\x8b", 2) + file;
    fuzz::check_idx_file(file, "idx.gz");
    return 0;
  }
  const std::uint8_t cut = fuzz::take(in);
  const std::size_t split = (mode & 2) ? in.size() * cut / 256 : std::string_view::npos;
  std::string gz = fuzz::gzip(in, split);
  if (mode & 4) gz += "appended text\n";
  fuzz::check_idx_file(gz, "idx.gz");
  if (mode & 4) {
    // Whatever the content, the appended text is an error to nn (the reference says so too).
    const auto r = fuzz::run([&] { return nn::read_idx(fuzz::file("idx.gz", gz)); });
    fuzz::check(!r.ok(), "bytes after the last gzip member were accepted");
  }
  return 0;
}
