#include "cgprof/sys.hpp"

#include <dirent.h>
#include <sched.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <climits>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

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

// ---- the shared helpers of issue 14: atomic write, mkdir -p, openat2, CPU lists ----

class SysTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cgprof-systree-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    old_umask_ = ::umask(022);
  }
  void TearDown() override {
    ::umask(old_umask_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Names in dir_ (or a subdirectory), without "." and "..".
  std::set<std::string> names(const std::string& sub = "") const {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_ + sub))
      out.insert(e.path().filename().string());
    return out;
  }
  mode_t mode_of(const std::string& path) const {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  std::string dir_;
  mode_t old_umask_ = 022;
};

TEST_F(SysTreeTest, AtomicWriteCreatesTheFileAndLeavesNothingElse) {
  write_file_atomic(dir_ + "/run.json", "{}\n");
  EXPECT_EQ(read_file(dir_ + "/run.json"), "{}\n");
  EXPECT_EQ(mode_of(dir_ + "/run.json"), 0644u);
  EXPECT_EQ(names(), std::set<std::string>{"run.json"});
}

TEST_F(SysTreeTest, AtomicWriteReplacesAndKeepsThePermissionBits) {
  write_file_atomic(dir_ + "/p.toml", "old\n", 0600);
  EXPECT_EQ(mode_of(dir_ + "/p.toml"), 0600u);
  ASSERT_EQ(::chmod((dir_ + "/p.toml").c_str(), 0640), 0);
  write_file_atomic(dir_ + "/p.toml", "new\n");
  EXPECT_EQ(read_file(dir_ + "/p.toml"), "new\n");
  EXPECT_EQ(mode_of(dir_ + "/p.toml"), 0640u);
  EXPECT_EQ(names(), std::set<std::string>{"p.toml"});
}

TEST_F(SysTreeTest, AtomicWriteThatCannotRenameRemovesItsTemporaryFile) {
  // The target is a non-empty directory: the temporary file is written, the rename fails.
  ASSERT_EQ(::mkdir((dir_ + "/out").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir_ + "/out/keep").c_str(), 0755), 0);
  try {
    write_file_atomic(dir_ + "/out", "text");
    FAIL() << "a directory was replaced by a file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir_ + "/out"), std::string::npos) << e.what();
  }
  EXPECT_EQ(names(), std::set<std::string>{"out"});
  EXPECT_EQ(names("/out"), std::set<std::string>{"keep"});
}

TEST_F(SysTreeTest, AtomicWriteThatFailsMidWayRemovesItsTemporaryFileAndKeepsTheOld) {
  write_file_atomic(dir_ + "/f", "old");
  // A file size limit makes the write fail (EFBIG) after the temporary file exists.
  struct sigaction ignore {}, old_action {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);
  struct rlimit old_limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct rlimit small = old_limit;
  small.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  bool threw = false;
  try {
    write_file_atomic(dir_ + "/f", std::string(64 * 1024, 'x'));
  } catch (const Error& e) {
    threw = true;
    EXPECT_EQ(e.sys_errno(), EFBIG) << e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::sigaction(SIGXFSZ, &old_action, nullptr);
  EXPECT_TRUE(threw);
  EXPECT_EQ(names(), std::set<std::string>{"f"});
  EXPECT_EQ(read_file(dir_ + "/f"), "old");
}

TEST_F(SysTreeTest, AtomicWriteIntoAMissingDirectoryNamesTheTemporaryFile) {
  try {
    write_file_atomic(dir_ + "/missing/f", "x");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.sys_errno(), ENOENT);
    EXPECT_NE(std::string(e.what()).find(dir_ + "/missing/.f.tmp-"), std::string::npos)
        << e.what();
  }
}

TEST_F(SysTreeTest, MakeDirectoriesMakesEveryMissingComponent) {
  make_directories(dir_ + "/a/b/c");
  EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/a/b/c"));
  EXPECT_EQ(mode_of(dir_ + "/a"), 0755u);
  EXPECT_EQ(mode_of(dir_ + "/a/b/c"), 0755u);
}

