#include "cgprof/sys.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "cgprof/error.hpp"

namespace cgprof {
namespace {

class SysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cgprof-sys-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    dirfd_ = open_at(AT_FDCWD, dir_, O_RDONLY | O_DIRECTORY);
  }
  void TearDown() override {
    unlinkat(dirfd_.get(), "f", 0);
    rmdir(dir_.c_str());
  }
  std::string dir_;
  UniqueFd dirfd_;
};

TEST_F(SysTest, WriteThenReadRoundTrips) {
  UniqueFd f = open_at(dirfd_.get(), "f", O_WRONLY | O_CREAT, 0600);
  f.reset();
  write_file_at(dirfd_.get(), "f", "max 100000\n");
  EXPECT_EQ(read_file_at(dirfd_.get(), "f"), "max 100000\n");
}

TEST_F(SysTest, MissingFileErrorNamesThePath) {
  try {
    read_file_at(dirfd_.get(), "missing.stat");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.sys_errno(), ENOENT);
    EXPECT_NE(e.message().find("missing.stat"), std::string::npos);
  }
}

TEST_F(SysTest, ReadFileOrEmptyGivesTheContentOrNothing) {
  UniqueFd f = open_at(dirfd_.get(), "f", O_WRONLY | O_CREAT, 0600);
  f.reset();
  write_file_at(dirfd_.get(), "f", "cgprof-test:100000:65536\n");
  EXPECT_EQ(read_file_or_empty(dir_ + "/f"), "cgprof-test:100000:65536\n");
  EXPECT_EQ(read_file_or_empty(dir_ + "/missing"), "");
  EXPECT_EQ(read_file_or_empty(dir_), "");  // a directory cannot be read as a file
}

TEST(UniqueFd, ClosesOnDestructionAndMove) {
  int raw;
  {
    UniqueFd a = open_at(AT_FDCWD, "/dev/null", O_RDONLY);
    raw = a.get();
    UniqueFd b = std::move(a);
    EXPECT_FALSE(a);
    EXPECT_EQ(b.get(), raw);
  }
  EXPECT_EQ(fcntl(raw, F_GETFD), -1);
}

}  // namespace
}  // namespace cgprof
