#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "cgprof/cgroup.hpp"
#include "cgprof/error.hpp"
#include "cgprof_config.h"

namespace cgprof {
namespace {

namespace fs = std::filesystem;
const std::string kTree = CGPROF_SOURCE_DIR "/tests/data/cgroupfs/tree-systemd";
const std::string kUserScope =
    "user.slice/user-1000.slice/user@1000.service/app.slice/run-u7.scope";
const std::string kUserService = "user.slice/user-1000.slice/user@1000.service";

CgroupNode node(std::string path, bool writable, bool procs, std::string ctl, std::string sub) {
  CgroupNode n;
  n.path = std::move(path);
  n.writable = writable;
  n.has_processes = procs;
  n.controllers = split_words(ctl);
  n.subtree = split_words(sub);
  return n;
}

PlacementRequest request(uid_t uid, std::vector<std::string> required,
                         std::vector<std::string> wanted = {}) {
  PlacementRequest r;
  r.uid = uid;
  r.required = std::move(required);
  r.wanted = std::move(wanted);
  r.run_id = "r1";
  return r;
}

std::string error_of(const std::vector<CgroupNode>& nodes, const PlacementRequest& req) {
  try {
    plan_placement(nodes, req);
  } catch (const Error& e) {
    EXPECT_EQ(e.message().find('\n'), std::string::npos) << "one line";
    return e.message();
  }
  return "";
}

const char* kAll = "cpuset cpu io memory pids";

TEST(Placement, RootAtTheRootCreatesCgprofUnderTheRoot) {
  PlacementPlan p = plan_placement({node("", true, true, kAll, "")}, request(0, {"cpu", "memory"}));
  EXPECT_EQ(p.base, "");
  EXPECT_EQ(p.leaf, "cgprof/r1");
  // The root may hold processes and still enable controllers.
  EXPECT_EQ(p.enable_in, (std::vector<std::string>{"", "cgprof"}));
  EXPECT_EQ(p.controllers, (std::vector<std::string>{"cpu", "memory"}));
}

TEST(Placement, RootInAChildGoesNextToItsCgroupNotInside) {
  std::vector<CgroupNode> nodes{node("", true, true, kAll, "cpu memory"),
                                node("user.slice", true, false, "cpu memory", "cpu memory"),
                                node("user.slice/s.scope", true, true, "cpu memory", "")};
  PlacementPlan p = plan_placement(nodes, request(0, {"cpu"}, {"memory"}));
  EXPECT_EQ(p.base, "user.slice");
  EXPECT_EQ(p.leaf, "user.slice/cgprof/r1");
  EXPECT_EQ(p.enable_in, (std::vector<std::string>{"user.slice/cgprof"}))
      << "already enabled above";
}

TEST(Placement, RootNeverEnablesControllersOnACgroupWithProcesses) {
  std::vector<CgroupNode> nodes{node("", true, true, kAll, "cpu"),
                                node("busy", true, true, "cpu", ""),
                                node("busy/me", true, true, "", "")};
  std::string err = error_of(nodes, request(0, {"cpu"}));
  EXPECT_NE(err.find("/busy holds processes"), std::string::npos) << err;
  PlacementPlan p = plan_placement(nodes, request(0, {}, {"cpu"}));
  EXPECT_TRUE(p.controllers.empty());
  ASSERT_EQ(p.notices.size(), 1u);
  EXPECT_NE(p.notices[0].find("cpu"), std::string::npos);
}

TEST(Placement, MissingControllersAreNamedInOneError) {
  std::vector<CgroupNode> nodes{node("", true, true, "cpu memory pids", "")};
  std::string err = error_of(nodes, request(0, {"cpu", "cpuset", "io"}));
  EXPECT_NE(err.find("cpuset (not offered"), std::string::npos) << err;
  EXPECT_NE(err.find("io (not offered"), std::string::npos) << err;
  EXPECT_EQ(err.find("cpu (not"), std::string::npos) << err;
}

TEST(Placement, HybridRootWithoutControllersFails) {
  std::string err = error_of({node("", true, true, "hugetlb", "")}, request(0, {}));
  EXPECT_NE(err.find("none of the cpu, memory, io, pids controllers"), std::string::npos) << err;
  EXPECT_NE(err.find("systemd.unified_cgroup_hierarchy=1"), std::string::npos) << err;
}

std::vector<CgroupNode> user_nodes(bool scope_has_procs) {
  return {node("", false, true, kAll, "cpu io memory pids"),
          node("user.slice", false, false, "cpu io memory pids", "cpu io memory pids"),
          node("user.slice/user-1000.slice", false, false, "cpu io memory pids", "cpu memory pids"),
          node(kUserService, true, false, "cpu memory pids", "cpu memory pids"),
          node(kUserService + "/app.slice", true, false, "cpu memory pids", ""),
          node(kUserScope, true, scope_has_procs, "", "")};
}

TEST(Placement, RootlessGoesNextToOurScopeInsideTheDelegatedSubtree) {
  PlacementPlan p =
      plan_placement(user_nodes(true), request(1000, {"cpu", "memory"}, {"pids", "io"}));
  EXPECT_EQ(p.base, kUserService + "/app.slice");
  EXPECT_EQ(p.leaf, kUserService + "/app.slice/cgprof/r1");
  EXPECT_EQ(p.enable_in, (std::vector<std::string>{kUserService + "/app.slice",
                                                   kUserService + "/app.slice/cgprof"}));
  EXPECT_EQ(p.controllers, (std::vector<std::string>{"cpu", "memory", "pids"}));
  ASSERT_EQ(p.notices.size(), 1u);
  EXPECT_NE(p.notices[0].find("io (not offered"), std::string::npos) << p.notices[0];
}

TEST(Placement, RootlessMissingDelegatedControllerExplainsDelegate) {
  std::string err = error_of(user_nodes(true), request(1000, {"cpu", "cpuset"}));
  EXPECT_NE(err.find("cpuset"), std::string::npos) << err;
  EXPECT_NE(err.find("Delegate="), std::string::npos) << err;
}

TEST(Placement, RootlessOutsideAnyDelegationSaysHowToGetOne) {
  std::vector<CgroupNode> nodes{node("", false, true, kAll, "cpu memory"),
                                node("user.slice", false, false, "cpu memory", "cpu memory"),
                                node("user.slice/session-3.scope", false, true, "", "")};
  std::string err = error_of(nodes, request(1000, {}));
  EXPECT_NE(err.find("not delegated to uid 1000"), std::string::npos) << err;
  EXPECT_NE(err.find("systemd-run --user --scope -p Delegate=yes"), std::string::npos) << err;
}

TEST(Placement, RootlessAtTheTopOfTheDelegationWithProcessesExplains) {
  std::vector<CgroupNode> nodes{node("", false, true, kAll, "cpu memory"),
                                node("deleg", true, true, "cpu memory", "")};
  std::string err = error_of(nodes, request(1000, {"cpu"}));
  EXPECT_NE(err.find("top of the subtree delegated"), std::string::npos) << err;
  EXPECT_NE(err.find("holds processes"), std::string::npos) << err;
}

TEST(Placement, RootlessAtAnEmptyDelegationTopCreatesInsideIt) {
  std::vector<CgroupNode> nodes{node("", false, true, kAll, "cpu memory"),
                                node("deleg", true, false, "cpu memory", "")};
  PlacementPlan p = plan_placement(nodes, request(1000, {"cpu"}));
  EXPECT_EQ(p.leaf, "deleg/cgprof/r1");
  EXPECT_EQ(p.enable_in, (std::vector<std::string>{"deleg", "deleg/cgprof"}));
}

// read_cgroup_path on a copy of the fixture tree, owned by a non-root uid where delegated.
class TreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cgprof-tree-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::copy(kTree, dir_, fs::copy_options::recursive);
    uid_ = ::geteuid() == 0 ? 4321 : ::geteuid();
    // Everything read-only for its owner, except the delegated subtree.
    for (auto& e : fs::recursive_directory_iterator(dir_)) chmod_and_own(e.path(), false);
    chmod_and_own(dir_, false);
    for (auto& e : fs::recursive_directory_iterator(dir_ + "/" + kUserService))
      chmod_and_own(e.path(), true);
    chmod_and_own(dir_ + "/" + kUserService, true);
    mount_ = open_at(AT_FDCWD, dir_, O_PATH | O_DIRECTORY);
  }
  void chmod_and_own(const fs::path& p, bool delegated) {
    bool dir = fs::is_directory(p);
    ::chmod(p.c_str(), delegated ? (dir ? 0755 : 0644) : (dir ? 0555 : 0444));
    if (::geteuid() == 0 && delegated) {
      ASSERT_EQ(::chown(p.c_str(), uid_, uid_), 0);
    }
  }
  void TearDown() override {
    for (auto& e : fs::recursive_directory_iterator(dir_))
      if (fs::is_directory(e.path())) ::chmod(e.path().c_str(), 0755);
    ::chmod(dir_.c_str(), 0755);
    fs::remove_all(dir_);
  }
  std::string dir_;
  uid_t uid_ = 0;
  UniqueFd mount_;
};

