// The mark channel of a run: a FIFO the workload writes mark lines to, and (--mark-regex) its
// output pipes, read by one thread that timestamps every line on receipt.
//
// Security: the FIFO lives in a directory with an unguessable name below a directory nobody else
// may list (mode 0711), so no other host user can find it; the container sees only the FIFO
// itself, bind-mounted read-only at /dev/cgprof-mark (docs/SECURITY.md, "Phase marks"). Opening a FIFO for writing is
// all it gives: a read-only mount refuses chmod, chown and utimes, a FIFO has no "..", and what
// the workload writes is parsed as bounded text by cgprof (phases.hpp).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <regex>
#include <thread>

#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"
#include "cgprof/phases.hpp"
#include "cgprof/sys.hpp"

namespace cgprof {
namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr int kPipeBytes = 1 << 20;  // room for ~100k marks if cgprof is descheduled a while

// The directory FIFOs are made in: /run/cgprof for root, else $XDG_RUNTIME_DIR/cgprof, else
// /tmp/cgprof-UID. Created 0711; refused when someone else owns it or may write to it.
std::string private_base_dir() {
  std::string base;
  if (::geteuid() == 0) {
    base = "/run/cgprof";
  } else if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x == '/') {
    base = std::string(x) + "/cgprof";
  } else {
    base = "/tmp/cgprof-" + std::to_string(::geteuid());
  }
  if (::mkdir(base.c_str(), 0711) < 0 && errno != EEXIST) throw_errno("mkdir", base);
  struct stat st {};
  if (::lstat(base.c_str(), &st) < 0) throw_errno("lstat", base);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022))
    throw Error(base + ": not a directory of ours that only we may write (for the phase-mark "
                "FIFO); remove it and run again");
  if ((st.st_mode & 07777) != 0711 && ::chmod(base.c_str(), 0711) < 0) throw_errno("chmod", base);
  return base;
}

// FIFO directories are named PID.RANDOM; those of a cgprof that died without cleaning up
// (SIGKILL) are removed by the next run.
void remove_stale_dirs(const std::string& base) {
  DIR* d = ::opendir(base.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || !end || *end != '.') continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    const std::string dir = base + "/" + e->d_name;
    ::unlink((dir + "/mark").c_str());
    ::rmdir(dir.c_str());
  }
  ::closedir(d);
}

std::string random_hex(size_t bytes) {
  unsigned char buf[32];
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = ::getrandom(buf + got, bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("getrandom");
    got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    out += kHex[buf[i] >> 4];
    out += kHex[buf[i] & 15];
  }
  return out;
}

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // our own stdout is gone: the workload's output is lost, not the run
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

struct MarkServer::Impl {
  MarkServerOptions opts;
  std::regex re;
  std::string dir, fifo;
  UniqueFd fifo_rd, fifo_wr;  // our write end keeps the FIFO from reporting EOF between writers
  UniqueFd out_rd, out_wr, err_rd, err_wr;  // --mark-regex: the workload's stdout and stderr
  UniqueFd real_out, real_err;              // where its output goes on
  UniqueFd stop_fd;
  std::thread thread;
  bool stopped = false;
  MarkLog log;
  LineSplitter fifo_lines, out_lines, err_lines;

  void on_output_line(uint64_t t, std::string_view line, bool cut) {
    std::match_results<std::string_view::const_iterator> m;
    if (std::regex_search(line.begin(), line.end(), m, re) && m[1].matched)
      log.add_line(t, std::string_view(&*m[1].first, static_cast<size_t>(m[1].length())), cut);
  }

