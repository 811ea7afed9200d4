// One pass over the processes of a PID namespace, through a procfs mounted for it.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <utility>

#include "cgprof/cgroup_emulated.hpp"
#include "cgprof/error.hpp"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

namespace cgprof {
namespace {

constexpr size_t kReadBuf = 4096;
constexpr size_t kDentsBuf = 32768;

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// "123" -> 123; -1 for any other name.
int pid_of_name(const char* name) {
  if (!*name) return -1;
  int v = 0;
  for (const char* p = name; *p; ++p) {
    if (*p < '0' || *p > '9' || v > 100000000) return -1;
    v = v * 10 + (*p - '0');
  }
  return v;
}

ssize_t pread_all(int fd, char* buf, size_t size) {
  ssize_t n;
  do {
    n = ::pread(fd, buf, size - 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) buf[n] = 0;
  return n;
}

}  // namespace

struct ProcTree::Entry {
  int pid = -1;
  bool seen = false;
  UniqueFd dir, stat, statm, io;
};

ProcTree::ProcTree(int procfs_dirfd, unsigned files)
    : files_(files),
      entries_(new Entry[kMaxProcesses]),
      buf_(new char[kReadBuf]),
      dents_(new char[kDentsBuf]) {
  // An open file description of our own: the directory offset is not shared with other readers.
  // -1: a container that ended before its /proc could be opened (every pass is then empty).
  procfs_ = procfs_dirfd < 0 ? -1 : ::openat(procfs_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfs_dirfd >= 0 && procfs_ < 0) throw_errno("open", "the container's /proc");
}

ProcTree::~ProcTree() {
  if (procfs_ >= 0) ::close(procfs_);
}

ProcTree::Entry* ProcTree::find_or_open(int pid) {
  for (size_t i = 0; i < used_; ++i)
    if (entries_[i].pid == pid) return &entries_[i];
  if (used_ == kMaxProcesses) return nullptr;
  char name[16];
  std::snprintf(name, sizeof name, "%d", pid);
  int dir = ::openat(procfs_, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return nullptr;
  Entry& e = entries_[used_++];
  e.pid = pid;
  e.dir.reset(dir);
  e.stat.reset(::openat(dir, "stat", O_RDONLY | O_CLOEXEC));
  if (files_ & kProcStatm) e.statm.reset(::openat(dir, "statm", O_RDONLY | O_CLOEXEC));
  if (files_ & kProcIo) e.io.reset(::openat(dir, "io", O_RDONLY | O_CLOEXEC));
  return &e;
}

unsigned ProcTree::read(ProcTotals* out) {
  *out = ProcTotals{};
  unsigned errors = 0;
  for (size_t i = 0; i < used_; ++i) entries_[i].seen = false;
  if (procfs_ < 0) return 0;
  if (::lseek(procfs_, 0, SEEK_SET) < 0) return 1;
  bool all_stat = true, all_statm = true, all_io = true;
  for (;;) {
    long n = ::syscall(SYS_getdents64, procfs_, dents_.get(), kDentsBuf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errors + 1;
    if (n == 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<LinuxDirent64*>(dents_.get() + off);
      off += d->d_reclen;
      int pid = pid_of_name(d->d_name);
      if (pid <= 0) continue;
      Entry* e = find_or_open(pid);
      if (!e) {
        ++errors;
        continue;
      }
      ProcPidStat st;
      ssize_t got = e->stat ? pread_all(e->stat.get(), buf_.get(), kReadBuf) : -1;
      if (got < 0 && errno == ESRCH) {
        // The process we had open exited; the pid now names another one.
        *e = Entry{};
        e->pid = -2;  // compacted below
        e = find_or_open(pid);
        got = e && e->stat ? pread_all(e->stat.get(), buf_.get(), kReadBuf) : -1;
      }
      if (got < 0 || !parse_proc_pid_stat(buf_.get(), static_cast<size_t>(got), &st)) {
        if (got < 0 && errno == ESRCH) continue;  // exited between the listing and the read
        all_stat = false;
        ++errors;
        continue;
      }
      e->seen = true;
      ++out->processes;
      out->tasks += st.num_threads;
      out->user_ticks += st.utime + st.cutime;
      out->system_ticks += st.stime + st.cstime;
      out->minflt += st.minflt + st.cminflt;
      out->majflt += st.majflt + st.cmajflt;
      out->rss_pages += st.rss_pages;
      if (files_ & kProcStatm) {
        ProcStatm m;
        got = e->statm ? pread_all(e->statm.get(), buf_.get(), kReadBuf) : -1;
        if (got >= 0 && parse_proc_statm(buf_.get(), static_cast<size_t>(got), &m)) {
          out->shared_pages += m.shared;
        } else if (!(got < 0 && errno == ESRCH)) {
          all_statm = false;
          ++errors;
        }
      }
      if (files_ & kProcIo) {
        ProcIo io;
        got = e->io ? pread_all(e->io.get(), buf_.get(), kReadBuf) : -1;
        if (got >= 0 && parse_proc_io(buf_.get(), static_cast<size_t>(got), &io)) {
          out->io.rchar += io.rchar;
          out->io.wchar += io.wchar;
          out->io.syscr += io.syscr;
          out->io.syscw += io.syscw;
          out->io.read_bytes += io.read_bytes;
          out->io.write_bytes += io.write_bytes;
          out->io.cancelled_write_bytes += io.cancelled_write_bytes;
        } else if (!(got < 0 && errno == ESRCH)) {
          all_io = false;
          ++errors;
        }
      }
    }
  }
  // Forget the processes that are gone (their fds would only ever read ESRCH).
  for (size_t i = 0; i < used_;) {
    if (entries_[i].seen) {
      ++i;
      continue;
    }
    entries_[i] = std::move(entries_[--used_]);
    entries_[used_] = Entry{};
  }
  out->has_stat = out->processes > 0 && all_stat;
  out->has_statm = out->has_stat && (files_ & kProcStatm) && all_statm;
  out->has_io = out->has_stat && (files_ & kProcIo) && all_io;
  return errors;
}

unsigned ProcTree::signal_all(int sig) {
  unsigned sent = 0;
  for (size_t i = 0; i < used_; ++i) {
    const Entry& e = entries_[i];
    if (e.pid == 1 || !e.dir) continue;
    if (::syscall(SYS_pidfd_send_signal, e.dir.get(), sig, nullptr, 0) == 0) ++sent;
  }
  return sent;
}

size_t ProcTree::workload_processes() const {
  size_t n = 0;
  for (size_t i = 0; i < used_; ++i) n += entries_[i].pid != 1;
  return n;
}

UniqueFd open_container_procfs(pid_t init_pid) {
  std::string root = "/proc/" + std::to_string(init_pid) + "/root";
  UniqueFd root_fd = open_at(AT_FDCWD, root, O_PATH | O_DIRECTORY);
  // Resolved beneath the container's root: a link planted there cannot lead out of it.
  UniqueFd proc = open_beneath(root_fd.get(), "proc", O_RDONLY | O_DIRECTORY);
  struct statfs fs;
  if (::fstatfs(proc.get(), &fs) != 0) throw_errno("fstatfs", root + "/proc");
  if (fs.f_type != PROC_SUPER_MAGIC)
    throw Error(root + "/proc: not a procfs: the container's /proc is not mounted");
  // Its PID 1 must be our init (same start time), not the procfs of some other namespace.
  auto start_of = [](int dirfd, const std::string& stat) -> uint64_t {
    std::string text = read_file_at(dirfd, stat);
    ProcPidStat st;
    return parse_proc_pid_stat(text.data(), text.size(), &st) ? st.starttime : 0;
  };
  uint64_t inner = start_of(proc.get(), "1/stat");
  uint64_t outer = start_of(AT_FDCWD, "/proc/" + std::to_string(init_pid) + "/stat");
  if (inner == 0 || inner != outer)
    throw Error(root + "/proc: its PID 1 is not the container's init");
  return proc;
}

}  // namespace cgprof