TEST_F(TreeTest, ReadsTheNodesFromTheRootToOurs) {
  std::vector<CgroupNode> nodes = read_cgroup_path(mount_.get(), kUserScope, uid_);
  ASSERT_EQ(nodes.size(), 6u);
  EXPECT_EQ(nodes[0].path, "");
  EXPECT_EQ(nodes[5].path, kUserScope);
  EXPECT_EQ(nodes[0].pids, (std::vector<pid_t>{1, 2}));
  EXPECT_TRUE(nodes[5].has_processes);
  EXPECT_FALSE(nodes[4].has_processes);
  EXPECT_EQ(nodes[3].subtree, (std::vector<std::string>{"cpu", "memory", "pids"}));
  EXPECT_FALSE(nodes[2].writable);
  EXPECT_TRUE(nodes[3].writable);
  EXPECT_TRUE(nodes[5].writable);
}

TEST_F(TreeTest, RootlessPlanOnTheFixtureTree) {
  PlacementPlan p = plan_placement(read_cgroup_path(mount_.get(), kUserScope, uid_),
                                   request(uid_, {"cpu", "memory"}, {"pids"}));
  EXPECT_EQ(p.leaf, kUserService + "/app.slice/cgprof/r1");
}

TEST_F(TreeTest, SessionScopeIsNotDelegated) {
  std::string err =
      error_of(read_cgroup_path(mount_.get(), "user.slice/user-1000.slice/session-3.scope", uid_),
               request(uid_, {"cpu"}));
  EXPECT_NE(err.find("is not delegated"), std::string::npos) << err;
}

TEST_F(TreeTest, RootPlanOnTheFixtureTree) {
  PlacementPlan p = plan_placement(
      read_cgroup_path(mount_.get(), "user.slice/user-1000.slice/session-3.scope", 0),
      request(0, {"cpu", "io", "memory"}));
  EXPECT_EQ(p.leaf, "user.slice/user-1000.slice/cgprof/r1");
  // user-1000.slice lacks io in its subtree_control: we add it there, then in cgprof.
  EXPECT_EQ(p.enable_in, (std::vector<std::string>{"user.slice/user-1000.slice",
                                                   "user.slice/user-1000.slice/cgprof"}));
}

TEST_F(TreeTest, MissingCgroupNamesThePath) {
  try {
    read_cgroup_path(mount_.get(), "user.slice/gone.scope", 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("/user.slice/gone.scope"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace cgprof