TEST_F(SysTreeTest, MakeDirectoriesAcceptsExistingAndPartialPaths) {
  make_directories(dir_ + "/a/b");
  make_directories(dir_ + "/a/b");  // all there
  make_directories(dir_ + "/a/b/c/d/");  // a and b there; a trailing slash
  make_directories(dir_);  // the whole path exists
  EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/a/b/c/d"));
  EXPECT_EQ(names("/a/b"), std::set<std::string>{"c"});
}

TEST_F(SysTreeTest, MakeDirectoriesGivesTheModeToTheLastComponentOnly) {
  make_directories(dir_ + "/cache/images", 0700);
  EXPECT_EQ(mode_of(dir_ + "/cache"), 0755u);
  EXPECT_EQ(mode_of(dir_ + "/cache/images"), 0700u);
  make_directories(dir_ + "/cache", 0700);  // an existing directory keeps its mode
  EXPECT_EQ(mode_of(dir_ + "/cache"), 0755u);
}

TEST_F(SysTreeTest, MakeDirectoriesNoallocReportsErrnoAndTheFailedPrefix) {
  EXPECT_EQ(make_directories_noalloc((dir_ + "/x//y/").c_str(), 0700), 0);
  EXPECT_EQ(mode_of(dir_ + "/x"), 0755u);
  EXPECT_EQ(mode_of(dir_ + "/x/y"), 0700u);
  write_file_atomic(dir_ + "/f", "");
  size_t failed = 0;
  const std::string below = dir_ + "/f/a/b";
  EXPECT_EQ(make_directories_noalloc(below.c_str(), 0755, &failed), -ENOTDIR);
  EXPECT_EQ(below.substr(0, failed), dir_ + "/f/a");
  EXPECT_EQ(make_directories_noalloc((dir_ + "/f").c_str(), 0755), -ENOTDIR);
  EXPECT_EQ(make_directories_noalloc(std::string(PATH_MAX + 10, 'a').c_str(), 0755),
            -ENAMETOOLONG);
}

TEST_F(SysTreeTest, MakeDirectoriesRefusesAFileInTheWay) {
  write_file_atomic(dir_ + "/file", "");
  try {
    make_directories(dir_ + "/file");
    FAIL() << "a file was taken for a directory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir_ + "/file: exists and is not a directory"),
              std::string::npos)
        << e.what();
  }
  try {
    make_directories(dir_ + "/file/sub");
    FAIL() << "a directory was made below a file";
  } catch (const Error& e) {
    EXPECT_EQ(e.sys_errno(), ENOTDIR) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir_ + "/file/sub"), std::string::npos) << e.what();
  }
}

