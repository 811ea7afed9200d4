// escape-probe: run INSIDE a container, tries every way out that issue 12 found (and a few more)
// and reports each as "held: NAME" or "ESCAPE: NAME: how". Exit 0 only when every attempt held.
//
// Usage: escape-probe REVERSED_TOKEN HOST_DIR EXIT_CODE
//   REVERSED_TOKEN  a secret the test put into cgprof's environment, argv and a host file, given
//                   reversed so the probe's own argv does not contain it
//   HOST_DIR        absolute host directory holding the file "marker" (content: the token); the
//                   probe tries to read it and to create HOST_DIR/pwned from inside
//   EXIT_CODE       the code to exit with when nothing escaped (the test checks cgprof reports it)
// Static, so it runs in any rootfs. Every attempt is bounded: nothing here can hang.
// It refuses to run unless the container's hostname is escape-probe and CGPROF_ESCAPE_PROBE is
// set: on the host it would attach to, take fds of and write into every process it can see.
#include <dirent.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::string token, host_dir;
int escapes = 0;

void held(const char* name) { std::printf("held: %s\n", name); }
void escaped(const char* name, const std::string& how) {
  std::printf("ESCAPE: %s: %s\n", name, how.c_str());
  ++escapes;
}
// One check: held unless `how` was set.
void verdict(const char* name, const std::string& how) {
  if (how.empty())
    held(name);
  else
    escaped(name, how);
}

std::string slurp_fd(int fd, size_t max = 1 << 20) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while (out.size() < max && (n = read(fd, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  return out;
}

std::string slurp(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return {};
  std::string s = slurp_fd(fd);
  close(fd);
  return s;
}

std::vector<int> pids_except_self() {
  std::vector<int> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    int pid = atoi(e->d_name);
    if (pid > 0 && pid != getpid()) out.push_back(pid);
  }
  closedir(d);
  return out;
}

std::vector<int> fds_of(const std::string& pid, bool* listable) {
  std::vector<int> out;
  DIR* d = opendir(("/proc/" + pid + "/fd").c_str());
  *listable = d != nullptr;
  if (!d) return out;
  int own = dirfd(d);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (!(pid == "self" && fd == own)) out.push_back(fd);
  }
  closedir(d);
  return out;
}

// Our own fds: only 0-2 (cgprof's and its caller's fds must not be inherited).
void check_own_fds() {
  bool listable = false;
  std::string extra;
  for (int fd : fds_of("self", &listable))
    if (fd > 2) {
      char target[512] = {};
      readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), target, sizeof target - 1);
      extra += " " + std::to_string(fd) + "->" + target;
    }
  verdict("own-fds-only-0-2", extra.empty() ? "" : "inherited fds:" + extra);
}

// Other processes' fds (PID 1 above all): none can be resolved or opened. (Their numbers may be
// listable: a non-dumpable process's /proc entries belong to root, and container root has
// CAP_DAC_OVERRIDE; the kernel still refuses to resolve them without CAP_SYS_PTRACE.)
void check_other_fds() {
  std::string how;
  for (int pid : pids_except_self()) {
    bool listable = false;
    std::string base = "/proc/" + std::to_string(pid) + "/fd/";
    for (int fd : fds_of(std::to_string(pid), &listable)) {
      std::string p = base + std::to_string(fd);
      char target[256];
      if (readlink(p.c_str(), target, sizeof target) >= 0) how += " readlink " + p;
      int o = open(p.c_str(), O_PATH | O_CLOEXEC);
      if (o >= 0) {
        close(o);
        how += " open " + p;
      }
    }
  }
  verdict("other-processes-fds", how.empty() ? "" : "reachable:" + how);
}

// The host marker, through every fd we can name (ours and other processes'), walking up with
// "..", and through /proc/PID/root and cwd; and creating HOST_DIR/pwned the same ways.
void check_host_files() {
  std::vector<std::string> bases;
  for (int pid : pids_except_self()) {
    std::string p = "/proc/" + std::to_string(pid);
    bases.push_back(p + "/root");
    bases.push_back(p + "/cwd");
    for (int fd = 0; fd < 64; ++fd) bases.push_back(p + "/fd/" + std::to_string(fd));
  }
  for (int fd = 3; fd < 64; ++fd) bases.push_back("/proc/self/fd/" + std::to_string(fd));
  std::string read_how, write_how;
  auto attempt = [&](const std::string& dir) {
    if (read_how.empty() && slurp(dir + "/marker").find(token) != std::string::npos)
      read_how = "read " + dir + "/marker";
    int fd = open((dir + "/pwned").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      close(fd);
      if (write_how.empty()) write_how = "created " + dir + "/pwned";
    }
  };
  attempt(host_dir);  // the plain path: inside the container it must lead elsewhere
  for (const auto& base : bases) {
    if (base.empty()) continue;
    attempt(base);  // an fd that is the host directory itself
    std::string up;
    for (int depth = 0; depth < 12; ++depth, up += "../") attempt(base + "/" + up + host_dir.substr(1));
  }
  verdict("host-file-read", read_how);
  verdict("host-file-create", write_how);
}

