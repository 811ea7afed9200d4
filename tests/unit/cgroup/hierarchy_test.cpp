#include <gtest/gtest.h>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "cgprof_config.h"

namespace cgprof {
namespace {

const std::string kData = CGPROF_SOURCE_DIR "/tests/data/cgroupfs/";

UniqueFd fixture(const std::string& name) {
  return open_at(AT_FDCWD, kData + name, O_PATH | O_DIRECTORY);
}

TEST(Mountinfo, FindsTheCgroup2MountAtSysFsCgroup) {
  std::string mi = read_file(kData + "proc-systemd-user/self/mountinfo");
  auto m = parse_cgroup2_mount(mi);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mount_point, "/sys/fs/cgroup");
  EXPECT_EQ(m->root, "/");
  EXPECT_FALSE(has_cgroup1_controllers(mi));
}

TEST(Mountinfo, UnescapesOctalInMountPoints) {
  auto m = parse_cgroup2_mount("99 28 0:50 / /mnt/with\\040space rw - cgroup2 cgroup2 rw\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mount_point, "/mnt/with space");
}

TEST(Mountinfo, HybridHostHasUnifiedMountAndV1Controllers) {
  std::string mi = read_file(kData + "proc-hybrid/self/mountinfo");
  auto m = parse_cgroup2_mount(mi);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mount_point, "/sys/fs/cgroup/unified");
  EXPECT_TRUE(has_cgroup1_controllers(mi));
}

TEST(Mountinfo, OptionalFieldsBeforeTheDashAreSkipped) {
  auto m = parse_cgroup2_mount(
      "30 22 0:26 / /sys/fs/cgroup rw,nosuid shared:9 master:2 - cgroup2 cgroup2 rw,nsdelegate\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->mount_point, "/sys/fs/cgroup");
}

TEST(Mountinfo, NoCgroup2) {
  EXPECT_FALSE(parse_cgroup2_mount(read_file(kData + "proc-no-cgroup2/self/mountinfo")));
  EXPECT_FALSE(parse_cgroup2_mount("garbage\n\n1 2\n"));
}

TEST(ProcSelfCgroup, ReturnsTheV2Path) {
  EXPECT_EQ(parse_cgroup_v2_path("0::/user.slice/a.scope\n"), "/user.slice/a.scope");
  EXPECT_EQ(parse_cgroup_v2_path("9:name=systemd:/\n4:memory:/x\n0::/\n"), "/");
  EXPECT_FALSE(parse_cgroup_v2_path("12:memory:/user.slice\n"));
}

TEST(DiscoverHierarchy, SystemdUserScope) {
  CgroupHierarchy h = discover_hierarchy(fixture("proc-systemd-user").get());
  EXPECT_EQ(h.mount_point, "/sys/fs/cgroup");
  EXPECT_EQ(h.self, "user.slice/user-1000.slice/user@1000.service/app.slice/run-u7.scope");
  EXPECT_FALSE(h.hybrid);
}

TEST(DiscoverHierarchy, HybridHostAtTheRoot) {
  CgroupHierarchy h = discover_hierarchy(fixture("proc-hybrid").get());
  EXPECT_EQ(h.mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(h.self, "");
  EXPECT_TRUE(h.hybrid);
}

TEST(DiscoverHierarchy, SubtreeMountStripsItsRoot) {
  CgroupHierarchy h = discover_hierarchy(fixture("proc-subtree-mount").get());
  EXPECT_EQ(h.self, "app");
}

TEST(DiscoverHierarchy, NoCgroup2SaysHowToGetOne) {
  try {
    discover_hierarchy(fixture("proc-no-cgroup2").get());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("no cgroup v2 hierarchy"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("systemd.unified_cgroup_hierarchy=1"), std::string::npos);
    EXPECT_EQ(e.message().find('\n'), std::string::npos) << "one line";
  }
}

}  // namespace
}  // namespace cgprof