TEST_F(SysTreeTest, Openat2InRootFollowsLinksInsideTheRootOnly) {
  make_directories(dir_ + "/root/etc");
  write_file_atomic(dir_ + "/root/etc/hostname", "inside\n");
  ASSERT_EQ(::symlink("/etc", (dir_ + "/root/link").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../etc", (dir_ + "/root/up").c_str()), 0);
  UniqueFd root = open_at(AT_FDCWD, dir_ + "/root", O_PATH | O_DIRECTORY);
  for (const char* path : {"link/hostname", "up/hostname", "/etc/hostname"}) {
    UniqueFd fd(openat2_fd(root.get(), path, O_RDONLY, RESOLVE_IN_ROOT));
    ASSERT_TRUE(fd) << path << ": " << std::strerror(errno);
    EXPECT_EQ(pread_all(fd.get()), "inside\n") << path;
    EXPECT_EQ(fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC) << path;
  }
  EXPECT_EQ(openat2_fd(root.get(), "missing", O_RDONLY, RESOLVE_IN_ROOT), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(SysTreeTest, Openat2BeneathRefusesAWayOut) {
  make_directories(dir_ + "/cg");
  ASSERT_EQ(::symlink("/etc/hostname", (dir_ + "/cg/link").c_str()), 0);
  UniqueFd cg = open_at(AT_FDCWD, dir_ + "/cg", O_PATH | O_DIRECTORY);
  EXPECT_EQ(openat2_fd(cg.get(), "../cg", O_RDONLY | O_DIRECTORY, RESOLVE_BENEATH), -1);
  EXPECT_EQ(errno, EXDEV);
  EXPECT_EQ(openat2_fd(cg.get(), "link", O_RDONLY, RESOLVE_BENEATH), -1);
  EXPECT_EQ(errno, EXDEV);
  // Magic links (/proc/self/fd/N) are refused whatever `resolve` says.
  UniqueFd proc = open_at(AT_FDCWD, "/proc/self", O_PATH | O_DIRECTORY);
  const std::string magic = "fd/" + std::to_string(cg.get());
  EXPECT_EQ(openat2_fd(proc.get(), magic.c_str(), O_PATH, 0), -1);
  EXPECT_EQ(errno, ELOOP);
}

TEST(CpuList, ParsesAndFormatsRanges) {
  EXPECT_EQ(parse_cpu_ranges("0-3,6\n"), (std::vector<unsigned>{0, 1, 2, 3, 6}));
  EXPECT_EQ(parse_cpu_ranges("0-0"), std::vector<unsigned>{0});
  EXPECT_EQ(parse_cpu_ranges("6,2,2,0-1"), (std::vector<unsigned>{0, 1, 2, 6}));
  EXPECT_EQ(parse_cpu_ranges(""), std::vector<unsigned>{});
  EXPECT_EQ(format_cpu_ranges({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
  EXPECT_EQ(format_cpu_ranges({6, 2, 4, 5, 7}), "2,4-7");
  EXPECT_EQ(format_cpu_ranges({}), "");
}

TEST(CpuList, OwnAffinityIsTheKernelsMask) {
  std::vector<unsigned> all = own_cpu_affinity();
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  ASSERT_EQ(all.size(), static_cast<size_t>(CPU_COUNT(&set)));
  for (unsigned c : all) EXPECT_TRUE(CPU_ISSET(c, &set)) << c;
  // Narrowed on a thread of its own (affinity is per thread): the helper sees the new mask.
  std::vector<unsigned> narrowed;
  std::thread t([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(all.back(), &one);
    if (sched_setaffinity(0, sizeof one, &one) == 0) narrowed = own_cpu_affinity();
  });
  t.join();
  EXPECT_EQ(narrowed, std::vector<unsigned>{all.back()});
}

TEST(CpuList, RefusesMalformedLists) {
  for (const char* bad : {"3-1", "0,", ",0", "a", "0 - 1", "0-", "-1", "1,,2", "0x1", "1-2-3"})
    EXPECT_FALSE(try_parse_cpu_ranges(bad)) << bad;
  EXPECT_THROW(parse_cpu_ranges("3-1"), Error);
}

TEST(CpuList, OneBoundForEveryCaller) {
  EXPECT_EQ(kMaxCpuId, 8191u);  // the kernel's largest NR_CPUS is 8192
  EXPECT_EQ(parse_cpu_ranges("8191"), std::vector<unsigned>{8191});
  EXPECT_EQ(parse_cpu_ranges("8190-8191").size(), 2u);
  EXPECT_EQ(parse_cpu_ranges("0-8191").size(), 8192u);
  for (const char* over : {"8192", "0-8192", "70000", "4294967296", "99999999999999999999999"})
    EXPECT_FALSE(try_parse_cpu_ranges(over)) << over;
  try {
    parse_cpu_ranges("8192");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "CPU list \"8192\": expected CPU numbers from 0 to 8191 and ranges, like \"0-3,6\"");
  }
}

}  // namespace
}  // namespace cgprof