// cgprof's environment and command line carry the token; no /proc file may show it.
void check_environment() {
  std::string how;
  std::vector<std::string> pids = {"self"};
  for (int pid : pids_except_self()) pids.push_back(std::to_string(pid));
  for (const auto& p : pids)
    for (const char* f : {"environ", "cmdline"})
      if (slurp("/proc/" + p + "/" + f).find(token) != std::string::npos)
        how += " /proc/" + p + "/" + f;
  for (char** e = environ; *e; ++e)
    if (std::strstr(*e, token.c_str())) how += " own environment";
  verdict("caller-env-and-argv", how.empty() ? "" : "secret in" + how);
}

std::string status_field(const std::string& status, const char* key) {
  size_t at = status.find(std::string("\n") + key + ":");
  if (at == std::string::npos) return "?";
  at = status.find_first_not_of(" \t", at + std::strlen(key) + 2);
  return status.substr(at, status.find('\n', at) - at);
}

// PID 1 runs under the same seccomp filter and no_new_privs as we do, and with no capability we
// lack; it is not dumpable, so its memory and exe cannot be opened.
void check_init_confinement() {
  if (getpid() == 1) {  // under runc's defaults the workload itself is PID 1
    std::printf("n/a: init-seccomp-nnp-caps: the probe is PID 1\nn/a: init-not-dumpable: the probe is PID 1\n");
    return;
  }
  std::string own = slurp("/proc/self/status"), init = slurp("/proc/1/status");
  std::string how;
  if (status_field(init, "Seccomp") != "2") how += " Seccomp=" + status_field(init, "Seccomp");
  if (status_field(init, "NoNewPrivs") != "1")
    how += " NoNewPrivs=" + status_field(init, "NoNewPrivs");
  unsigned long long init_eff = std::strtoull(status_field(init, "CapEff").c_str(), nullptr, 16);
  unsigned long long own_bnd = std::strtoull(status_field(own, "CapBnd").c_str(), nullptr, 16);
  if (init_eff & ~own_bnd) how += " CapEff beyond the workload's bounding set";
  verdict("init-seccomp-nnp-caps", how);
  std::string open_how;
  for (const char* f : {"/proc/1/mem", "/proc/1/exe", "/proc/1/environ"}) {
    int fd = open(f, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      close(fd);
      open_how += std::string(" ") + f;
    }
  }
  int fd = open("/proc/1/exe", O_WRONLY | O_CLOEXEC);  // CVE-2019-5736
  if (fd >= 0) {
    close(fd);
    open_how += " /proc/1/exe for writing";
  }
  verdict("init-not-dumpable", open_how.empty() ? "" : "opened" + open_how);
}

// Writes a forged "workload exited 42" into every fd of PID 1 we can open for writing.
void check_forged_status() {
  if (getpid() == 1) {
    std::printf("n/a: forge-status-through-init: the probe is PID 1\n");
    return;
  }
  std::string how;
  char msg[512] = {};
  int32_t fields[3] = {4 /*kExited*/, 1 /*CLD_EXITED*/, 42};
  std::memcpy(msg, fields, sizeof fields);
  for (int fd = 0; fd < 64; ++fd) {
    std::string p = "/proc/1/fd/" + std::to_string(fd);
    int w = open(p.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (w < 0) continue;
    if (fd > 2 && write(w, msg, sizeof msg) > 0) how += " " + p;
    close(w);
  }
  verdict("forge-status-through-init", how.empty() ? "" : "wrote to" + how);
}

void check_ptrace() {
  std::string how;
  for (int pid : pids_except_self())
    if (ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) == 0) how += " pid " + std::to_string(pid);
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  if (ptrace(PTRACE_SEIZE, child, nullptr, nullptr) == 0) how += " own child";
  char buf[16];
  iovec local{buf, sizeof buf}, remote{reinterpret_cast<void*>(&token), sizeof buf};
  if (process_vm_readv(child, &local, 1, &remote, 1, 0) >= 0) how += " process_vm_readv(child)";
  if (process_vm_readv(1, &local, 1, &remote, 1, 0) >= 0) how += " process_vm_readv(1)";
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  verdict("ptrace-and-process_vm", how.empty() ? "" : "allowed:" + how);
}

