#include <gtest/gtest.h>
#include <stdlib.h>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {
namespace {

TEST(ParseVolume, HostContainerAndMode) {
  Volume v = parse_volume("./models:/models");
  EXPECT_EQ(v.host_path, "./models");
  EXPECT_EQ(v.container_path, "/models");
  EXPECT_FALSE(v.read_only);
  EXPECT_TRUE(parse_volume("/data:/data:ro").read_only);
  EXPECT_FALSE(parse_volume("/data:/data:rw").read_only);
  EXPECT_TRUE(parse_volume("/data:/data:rw,ro").read_only);
}

TEST(ParseVolume, RejectsWhatDockerRejects) {
  EXPECT_THROW(parse_volume("/data"), Error);
  EXPECT_THROW(parse_volume(":/data"), Error);
  EXPECT_THROW(parse_volume("/data:"), Error);
  EXPECT_THROW(parse_volume("/data:relative"), Error);
  EXPECT_THROW(parse_volume("/data:/"), Error);
  try {
    parse_volume("/data:/data:z");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"z\""), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), 125);
  }
}

TEST(ParseEnv, AssignmentPassThroughAndUnset) {
  EXPECT_EQ(parse_env_arg("A=1"), "A=1");
  EXPECT_EQ(parse_env_arg("A="), "A=");
  EXPECT_EQ(parse_env_arg("A=b=c"), "A=b=c");
  setenv("CGPROF_UNIT_PASS", "host value", 1);
  EXPECT_EQ(parse_env_arg("CGPROF_UNIT_PASS"), "CGPROF_UNIT_PASS=host value");
  unsetenv("CGPROF_UNIT_UNSET");
  EXPECT_EQ(parse_env_arg("CGPROF_UNIT_UNSET"), std::nullopt);
  EXPECT_THROW(parse_env_arg("=x"), Error);
  EXPECT_THROW(parse_env_arg(""), Error);
}

TEST(ParseEnvFile, CommentsBlankLinesValuesVerbatim) {
  setenv("CGPROF_UNIT_PASS", "p", 1);
  auto env = parse_env_file("# c\n\nA=1\n  B = x y \nCGPROF_UNIT_PASS\nQ=\"quoted\"\r\n", "f");
  ASSERT_EQ(env.size(), 4u);
  EXPECT_EQ(env[0], "A=1");
  EXPECT_EQ(env[1], "B= x y ");
  EXPECT_EQ(env[2], "CGPROF_UNIT_PASS=p");
  EXPECT_EQ(env[3], "Q=\"quoted\"");
}

TEST(ParseEnvFile, ErrorNamesFileAndLine) {
  try {
    parse_env_file("A=1\nbad name=2\n", "my.env");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("my.env: line 2"), std::string::npos) << e.what();
  }
}

TEST(SetEnv, ReplacesByNameOnly) {
  std::vector<std::string> env = {"A=1", "AB=2"};
  set_env(env, "A=3");
  set_env(env, "C=4");
  EXPECT_EQ(env, (std::vector<std::string>{"A=3", "AB=2", "C=4"}));
  ASSERT_NE(find_env(env, "AB"), nullptr);
  EXPECT_EQ(*find_env(env, "AB"), "AB=2");
  EXPECT_EQ(find_env(env, "B"), nullptr);
}

TEST(Hostname, AcceptsRfc1123NamesAndUnderscore) {
  EXPECT_EQ(hostname_problem("cgprof"), "");
  EXPECT_EQ(hostname_problem("pi-4.lab"), "");
  EXPECT_EQ(hostname_problem("build_host7"), "");
  EXPECT_EQ(hostname_problem(std::string(64, 'a')), "");
}

TEST(Hostname, RefusesWhatWouldInjectOrBreakFiles) {
  EXPECT_NE(hostname_problem("x\n10.0.0.1 evil"), "");  // a line injected into /etc/hosts
  EXPECT_NE(hostname_problem("a b"), "");
  EXPECT_NE(hostname_problem("tab\t"), "");
  EXPECT_NE(hostname_problem(""), "");
  EXPECT_NE(hostname_problem(std::string(65, 'a')), "");
  EXPECT_NE(hostname_problem("-lead"), "");
  EXPECT_NE(hostname_problem("a..b"), "");
  EXPECT_NE(hostname_problem("trail."), "");
}

}  // namespace
}  // namespace cgprof::sandbox
