#include "cgprof/sys.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

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


TEST_F(SysTest, ReadRegularFileReadsWithinTheCap) {
  UniqueFd f = open_at(dirfd_.get(), "f", O_WRONLY | O_CREAT, 0600);
  f.reset();
  write_file_at(dirfd_.get(), "f", "abc\n");
  EXPECT_EQ(read_regular_file_at(dirfd_.get(), "f", 4), "abc\n");
  try {
    read_regular_file_at(dirfd_.get(), "f", 3);
    FAIL() << "a 4-byte file passed a 3-byte cap";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("over the 3 bytes limit"), std::string::npos) << e.what();
  }
}

TEST_F(SysTest, ReadRegularFileRefusesAFifoWithoutBlocking) {
  ASSERT_EQ(mkfifoat(dirfd_.get(), "f", 0600), 0);
  try {
    read_regular_file_at(dirfd_.get(), "f", 1024);
    FAIL() << "a FIFO was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("f: is a FIFO, not a regular file"), std::string::npos)
        << e.what();
  }
}

TEST_F(SysTest, ReadRegularFileRefusesDevicesAndDirectories) {
  EXPECT_THROW(read_regular_file("/dev/zero", 1 << 20), Error);
  EXPECT_THROW(read_regular_file(dir_, 1 << 20), Error);
}

TEST_F(SysTest, ReadRegularFileNofollowRefusesASymlink) {
  ASSERT_EQ(symlinkat("/dev/zero", dirfd_.get(), "f"), 0);
  EXPECT_THROW(read_regular_file_at(dirfd_.get(), "f", 1 << 20, /*nofollow=*/true), Error);
  // Followed, it still ends at a device and is refused.
  EXPECT_THROW(read_regular_file_at(dirfd_.get(), "f", 1 << 20), Error);
}

}  // namespace
}  // namespace cgprof