void check_pidfd_getfd() {
  std::string how;
  for (int pid : pids_except_self()) {
    int pfd = int(syscall(SYS_pidfd_open, pid, 0));
    if (pfd < 0) continue;
    for (int fd = 0; fd < 64; ++fd) {
      int got = int(syscall(SYS_pidfd_getfd, pfd, fd, 0));
      if (got >= 0) {
        close(got);
        how += " pid " + std::to_string(pid) + " fd " + std::to_string(fd);
      }
    }
    close(pfd);
  }
  verdict("pidfd_getfd", how.empty() ? "" : "took" + how);
}

void check_syscalls() {
  int s = socket(40 /*AF_VSOCK*/, SOCK_STREAM | SOCK_CLOEXEC, 0);
  verdict("af_vsock", s >= 0 ? "socket(AF_VSOCK) succeeded" : "");
  if (s >= 0) close(s);
  int old = personality(0xffffffff);
  bool changed = personality(READ_IMPLIES_EXEC) != -1;
  if (changed) personality(static_cast<unsigned long>(old));
  verdict("personality", changed ? "personality(READ_IMPLIES_EXEC) succeeded" : "");
  long key = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0);
  verdict("keyctl", key >= 0 ? "keyctl(GET_KEYRING_ID, user keyring) succeeded" : "");
  pid_t child = fork();
  if (child == 0) _exit(unshare(CLONE_NEWUSER) == 0 ? 1 : 0);
  int st = 0;
  waitpid(child, &st, 0);
  verdict("unshare-userns", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "" : "unshare(CLONE_NEWUSER)");
  verdict("mount", mount("none", "/tmp", "tmpfs", 0, nullptr) == 0 ? "mount(tmpfs) succeeded" : "");
}

// The cgroup files of the container: none may be written (limits, or a move out of the cgroup).
void check_cgroup_writes() {
  std::string how;
  std::vector<std::string> dirs = {"/sys/fs/cgroup"};
  if (DIR* d = opendir("/sys/fs/cgroup")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') dirs.push_back(std::string("/sys/fs/cgroup/") + e->d_name);
    closedir(d);
  }
  for (const auto& dir : dirs)
    for (const char* f : {"memory.max", "memory.high", "memory.swap.max", "pids.max", "cpu.max",
                          "io.max", "cgroup.procs", "cgroup.kill", "cgroup.subtree_control",
                          "memory.limit_in_bytes", "cpu.cfs_quota_us", "tasks"}) {
      std::string p = dir + "/" + f;
      int fd = open(p.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd >= 0) {
        how += " " + p;
        close(fd);
      }
    }
  verdict("cgroup-files-read-only", how.empty() ? "" : "writable:" + how);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: escape-probe REVERSED_TOKEN HOST_DIR EXIT_CODE\n");
    return 2;
  }
  // It attacks every process it can see: never outside the container the test made for it.
  char host[64] = {};
  gethostname(host, sizeof host - 1);
  const char* inside = std::getenv("CGPROF_ESCAPE_PROBE");
  if (!inside || std::strcmp(inside, "inside-a-container") != 0 || std::strcmp(host, "escape-probe") != 0) {
    std::fprintf(stderr, "escape-probe: refusing to run outside its container (needs --hostname "
                         "escape-probe and -e CGPROF_ESCAPE_PROBE=inside-a-container)\n");
    return 2;
  }
  token = argv[1];
  std::reverse(token.begin(), token.end());
  host_dir = argv[2];
  setvbuf(stdout, nullptr, _IOLBF, 0);
  check_own_fds();
  check_other_fds();
  check_host_files();
  check_environment();
  check_init_confinement();
  check_forged_status();
  check_ptrace();
  check_pidfd_getfd();
  check_syscalls();
  check_cgroup_writes();
  std::printf("probe done: %d escape(s)\n", escapes);
  return escapes ? 100 : std::atoi(argv[3]);
}
