// The container init's program (src/sandbox/init/) in a sealed memfd, made once per process.
// Sealed against writes, growth and shrinking before any container exists, so nothing that runs
// inside one can change what the next container's PID 1 executes (CVE-2019-5736's lesson).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "cgprof/error.hpp"
#include "src/sandbox/launch_plan.hpp"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace cgprof::sandbox {

extern const std::uint8_t kInitImage[];
extern const std::size_t kInitImageSize;

namespace {

int make_init_image_fd() {
  // Linux >= 6.3 wants executable memfds said so (MFD_EXEC); older kernels refuse the flag.
  int fd = ::memfd_create("cgprof-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = ::memfd_create("cgprof-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw_errno("memfd_create", "cgprof-init");
  UniqueFd owned(fd);
  std::size_t done = 0;
  while (done < kInitImageSize) {
    ssize_t n = ::write(fd, kInitImage + done, kInitImageSize - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno("write", "memfd:cgprof-init");
    done += static_cast<std::size_t>(n);
  }
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
    throw_errno("seal", "memfd:cgprof-init");
  return owned.release();
}

}  // namespace

int init_image_fd() {
  static const int fd = make_init_image_fd();
  return fd;
}

}  // namespace cgprof::sandbox
