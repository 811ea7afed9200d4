#include "harness.hpp"

#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace sandbox_test {
namespace {

constexpr const char* kSubuidUser = "cgprof-test";
constexpr const char* kSingleUser = "cgprof-test1";

std::string env_or_die(const char* name) {
  const char* v = std::getenv(name);
  if (!v) {
    std::fprintf(stderr, "%s not set (run through meson test)\n", name);
    std::exit(2);
  }
  return v;
}

int sh(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

bool has_subuid_line(const std::string& user) {
  std::ifstream f("/etc/subuid");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(user + ":", 0) == 0) return true;
  return false;
}

// Creates the two unprivileged test users and their rootfs copies (once, as root).
class Setup : public ::testing::Environment {
 public:
  void SetUp() override {
    if (geteuid() != 0) return;
    if (!getpwnam(kSubuidUser)) sh(std::string("useradd -M -s /usr/sbin/nologin ") + kSubuidUser);
    // A system user gets no /etc/subuid range: the single-id mapping path.
    if (!getpwnam(kSingleUser))
      sh(std::string("useradd -r -M -s /usr/sbin/nologin ") + kSingleUser);
    for (const char* f : {"/etc/subuid", "/etc/subgid"}) {
      if (!has_subuid_line(kSubuidUser))
        sh(std::string("echo ") + kSubuidUser + ":300000:65536 >> " + f);
      sh(std::string("sed -i '/^") + kSingleUser + ":/d' " + f);
    }
    sh(std::string("grep -q '^") + kSubuidUser + ":' /etc/subgid || echo " + kSubuidUser +
       ":300000:65536 >> /etc/subgid");
    for (const char* u : {kSubuidUser, kSingleUser}) {
      std::string dst = env_or_die("SANDBOX_ROOTFS") + "-" + u;
      sh("rm -rf " + dst + " && cp -a " + env_or_die("SANDBOX_ROOTFS") + " " + dst +
         " && chown -R " + u + ": " + dst);
    }
  }
};
[[maybe_unused]] auto* const kSetup = ::testing::AddGlobalTestEnvironment(new Setup);

const char* user_of(Mode m) {
  return m == Mode::kRootlessSubuid ? kSubuidUser : kSingleUser;
}

std::vector<std::string> prefix(Mode m) {
  if (m == Mode::kRoot || geteuid() != 0) return {};
  return {"setpriv", std::string("--reuid=") + user_of(m), std::string("--regid=") + user_of(m),
          "--init-groups", "--"};
}

void read_into(int fd, std::string* buf) {
  char tmp[4096];
  ssize_t n = read(fd, tmp, sizeof tmp);
  if (n > 0) buf->append(tmp, static_cast<size_t>(n));
}

pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
            int* out, int* err) {
  int o[2], e[2];
  if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(o[1], 1);
    dup2(e[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    for (const auto& kv : extra_env) putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(99);
  }
  close(o[1]);
  close(e[1]);
  *out = o[0];
  *err = e[0];
  return pid;
}

std::vector<std::string> cgprof_argv(Mode m, const std::vector<std::string>& after) {
  std::vector<std::string> argv = prefix(m);
  argv.push_back(env_or_die("CGPROF"));
  argv.insert(argv.end(), after.begin(), after.end());
  return argv;
}

}  // namespace

std::string mode_name(const ::testing::TestParamInfo<Mode>& info) {
  switch (info.param) {
    case Mode::kRoot:
      return "Root";
    case Mode::kRootlessSubuid:
      return "RootlessSubuid";
    case Mode::kRootlessSingle:
      return "RootlessSingleId";
  }
  return "?";
}

bool mode_available(Mode m, std::string* why) {
  if (geteuid() == 0) return true;
  if (m == Mode::kRoot) {
    *why = "needs root";
    return false;
  }
  // Not root: the rootless mode that matches our own /etc/subuid state runs as ourselves.
  passwd* pw = getpwuid(geteuid());
  bool sub = pw && has_subuid_line(pw->pw_name);
  if ((m == Mode::kRootlessSubuid) != sub) {
    *why = sub ? "this user has /etc/subuid entries" : "this user has no /etc/subuid entries";
    return false;
  }
  return true;
}

std::string rootfs(Mode m) {
  if (m == Mode::kRoot || geteuid() != 0) return env_or_die("SANDBOX_ROOTFS");
  return env_or_die("SANDBOX_ROOTFS") + "-" + user_of(m);
}

uid_t host_uid(Mode m) {
  if (m == Mode::kRoot || geteuid() != 0) return geteuid();
  return getpwnam(user_of(m))->pw_uid;
}

