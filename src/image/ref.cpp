// Image references and platforms as users write them.
#include <sys/stat.h>
#include <sys/utsname.h>

#include "cgprof/error.hpp"
#include "cgprof/image.hpp"
#include "digest.hpp"

namespace cgprof::image {

namespace {
bool exists(const std::string& p) {
  struct stat st;
  return !p.empty() && ::stat(p.c_str(), &st) == 0;
}
}  // namespace

std::string ImageRef::str() const {
  std::string s = path;
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

ImageRef parse_image_ref(const std::string& text) {
  if (text.empty())
    throw Error("image reference is empty (expected DIR, DIR:TAG, DIR@sha256:... or FILE.tar)");
  ImageRef ref;
  // An existing path wins: "./models/a:b" may be a directory literally named "a:b".
  if (exists(text)) {
    ref.path = text;
    return ref;
  }
  std::string rest = text;
  size_t at = rest.rfind("@sha256:");
  if (at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    check_digest(ref.digest, "image reference " + text);
    rest.resize(at);
    if (exists(rest)) {
      ref.path = rest;
      return ref;
    }
  }
  // Split at the last ':' after the last '/', so "dir:tag" works but "/a:b/c" is a path.
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash) && colon > 0) {
    std::string path = rest.substr(0, colon), tag = rest.substr(colon + 1);
    if (exists(path)) {
      if (tag.empty()) throw Error("image reference " + text + ": empty tag after ':'");
      // Archives may carry repo:tag in RepoTags, e.g. "img.tar:library/app:1.0".
      ref.path = path;
      ref.tag = tag;
      return ref;
    }
    // docker-archive RepoTags contain ':' themselves ("app:1.0"): try the first ':' as well.
    size_t first = rest.find(':');
    if (first != colon && first > 0 && exists(rest.substr(0, first))) {
      ref.path = rest.substr(0, first);
      ref.tag = rest.substr(first + 1);
      return ref;
    }
  }
  throw Error("image " + text + ": no such file or directory (expected an OCI layout directory " +
                  "or an oci-archive/docker-archive file, optionally with :TAG or @sha256:DIGEST)",
              kExitCgprofFailed, ENOENT);
}

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

Platform parse_platform(const std::string& text) {
  Platform p;
  size_t a = text.find('/');
  if (a == std::string::npos || a == 0 || a + 1 >= text.size())
    throw Error("--platform " + text + ": expected OS/ARCH[/VARIANT], e.g. linux/arm64");
  p.os = text.substr(0, a);
  std::string rest = text.substr(a + 1);
  size_t b = rest.find('/');
  if (b != std::string::npos) {
    p.variant = rest.substr(b + 1);
    rest.resize(b);
    if (rest.empty() || p.variant.empty() || p.variant.find('/') != std::string::npos)
      throw Error("--platform " + text + ": expected OS/ARCH[/VARIANT], e.g. linux/arm/v7");
  }
  p.architecture = rest;
  return p;
}

Platform host_platform() {
  Platform p;
  struct utsname u;
  ::uname(&u);
  std::string m = u.machine;
  if (m == "x86_64")
    p.architecture = "amd64";
  else if (m == "aarch64" || m == "arm64")
    p.architecture = "arm64";
  else if (m == "armv7l")
    p.architecture = "arm", p.variant = "v7";
  else if (m == "armv6l")
    p.architecture = "arm", p.variant = "v6";
  else if (m == "i386" || m == "i686")
    p.architecture = "386";
  else if (m == "ppc64le")
    p.architecture = "ppc64le";
  else if (m == "s390x")
    p.architecture = "s390x";
  else if (m == "riscv64")
    p.architecture = "riscv64";
  else
    p.architecture = m;
  return p;
}

}  // namespace cgprof::image
