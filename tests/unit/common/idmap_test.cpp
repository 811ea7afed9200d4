#include "cgprof/idmap.hpp"

#include <gtest/gtest.h>

#include "cgprof/error.hpp"

namespace cgprof {
namespace {

TEST(SubidRange, ByNameOrUidFirstMatchWins) {
  const char* f = "other:100000:65536\nalice:200000:65536\n1000:300000:10\nalice:400000:5\n";
  auto r = find_subid_range(f, "alice", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->start, 200000u);
  EXPECT_EQ(r->count, 65536u);
  r = find_subid_range(f, "nobody-here", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->start, 300000u);
  EXPECT_FALSE(find_subid_range(f, "bob", 1001));
  EXPECT_FALSE(find_subid_range("bob:x:1\nbob:5:0\n", "bob", 1));
}

TEST(IdMapPlan, RootlessWithSubidsUsesHelpersAndMapsAFullRange) {
  IdMapPlan p =
      plan_id_maps(1000, 1000, "alice", "alice:200000:65536\n", "alice:200000:65536\n", true);
  EXPECT_TRUE(p.use_helpers);
  EXPECT_FALSE(p.deny_setgroups);
  EXPECT_EQ(p.uid_lines, (std::vector<std::string>{"0 1000 1", "1 200000 65536"}));
  EXPECT_TRUE(p.maps_uid(0));
  EXPECT_TRUE(p.maps_uid(1000));
  EXPECT_TRUE(p.maps_uid(65536));
  EXPECT_FALSE(p.maps_uid(65537));
  EXPECT_TRUE(p.maps_host_uid(1000));
  EXPECT_TRUE(p.maps_host_uid(200000));
  EXPECT_FALSE(p.maps_host_uid(0));
  EXPECT_FALSE(p.maps_host_uid(999));
}

TEST(IdMapPlan, RootlessWithoutSubidsOrHelpersMapsOnlyItself) {
  for (bool helpers : {true, false}) {
    IdMapPlan p = plan_id_maps(1000, 1001, "alice", helpers ? "" : "alice:1:2\n", "", helpers);
    EXPECT_FALSE(p.use_helpers);
    EXPECT_TRUE(p.deny_setgroups);
    EXPECT_EQ(p.uid_lines, (std::vector<std::string>{"0 1000 1"}));
    EXPECT_EQ(p.gid_lines, (std::vector<std::string>{"0 1001 1"}));
    EXPECT_TRUE(p.maps_uid(0));
    EXPECT_FALSE(p.maps_uid(1));
  }
}

TEST(IdMapPlan, RootMapsItsSubordinateRangeNeverItself) {
  IdMapPlan p = plan_id_maps(0, 0, "root", "root:1000000:65536\n", "0:2000000:65536\n", false);
  EXPECT_EQ(p.uid_lines, std::vector<std::string>{"0 1000000 65536"});
  EXPECT_EQ(p.gid_lines, std::vector<std::string>{"0 2000000 65536"});
  EXPECT_TRUE(p.maps_uid(0));
  EXPECT_TRUE(p.maps_uid(65535));
  EXPECT_FALSE(p.maps_uid(65536));
  EXPECT_FALSE(p.maps_host_uid(0)) << "container root must not be host root";
  EXPECT_FALSE(p.use_helpers);
}

TEST(IdMapPlan, RootWithoutASubordinateRangeIsRefused) {
  try {
    plan_id_maps(0, 0, "root", "alice:200000:65536\n", "root:1000000:65536\n", false);
    FAIL() << "root was mapped without a subordinate range";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/etc/subuid"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cgprof