  // Reads what fd holds now; false at EOF (or an error: the stream is done either way).
  bool pump(int fd, char* buf, bool drain) {
    for (;;) {
      ssize_t n = ::read(fd, buf, kChunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno == EAGAIN;
      if (n == 0) return false;
      const uint64_t t = monotonic_ns();
      std::string_view chunk(buf, static_cast<size_t>(n));
      if (fd == fifo_rd.get()) {
        fifo_lines.feed(chunk, [&](std::string_view l, bool cut) { log.add_line(t, l, cut); });
      } else {
        const bool is_out = fd == out_rd.get();
        write_all(is_out ? real_out.get() : real_err.get(), buf, static_cast<size_t>(n));
        (is_out ? out_lines : err_lines).feed(chunk, [&](std::string_view l, bool cut) {
          on_output_line(t, l, cut);
        });
      }
      if (!drain) return true;
    }
  }

  void loop() {
    // Writing to a closed stdout must end that copy, not cgprof.
    sigset_t pipe_sig;
    sigemptyset(&pipe_sig);
    sigaddset(&pipe_sig, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_sig, nullptr);
    std::unique_ptr<char[]> buf(new char[kChunk]);
    pollfd fds[4] = {{stop_fd.get(), POLLIN, 0},
                     {fifo_rd.get(), POLLIN, 0},
                     {out_rd.get(), POLLIN, 0},
                     {err_rd.get(), POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 4, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      const bool stopping = fds[0].revents != 0;
      for (int i = 1; i < 4; ++i) {
        if (fds[i].fd < 0 || (!stopping && !fds[i].revents)) continue;
        if (!pump(fds[i].fd, buf.get(), stopping)) fds[i].fd = -1;
      }
      if (stopping) break;
    }
    const uint64_t t = monotonic_ns();
    fifo_lines.finish([&](std::string_view l, bool cut) { log.add_line(t, l, cut); });
    for (LineSplitter* s : {&out_lines, &err_lines})
      s->finish([&](std::string_view l, bool cut) { on_output_line(t, l, cut); });
  }

  void make_fifo() {
    std::string base = private_base_dir();
    remove_stale_dirs(base);
    dir = base + "/" + std::to_string(::getpid()) + "." + random_hex(16);
    if (::mkdir(dir.c_str(), 0700) < 0) throw_errno("mkdir", dir);
    fifo = dir + "/mark";
    if (::mkfifo(fifo.c_str(), 0600) < 0) throw_errno("mkfifo", fifo);
    // Any user of the container may mark (the workload runs as any uid); nobody may read.
    if (::chmod(fifo.c_str(), 0622) < 0) throw_errno("chmod", fifo);
    if (::chmod(dir.c_str(), 0711) < 0) throw_errno("chmod", dir);
    fifo_rd = open_at(AT_FDCWD, fifo, O_RDONLY | O_NONBLOCK);
    fifo_wr = open_at(AT_FDCWD, fifo, O_WRONLY | O_NONBLOCK);
    ::fcntl(fifo_rd.get(), F_SETPIPE_SZ, kPipeBytes);  // best effort: the default is 64 KiB
  }

  static void make_pipe(UniqueFd* rd, UniqueFd* wr) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe2");
    rd->reset(p[0]);
    wr->reset(p[1]);
    ::fcntl(p[0], F_SETFL, O_NONBLOCK);
  }

  ~Impl() {
    stop();
    if (!fifo.empty()) ::unlink(fifo.c_str());
    if (!dir.empty()) ::rmdir(dir.c_str());
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    if (!thread.joinable()) return;
    uint64_t one = 1;
    while (::write(stop_fd.get(), &one, sizeof one) < 0 && errno == EINTR) {
    }
    thread.join();
  }
};

MarkServer::MarkServer(const MarkServerOptions& opts) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.opts = opts;
  if (!opts.mark_regex.empty()) {
    try {
      s.re = std::regex(opts.mark_regex, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      throw Error("--mark-regex " + opts.mark_regex + ": not a valid regular expression (" +
                  e.what() + ")");
    }
    if (s.re.mark_count() < 1)
      throw Error("--mark-regex " + opts.mark_regex +
                  ": needs a capture group for the phase name, e.g. '^PHASE (\\w+)'");
    Impl::make_pipe(&s.out_rd, &s.out_wr);
    Impl::make_pipe(&s.err_rd, &s.err_wr);
    s.real_out.reset(::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
    s.real_err.reset(::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3));
  }
  if (opts.fifo) with_context("serving phase marks ($CGPROF_MARK)", [&] { s.make_fifo(); });
  s.stop_fd.reset(::eventfd(0, EFD_CLOEXEC));
  if (!s.stop_fd) throw_errno("eventfd");
}

MarkServer::~MarkServer() = default;

const std::string& MarkServer::fifo_host_path() const { return impl_->fifo; }
int MarkServer::stdout_fd() const { return impl_->out_wr.get(); }
int MarkServer::stderr_fd() const { return impl_->err_wr.get(); }
const MarkLog& MarkServer::log() const { return impl_->log; }
const MarkServerOptions& MarkServer::options() const { return impl_->opts; }

void MarkServer::start() {
  impl_->thread = std::thread([s = impl_.get()] { s->loop(); });
}

void MarkServer::release_container_ends() {
  impl_->out_wr.reset();
  impl_->err_wr.reset();
}

void MarkServer::stop() { impl_->stop(); }

}  // namespace cgprof
