// The result directory of a run: --output (created; refused if it holds a run already), or a new
// ./cgprof-results/<UTC time>-<device>-<command>[-N].
#include <sys/stat.h>
#include <time.h>

#include <cerrno>
#include <ctime>

#include "cgprof/error.hpp"
#include "cgprof/sampler.hpp"  // make_directories
#include "profiled_run.hpp"

namespace cgprof::run {
namespace {

std::string sanitized(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  if (out.size() > 40) out.resize(40);
  return out.empty() ? "run" : out;
}

}  // namespace

std::string make_output_dir(const std::string& output, const std::string& device,
                            const std::vector<std::string>& argv) {
  if (!output.empty()) {
    make_directories(output);
    struct stat st;
    if (::stat((output + "/run.json").c_str(), &st) == 0) {
      throw Error("--output " + output +
                  ": already holds a run (run.json); choose a new "
                  "directory or leave --output out for a fresh timestamped one");
    }
    return output;
  }
  char ts[32];
  time_t now = ::time(nullptr);
  struct tm tm;
  ::gmtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
  std::string cmd = argv.empty() ? "run" : argv[0].substr(argv[0].rfind('/') + 1);
  std::string base =
      std::string("cgprof-results/") + ts + "-" + sanitized(device) + "-" + sanitized(cmd);
  make_directories("cgprof-results");
  for (int n = 1;; ++n) {
    std::string dir = n == 1 ? base : base + "-" + std::to_string(n);
    if (::mkdir(dir.c_str(), 0755) == 0) return dir;
    if (errno != EEXIST || n > 1000) throw_errno("mkdir", dir);
  }
}

}  // namespace cgprof::run
