// Namespaces, network, masked paths, seccomp and capabilities, seen from inside the container.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <sstream>

#include "harness.hpp"

namespace sandbox_test {
namespace {

class Isolation : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override { REQUIRE_MODE(GetParam()); }
};

TEST_P(Isolation, HostnameIsIsolated) {
  char before[256] = {};
  gethostname(before, sizeof before - 1);
  RunResult r = run(GetParam(), {"--hostname", "inside-box", "--", "hostname"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "inside-box\n");
  char after[256] = {};
  gethostname(after, sizeof after - 1);
  EXPECT_STREQ(before, after);
  r = run(GetParam(), {"cat", "/etc/hostname"});
  EXPECT_EQ(r.out, "cgprof\n");
}

TEST_P(Isolation, WorkloadSeesOnlyItsOwnPidNamespace) {
  // PID 1 is cgprof's init, the shell is its child, and nothing of the host is visible.
  RunResult r =
      run(GetParam(),
          {"sh", "-c", "echo $$; echo $PPID; cd /proc; for p in [0-9]*; do echo p$p; done"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream in(r.out);
  std::string self, parent, line;
  in >> self >> parent;
  EXPECT_EQ(parent, "1");
  EXPECT_EQ(self, "2");
  int pids = 0;
  while (in >> line) ++pids;
  // init, the shell, and possibly the short-lived subshell of the glob.
  EXPECT_LE(pids, 3) << r.out;
}

TEST_P(Isolation, InitIsPidOneAndHostPidIsReported) {
  RunResult r = run(GetParam(), {"cat", "/proc/1/status"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("NSpid:"), std::string::npos);
  // The host's own init (systemd/init, with children everywhere) is not PID 1 here: ours has
  // exactly one child, the cat.
  r = run(GetParam(), {"sh", "-c", "cat /proc/1/task/1/children"});
  EXPECT_EQ(r.out, "2 ");
}

std::string host_ipv4() {
  ifaddrs* list = nullptr;
  std::string ip;
  if (getifaddrs(&list) != 0) return ip;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
    if (std::string(buf).rfind("127.", 0) != 0) {
      ip = buf;
      break;
    }
  }
  freeifaddrs(list);
  return ip;
}

TEST_P(Isolation, DefaultNetworkHasNoRouteOutButLoopbackWorks) {
  RunResult r = run(GetParam(), {"netprobe", "lo"});
  EXPECT_EQ(r.out, "lo OK\n") << r.err;
  std::string ip = host_ipv4();
  if (ip.empty()) GTEST_SKIP() << "host has no IPv4 address besides loopback";
  r = run(GetParam(), {"netprobe", "connect", ip, "22"});
  EXPECT_EQ(r.out, "connect ENETUNREACH\n") << r.err;
  r = run(GetParam(), {"--net", "none", "netprobe", "lo"});
  EXPECT_EQ(r.out, "lo ENETUNREACH\n") << "--net none: lo stays down";
  r = run(GetParam(), {"sh", "-c", "cat /proc/net/dev | tail -n +3 | cut -d: -f1"});
  EXPECT_EQ(r.out, "    lo\n") << "only lo exists";
}

TEST_P(Isolation, HostNetworkIsShared) {
  RunResult in_box = run(GetParam(), {"--net", "host", "sh", "-c", "ls /sys/class/net | sort"});
  ASSERT_EQ(in_box.code, 0) << in_box.err;
  RunResult boxed = run(GetParam(), {"sh", "-c", "ls /sys/class/net | sort"});
  EXPECT_NE(in_box.out, boxed.out);
  EXPECT_NE(in_box.out.find("lo"), std::string::npos);
}

TEST_P(Isolation, MaskedAndReadOnlyPathsAsDocker) {
  RunResult r = run(
      GetParam(), {"sh", "-c",
                   "wc -c < /proc/keys; ls /sys/firmware | wc -l; "
                   "echo 1 > /proc/sys/kernel/ns_last_pid && echo WROTE-SYS; "
                   "echo b > /proc/sysrq-trigger && echo WROTE-SYSRQ; touch /sys/x && echo WROTE; "
                   "grep -E ' /proc/sys | /sys ' /proc/self/mountinfo | grep -c ' ro,'"});
  EXPECT_EQ(r.out, "0\n0\n2\n") << r.err;
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
}

TEST_P(Isolation, RefusedSyscallsFailWithEperm) {
  RunResult r = run(GetParam(), {"sysprobe"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream in(r.out);
  std::string name, err;
  int lines = 0;
  while (in >> name >> err) {
    ++lines;
    EXPECT_EQ(err, "EPERM") << name;
  }
  EXPECT_GE(lines, 30);
}

TEST_P(Isolation, UnconfinedShowsTheKernelsOwnAnswers) {
  // Without the filter many probes fail differently: the EPERMs above are the filter's doing.
  RunResult r = run(GetParam(), {"--security-opt", "seccomp=unconfined", "sysprobe"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream in(r.out);
  std::string name, err;
  int not_eperm = 0;
  while (in >> name >> err) not_eperm += err != "EPERM";
  EXPECT_GE(not_eperm, 8) << r.out;
  r = run(GetParam(),
          {"--security-opt", "seccomp=unconfined", "grep", "Seccomp:", "/proc/self/status"});
  EXPECT_EQ(r.out, "Seccomp:\t0\n");
}

TEST_P(Isolation, CapEffIsDockersDefaultSetForRoot) {
  RunResult r =
      run(GetParam(), {"sh", "-c", "grep -E 'CapEff|CapBnd|CapPrm|NoNewPrivs' /proc/self/status"});
  EXPECT_EQ(r.out,
            "CapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n"
            "NoNewPrivs:\t1\n");
}

TEST_P(Isolation, NonRootUserHasNoEffectiveCapabilities) {
  if (GetParam() == Mode::kRootlessSingle) GTEST_SKIP() << "uid 1000 is not mapped here";
  RunResult r = run(GetParam(), {"-u", "1000", "grep", "CapEff", "/proc/self/status"});
  EXPECT_EQ(r.out, "CapEff:\t0000000000000000\n") << r.err;
}

TEST_P(Isolation, CapAddAndDrop) {
  RunResult r = run(GetParam(), {"--cap-drop", "ALL", "--cap-add", "sys_ptrace", "grep", "CapEff",
                                 "/proc/self/status"});
  EXPECT_EQ(r.out, "CapEff:\t0000000000080000\n") << r.err;
  r = run(GetParam(),
          {"--cap-drop", "CHOWN", "--cap-drop", "cap_kill", "grep", "CapEff", "/proc/self/status"});
  EXPECT_EQ(r.out, "CapEff:\t00000000a80425da\n") << r.err;
  r = run(GetParam(), {"--cap-drop", "CAP_CHOWN", "chown", "1:1", "/etc/hostname"});
  EXPECT_NE(r.code, 0);
  r = run(GetParam(), {"--cap-add", "NOT_A_CAP", "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("NOT_A_CAP"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Modes, Isolation,
                         ::testing::Values(Mode::kRoot, Mode::kRootlessSubuid,
                                           Mode::kRootlessSingle),
                         mode_name);

}  // namespace
}  // namespace sandbox_test