RunResult run_raw(Mode m, const std::vector<std::string>& after) {
  Running r(m, after);
  return r.finish();
}

RunResult run(Mode m, const std::vector<std::string>& args,
              const std::vector<std::string>& extra_env) {
  std::vector<std::string> after = {"run", "--no-cgroup", "--rootfs", rootfs(m)};
  after.insert(after.end(), args.begin(), args.end());
  int out, err;
  pid_t pid = spawn(cgprof_argv(m, after), extra_env, &out, &err);
  RunResult res;
  pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
  int open_fds = 2;
  while (open_fds) {
    if (poll(fds, 2, -1) < 0) continue;
    for (auto& f : fds) {
      if (f.fd < 0 || !f.revents) continue;
      char tmp[4096];
      ssize_t n = read(f.fd, tmp, sizeof tmp);
      if (n <= 0) {
        close(f.fd);
        f.fd = -1;
        --open_fds;
      } else {
        (f.fd == out ? res.out : res.err).append(tmp, static_cast<size_t>(n));
      }
    }
  }
  int st = 0;
  waitpid(pid, &st, 0);
  res.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return res;
}

Running::Running(Mode m, const std::vector<std::string>& args) {
  pid_ = spawn(cgprof_argv(m, args), {}, &out_, &err_);
}

Running::~Running() {
  if (!done_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    finish();
  }
}

bool Running::wait_for_line(const std::string& line) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (("\n" + out_buf_).find("\n" + line + "\n") != std::string::npos) return true;
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      size_t before = out_buf_.size();
      read_into(out_, &out_buf_);
      if (out_buf_.size() == before) return false;  // EOF
    }
  }
  return false;
}

RunResult Running::finish() {
  if (done_) return result_;
  for (int fd : {out_, err_}) {
    std::string* buf = fd == out_ ? &out_buf_ : &err_buf_;
    for (;;) {
      size_t before = buf->size();
      read_into(fd, buf);
      if (buf->size() == before) break;
    }
    close(fd);
  }
  int st = 0;
  waitpid(pid_, &st, 0);
  result_.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  result_.out = out_buf_;
  result_.err = err_buf_;
  done_ = true;
  return result_;
}

namespace {
std::ostringstream* g_digest;
int digest_one(const char* path, const struct stat* st, int, FTW*) {
  std::ostringstream& d = *g_digest;
  d << path << " mode=" << std::oct << st->st_mode << std::dec << " uid=" << st->st_uid
    << " gid=" << st->st_gid << " mtime=" << st->st_mtim.tv_sec << "." << st->st_mtim.tv_nsec;
  if (S_ISLNK(st->st_mode)) {
    char target[4096];
    ssize_t n = readlink(path, target, sizeof target);
    d << " -> " << std::string(target, n > 0 ? static_cast<size_t>(n) : 0);
  } else if (S_ISREG(st->st_mode)) {
    std::ifstream f(path, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    d << " size=" << content.size() << " hash=" << std::hash<std::string>{}(content);
  }
  d << "\n";
  return 0;
}
}  // namespace

std::string tree_digest(const std::string& dir) {
  std::ostringstream d;
  g_digest = &d;
  nftw(dir.c_str(), digest_one, 64, FTW_PHYS);
  g_digest = nullptr;
  return d.str();
}

namespace {

// Whole content of a /proc file, "" if the process is gone. Not an ifstream: libstdc++ throws
// from underflow when read(2) fails, and reading /proc/PID/... of a process that exits between
// open and read fails with ESRCH -- routine while the tests kill containers.
std::string read_proc(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return n < 0 ? "" : out;
}

}  // namespace

std::vector<pid_t> descendants(pid_t pid) {
  std::vector<pid_t> out;
  std::vector<pid_t> todo = {pid};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    std::istringstream f(
        read_proc("/proc/" + std::to_string(p) + "/task/" + std::to_string(p) + "/children"));
    pid_t c;
    while (f >> c) {
      out.push_back(c);
      todo.push_back(c);
    }
  }
  return out;
}

bool process_exists(pid_t pid) {
  // A zombie still has /proc/PID; count only live processes.
  std::string all = read_proc("/proc/" + std::to_string(pid) + "/stat");
  if (all.empty()) return false;
  size_t p = all.rfind(')');
  return p != std::string::npos && p + 2 < all.size() && all[p + 2] != 'Z';
}

std::string temp_dir() {
  char tmpl[] = "/tmp/cgprof-sandbox-test-XXXXXX";
  if (!mkdtemp(tmpl)) return {};
  chmod(tmpl, 0777);
  return tmpl;
}

}  // namespace sandbox_test
