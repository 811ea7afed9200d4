// libFuzzer target for layer application (src/image/apply.cpp): arbitrary tar bytes, applied as
// one or more layers to a scratch rootfs, must never crash, leak, or create, change or remove
// anything outside the rootfs. Input: one flag byte (bit 0: rootless mode), then the layers
// separated by kLayerSeparator. tests/fuzz/run_fuzz.sh builds and runs it (see tests/fuzz/meson.build).
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "src/image/apply.hpp"
#include "cgprof/error.hpp"
#include "cgprof/image.hpp"
#include "cgprof/sys.hpp"

using namespace cgprof;

namespace {

constexpr std::string_view kLayerSeparator = "CGPROF-FUZZ-LAYER";
constexpr std::string_view kCanary = "do not touch";

// <scratch>/canary/secret and <scratch>/root; everything the layers do must stay in root.
struct Scratch {
  std::string dir;
  int dirfd = -1;

  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/cgprof-layer-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl.data())) std::abort();
    dir = tmpl;
    dirfd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0 || ::mkdirat(dirfd, "canary", 0755) != 0) std::abort();
    UniqueFd f(::openat(dirfd, "canary/secret", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!f || ::write(f.get(), kCanary.data(), kCanary.size()) != ssize_t(kCanary.size()))
      std::abort();
    std::atexit([] { image::remove_tree_at(AT_FDCWD, instance().dir); });
  }

  static Scratch& instance() {
    static Scratch s;
    return s;
  }

  std::vector<std::string> names(const char* sub) const {
    std::vector<std::string> out;
    int fd = ::openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return out;
    DIR* d = ::fdopendir(fd);
    while (struct dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
        out.emplace_back(e->d_name);
    ::closedir(d);
    return out;
  }

  // Anything found outside root is an escape: report it the way libFuzzer reports a crash.
  void check_untouched() const {
    auto top = names(".");
    auto canary = names("canary");
    bool ok = top.size() == 2 && canary.size() == 1 && canary[0] == "secret" &&
              read_file(dir + "/canary/secret") == kCanary;
    for (const auto& n : top) ok = ok && (n == "root" || n == "canary");
    if (!ok) {
      std::fprintf(stderr, "layer fuzz: something outside the rootfs changed in %s\n", dir.c_str());
      std::abort();
    }
  }
};

std::vector<std::string_view> split_layers(std::string_view in) {
  std::vector<std::string_view> layers;
  for (;;) {
    size_t p = in.find(kLayerSeparator);
    layers.push_back(in.substr(0, p));
    if (p == std::string_view::npos) return layers;
    in.remove_prefix(p + kLayerSeparator.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Scratch& s = Scratch::instance();
  image::ApplyOptions opts;
  opts.rootless = data[0] & 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (::mkdirat(s.dirfd, "root", 0755) != 0) std::abort();
  {
    UniqueFd root = open_at(s.dirfd, "root", O_RDONLY | O_DIRECTORY);
    image::ApplyNotices notices;
    try {
      for (std::string_view layer : split_layers(in))
        image::apply_tar_bytes(layer.data(), layer.size(), root.get(), opts, notices);
    } catch (const Error&) {
      // Rejected input is fine; what it may have done before must still be inside the rootfs.
    }
  }
  s.check_untouched();
  image::remove_tree_at(s.dirfd, "root");
  return 0;
}
