#include <fcntl.h>
#include <gtest/gtest.h>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"
#include "cgprof/sys.hpp"

namespace cgprof::sandbox {
namespace {

class PasswdFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = open_at(AT_FDCWD, SANDBOX_FIXTURES "/rootfs", O_PATH | O_DIRECTORY);
  }
  UniqueFd fd_;
};

TEST(ParsePasswd, SkipsCommentsAndMalformedLines) {
  auto e = parse_passwd("# x\nroot:x:0:0:root:/root:/bin/sh\nbad\nu:x:a:1::/:\nv:x:5:6\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].name, "root");
  EXPECT_EQ(e[0].home, "/root");
  EXPECT_EQ(e[1].uid, 5u);
  EXPECT_EQ(e[1].gid, 6u);
  EXPECT_EQ(e[1].home, "");
}

TEST(ParseGroup, Members) {
  auto g = parse_group("users:x:100:alice,bob\nempty:x:7:\n");
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].members, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_TRUE(g[1].members.empty());
}

TEST_F(PasswdFixture, NameResolvesUidGidHomeAndGroups) {
  ResolvedUser u = resolve_user_in_rootfs(fd_.get(), "alice");
  EXPECT_EQ(u.uid, 1000u);
  EXPECT_EQ(u.gid, 1000u);
  EXPECT_EQ(u.home, "/home/alice");
  EXPECT_EQ(u.supplementary_gids, (std::vector<gid_t>{1000, 100, 44}));
}

TEST_F(PasswdFixture, ExplicitGroupByNameOrNumber) {
  ResolvedUser u = resolve_user_in_rootfs(fd_.get(), "bob:staff");
  EXPECT_EQ(u.uid, 1001u);
  EXPECT_EQ(u.gid, 50u);
  EXPECT_EQ(u.supplementary_gids, (std::vector<gid_t>{50, 100, 29}));
  u = resolve_user_in_rootfs(fd_.get(), "1001:7");
  EXPECT_EQ(u.gid, 7u);
}

TEST_F(PasswdFixture, NumericUidWithoutEntryGetsGidZeroLikeDocker) {
  ResolvedUser u = resolve_user_in_rootfs(fd_.get(), "4242");
  EXPECT_EQ(u.uid, 4242u);
  EXPECT_EQ(u.gid, 0u);
  EXPECT_EQ(u.home, "/");
  EXPECT_EQ(resolve_user_in_rootfs(fd_.get(), "").uid, 0u);
  EXPECT_EQ(resolve_user_in_rootfs(fd_.get(), "").home, "/root");
}

TEST_F(PasswdFixture, UnknownNamesAreClearErrors) {
  try {
    resolve_user_in_rootfs(fd_.get(), "carol");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"carol\": no such user in the rootfs's /etc/passwd"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(resolve_user_in_rootfs(fd_.get(), "alice:nogroup"), Error);
  EXPECT_THROW(resolve_user_in_rootfs(fd_.get(), "alice:"), Error);
  EXPECT_THROW(resolve_user_in_rootfs(fd_.get(), ":1"), Error);
  EXPECT_THROW(resolve_user_in_rootfs(fd_.get(), "4294967295"), Error);  // (uid_t)-1
}

TEST(PasswdEscape, ASymlinkedEtcNeverReadsTheHostsFiles) {
  // evil-rootfs/etc -> /../../../../../etc: inside the root that is the link itself, not the
  // host's /etc, so "root" must not be found (the host has a root user).
  UniqueFd fd = open_at(AT_FDCWD, SANDBOX_FIXTURES "/evil-rootfs", O_PATH | O_DIRECTORY);
  bool found = false;
  try {
    found = resolve_user_in_rootfs(fd.get(), "root").uid == 0;
  } catch (const Error&) {
  }
  EXPECT_FALSE(found);
}

}  // namespace
}  // namespace cgprof::sandbox
