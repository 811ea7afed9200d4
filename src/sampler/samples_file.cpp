// samples.bin: header encoding, streaming reader, CSV conversion. Format in
// include/cgprof/sampler.hpp and docs/formats/samples-bin.md.
#include "samples_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstring>

#include "cgprof/error.hpp"
#include "cgprof/sampler.hpp"
#include "cgprof/sys.hpp"

namespace cgprof {
namespace {

constexpr size_t kFixedHeader = 56;

void put32(std::string& b, size_t off, uint32_t v) {
  std::memcpy(&b[off], &v, 4);
}
void put64(std::string& b, size_t off, uint64_t v) {
  std::memcpy(&b[off], &v, 8);
}
uint32_t get32(const char* b) {
  uint32_t v;
  std::memcpy(&v, b, 4);
  return v;
}
uint64_t get64(const char* b) {
  uint64_t v;
  std::memcpy(&v, b, 8);
  return v;
}

}  // namespace

namespace detail {

std::string encode_samples_header(unsigned groups, double rate_hz, uint64_t mono_ns,
                                  uint64_t real_ns) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "samples.bin is little-endian");
  const std::vector<unsigned> fields = sample_fields_for(groups);
  std::string names;
  for (unsigned i : fields) {
    if (!names.empty()) names += ',';
    names += kSampleFieldNames[i];
  }
  size_t size = kFixedHeader + names.size() + 1;
  size = (size + 7) / 8 * 8;
  std::string b(size, '\0');
  std::memcpy(&b[0], kSamplesMagic, 8);
  put32(b, 8, kSamplesVersion);
  put32(b, 12, static_cast<uint32_t>(size));
  put32(b, 16, static_cast<uint32_t>(fields.size() * sizeof(uint64_t)));
  put32(b, 20, static_cast<uint32_t>(fields.size()));
  put32(b, 24, groups);
  put32(b, 28, 0);
  uint64_t rate_bits;
  std::memcpy(&rate_bits, &rate_hz, 8);
  put64(b, 32, rate_bits);
  put64(b, 40, mono_ns);
  put64(b, 48, real_ns);
  std::memcpy(&b[kFixedHeader], names.data(), names.size());
  return b;
}

}  // namespace detail

void SamplesReader::FileCloser::operator()(std::FILE* f) const {
  std::fclose(f);
}

SamplesReader::SamplesReader(int dirfd, const std::string& path, bool nofollow) : path_(path) {
  // A FIFO or a device named as samples.bin is refused rather than read forever.
  int fd = open_regular_file_at(dirfd, path, nofollow).release();
  file_.reset(::fdopen(fd, "rb"));
  if (!file_) {
    int err = errno;
    ::close(fd);
    throw Error::from_errno("fdopen", path, err);
  }
  char fixed[kFixedHeader];
  if (std::fread(fixed, 1, kFixedHeader, file_.get()) != kFixedHeader) {
    throw Error(path + ": not a cgprof samples file (shorter than its header)");
  }
  if (std::memcmp(fixed, kSamplesMagic, 8) != 0) {
    throw Error(path + ": not a cgprof samples file (bad magic; expected CGPSMPL1)");
  }
  header_.version = get32(fixed + 8);
  header_.header_size = get32(fixed + 12);
  header_.record_size = get32(fixed + 16);
  header_.field_count = get32(fixed + 20);
  header_.groups = get32(fixed + 24);
  uint64_t rate_bits = get64(fixed + 32);
  std::memcpy(&header_.rate_hz, &rate_bits, 8);
  header_.start_monotonic_ns = get64(fixed + 40);
  header_.start_realtime_ns = get64(fixed + 48);
  if (header_.version != 1 && header_.version != kSamplesVersion) {
    throw Error(path + ": samples format version " + std::to_string(header_.version) +
                " is not supported by this cgprof (reads versions 1 and " +
                std::to_string(kSamplesVersion) + "); use the cgprof that wrote it");
  }
  if (header_.header_size < kFixedHeader || header_.header_size > (1u << 20) ||
      header_.field_count == 0 || header_.field_count > kSampleFieldCount ||
      header_.record_size != header_.field_count * 8) {
    throw Error(path + ": corrupt samples header (header size " +
                std::to_string(header_.header_size) + ", record size " +
                std::to_string(header_.record_size) + ", " + std::to_string(header_.field_count) +
                " fields)");
  }
  std::string names(header_.header_size - kFixedHeader, '\0');
  if (std::fread(names.data(), 1, names.size(), file_.get()) != names.size()) {
    throw Error(path + ": truncated samples header");
  }
  names.resize(std::strlen(names.c_str()));
  size_t pos = 0;
  while (pos <= names.size() && !names.empty()) {
    size_t comma = names.find(',', pos);
    if (comma == std::string::npos) comma = names.size();
    header_.field_names.push_back(names.substr(pos, comma - pos));
    pos = comma + 1;
  }
  if (header_.field_names.size() != header_.field_count) {
    throw Error(path + ": corrupt samples header (" + std::to_string(header_.field_count) +
                " fields but " + std::to_string(header_.field_names.size()) + " names)");
  }
  // Fields are located by name, so any subset in any order reads into a Sample.
  for (const std::string& name : header_.field_names) {
    unsigned i = 0;
    while (i < kSampleFieldCount && name != kSampleFieldNames[i]) ++i;
    if (i == kSampleFieldCount) {
      throw Error(path + ": sample field \"" + name +
                  "\" is unknown to this cgprof; use the cgprof that wrote it");
    }
    header_.field_index.push_back(i);
  }
  record_.resize(header_.field_count);
}

