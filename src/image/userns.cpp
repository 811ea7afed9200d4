#include "userns.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cgprof/error.hpp"
#include "cgprof/sys.hpp"

namespace cgprof::image {

namespace {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// The child: with a user namespace, become its root and wait for the parent to write the maps;
// then run f. Reports "CODE MESSAGE" on `result` when f fails; never returns.
[[noreturn]] void child(pid_t parent, bool userns, int ready, int go, int result,
                        const std::function<void()>& f) {
  int code = 0;
  std::string msg;
  try {
    if (userns) {
      if (::unshare(CLONE_NEWUSER) != 0) throw_errno("unshare(CLONE_NEWUSER)");
      write_all(ready, "u");
      char c;
      if (::read(go, &c, 1) != 1) ::_exit(1);  // the parent could not write the maps
    }
    // Dies with cgprof (after the namespace change, which may reset the setting): a killed
    // unpack must not keep running, holding the store's locks.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(1);
    f();
  } catch (const std::exception& e) {
    ErrorLine line = describe_exception(e);
    code = line.exit_code;
    msg = std::move(line.message);
  }
  if (!msg.empty()) write_all(result, std::to_string(code) + " " + msg);
  ::_exit(msg.empty() ? 0 : 1);
}

}  // namespace

std::optional<IdMapPlan> owner_shift_plan() {
  const uid_t uid = ::geteuid();
  if (uid == 0) return std::nullopt;
  IdMapPlan p = caller_id_maps();
  if (!p.use_helpers) return std::nullopt;
  return p;
}

std::string owner_key_suffix(const UnpackOptions& opts) {
  if (!opts.rootless) return "";
  auto plan = owner_shift_plan();
  if (!plan) return "-rootless";
  auto start = [](const std::string& line) {  // "1 START COUNT"
    size_t a = line.find(' ') + 1;
    return line.substr(a, line.find(' ', a) - a);
  };
  return "-rootless-" + start(plan->uid_lines.back()) + "-" + start(plan->gid_lines.back());
}

void run_in_userns(const IdMapPlan& plan, const std::function<void()>& f) {
  run_in_child(&plan, f);
}

void run_in_child(const IdMapPlan* plan, const std::function<void()>& f) {
  int ready[2], go[2], result[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd ready_r(ready[0]), ready_w(ready[1]);
  if (::pipe2(go, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd go_r(go[0]), go_w(go[1]);
  if (::pipe2(result, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd result_r(result[0]), result_w(result[1]);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) child(parent, plan != nullptr, ready[1], go[0], result[1], f);
  ready_w.reset();
  go_r.reset();
  result_w.reset();
  auto reap = [pid] {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return st;
  };
  char c;
  bool unshared = plan && ::read(ready_r.get(), &c, 1) == 1;
  if (unshared) {
    try {
      apply_id_maps(*plan, pid);
    } catch (...) {
      go_w.reset();  // the child sees EOF and exits
      reap();
      throw;
    }
    write_all(go_w.get(), "g");
  }
  go_w.reset();
  std::string report = read_all(result_r.get());
  int st = reap();
  if (!report.empty()) {
    size_t sp = report.find(' ');
    int code = std::atoi(report.substr(0, sp).c_str());
    throw Error(sp == std::string::npos ? report : report.substr(sp + 1),
                code ? code : kExitCgprofFailed);
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    throw Error("the user-namespace helper process " +
                std::string(WIFSIGNALED(st) ? "was killed by signal " + std::to_string(WTERMSIG(st))
                                            : "failed without a message"));
}

}  // namespace cgprof::image
