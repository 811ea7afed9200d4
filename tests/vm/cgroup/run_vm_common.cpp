#include "run_vm_common.hpp"

#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cgprof/sys.hpp"

namespace cgprof_vm {
namespace fs = std::filesystem;

namespace {

pid_t spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err,
            uid_t as_uid) {
  std::vector<std::string> copy;
  if (as_uid != 0) {
    std::string u = std::to_string(as_uid);
    copy = {"/usr/bin/setpriv", "--reuid", u, "--regid", u, "--clear-groups", "--"};
  }
  copy.push_back(env("CGPROF_BIN"));
  copy.insert(copy.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int n = ::open("/dev/null", O_RDONLY);
    ::dup2(n, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::signal(SIGINT, SIG_DFL);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_code(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int counter = 0;

}  // namespace

const std::string& test_rootfs() {
  static std::string dir;
  if (!dir.empty()) return dir;
  // Per process: host test binaries of several worktrees may build theirs at the same time.
  std::string d = "/tmp/cgprof-vm-rootfs-" + std::to_string(::getuid()) + "-" +
                  std::to_string(::getpid());
  static struct Remove {
    std::string dir;
    ~Remove() {
      if (!dir.empty()) std::system(("rm -rf " + dir).c_str());
    }
  } remove;
  remove.dir = d;
  std::string cmd = "rm -rf " + d + " && sh " + env("CGPROF_SOURCE_DIR") +
                    "/rootfs-tools/make-busybox-rootfs " + d + " >/dev/null";
  for (const char* w : {"cpu-burn", "mem-alloc", "file-read", "fork-heavy"})
    cmd += " && cp " + env("CGPROF_BUILD_DIR") + "/rootfs-tools/workloads/" + w + " " + d + "/bin/";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("building the test rootfs: " + cmd);
  dir = d;
  return dir;
}

RunOut cgprof(const std::vector<std::string>& args) { return cgprof_as(0, args); }

RunOut cgprof_as(uid_t uid, const std::vector<std::string>& args) {
  Background b(args, uid);
  return b.finish();
}

RunOut cgprof_on_tty(const std::vector<std::string>& args) {
  int master = -1, slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0)
    throw std::runtime_error("openpty failed");
  std::string bin = env("CGPROF_BIN");
  std::vector<std::string> copy = args;
  std::vector<char*> argv{bin.data()};
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(master);
    ::setsid();
    int n = ::open("/dev/null", O_RDONLY);
    ::dup2(n, 0);
    ::dup2(slave, 1);
    ::dup2(slave, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(slave);
  RunOut r;
  char buf[4096];
  ssize_t n;
  // EIO once every holder of the slave side has closed it.
  while ((n = ::read(master, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) r.out.append(buf, static_cast<size_t>(n));
  }
  ::close(master);
  r.code = wait_code(pid);
  return r;
}

Background::Background(const std::vector<std::string>& args, uid_t as_uid) {
  std::string base =
      "/tmp/cgprof-vm-run-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  out_path_ = base + ".out";
  err_path_ = base + ".err";
  pid_ = spawn(args, out_path_, err_path_, as_uid);
}

Background::~Background() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait_code(pid_);
  }
  ::unlink(out_path_.c_str());
  ::unlink(err_path_.c_str());
}

bool Background::wait_for_output(const std::string& text, bool stderr_too) const {
  auto seen = [&] {
    return cgprof::read_file_or_empty(out_path_).find(text) != std::string::npos ||
           (stderr_too && cgprof::read_file_or_empty(err_path_).find(text) != std::string::npos);
  };
  for (int i = 0; i < 2400; ++i) {
    if (seen()) return true;
    siginfo_t si{};
    if (::waitid(P_PID, pid_, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid_)
      return seen();  // it ended
    ::usleep(50000);
  }
  return false;
}

RunOut Background::finish() {
  RunOut r;
  r.code = wait_code(pid_);
  pid_ = -1;
  r.out = cgprof::read_file_or_empty(out_path_);
  r.err = cgprof::read_file_or_empty(err_path_);
  return r;
}

std::string fresh_output_dir(const std::string& tag) {
  return "/tmp/cgprof-vm-out-" + std::to_string(::getpid()) + "-" + tag + "-" +
         std::to_string(++counter);
}

nlohmann::json read_run_json(const std::string& dir) {
  return nlohmann::json::parse(cgprof::read_file_or_empty(dir + "/run.json"));
}

std::vector<std::string> leftover_cgroups() {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_directory(ec) && it->path().filename() == "cgprof") out.push_back(it->path());
  }
  return out;
}

}  // namespace cgprof_vm
