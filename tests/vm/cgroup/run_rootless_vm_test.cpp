// `cgprof run` as uid 1000 inside the delegated cgroup: the run gets its limits, and the workload
// sees them from inside its container (its cgroup namespace shows its own leaf).
#include <gtest/gtest.h>
#include <unistd.h>

#include "run_vm_common.hpp"

namespace cgprof_vm {
namespace {

TEST(RunRootlessVm, LimitsAreWrittenAndVisibleFromInside) {
  ASSERT_NE(::geteuid(), 0u);
  std::string out = fresh_output_dir("rootless");
  RunOut r =
      cgprof({"run", "--rootfs", test_rootfs(), "--output", out, "--cpus", "0.25", "--memory",
              "96m", "--pids-limit", "30", "--", "/bin/sh", "-c",
              "cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "25000 100000\n100663296\n30\n") << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["device"]["limits_written"]["cpu.max"], "25000 100000");
  EXPECT_EQ(j["device"]["limits_written"]["memory.max"], "100663296");
  EXPECT_TRUE(leftover_cgroups().empty());
}

TEST(RunRootlessVm, MemoryLimitIsEnforcedRootless) {
  std::string out = fresh_output_dir("rootless-oom");
  RunOut r = cgprof({"run", "--rootfs", test_rootfs(), "--output", out, "--memory", "48m", "--",
                     "/bin/mem-alloc", "-s", "128m", "-q"});
  EXPECT_EQ(r.code, 137) << r.err;
  auto j = read_run_json(out);
  EXPECT_EQ(j["exit"]["oom_killed"], true);
  EXPECT_TRUE(leftover_cgroups().empty());
}

}  // namespace
}  // namespace cgprof_vm