bool SamplesReader::next(Sample* out) {
  if (std::fread(record_.data(), header_.record_size, 1, file_.get()) != 1) return false;
  *out = Sample{};
  uint64_t* fields = reinterpret_cast<uint64_t*>(out);
  for (size_t k = 0; k < record_.size(); ++k) fields[header_.field_index[k]] = record_[k];
  return true;
}

std::vector<Sample> read_samples(int dirfd, const std::string& path) {
  SamplesReader reader(dirfd, path);
  std::vector<Sample> out;
  Sample s;
  while (reader.next(&s)) out.push_back(s);
  return out;
}

SampleSummary summarize_samples(int dirfd, const std::string& path) {
  SamplesReader reader(dirfd, path);
  SampleSummarizer summarizer;
  Sample s;
  while (reader.next(&s)) summarizer.add(s);
  return summarizer.summary();
}

void write_samples_csv(int dirfd, const std::string& samples_path, std::FILE* out) {
  SamplesReader reader(dirfd, samples_path);
  const SamplesHeader& h = reader.header();
  std::fputs("t_s", out);
  for (const std::string& name : h.field_names) {
    std::fputc(',', out);
    std::fputs(name.c_str(), out);
  }
  std::fputc('\n', out);
  const uint64_t origin = h.start_monotonic_ns;
  Sample s;
  char line[64 * (kSampleFieldCount + 1)];
  while (reader.next(&s)) {
    uint64_t rel = s.t_ns >= origin ? s.t_ns - origin : 0;
    int n = std::snprintf(line, sizeof line, "%" PRIu64 ".%06" PRIu64, rel / 1000000000,
                          (rel % 1000000000) / 1000);
    const uint64_t* f = reinterpret_cast<const uint64_t*>(&s);
    for (unsigned i : h.field_index) {
      n += std::snprintf(line + n, sizeof line - n, ",%" PRIu64, f[i]);
    }
    line[n++] = '\n';
    std::fwrite(line, 1, static_cast<size_t>(n), out);
  }
  if (std::ferror(out)) throw Error("writing samples CSV: " + std::string(std::strerror(errno)));
}

void write_samples_csv_file(int dirfd, const std::string& samples_path,
                            const std::string& csv_path) {
  int fd = ::openat(dirfd, csv_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("open", csv_path);
  std::FILE* f = ::fdopen(fd, "w");
  if (f == nullptr) {
    int err = errno;
    ::close(fd);
    throw Error::from_errno("fdopen", csv_path, err);
  }
  try {
    write_samples_csv(dirfd, samples_path, f);
  } catch (...) {
    std::fclose(f);
    throw;
  }
  if (std::fclose(f) != 0) throw_errno("write", csv_path);
}

}  // namespace cgprof
