// Layer application with regular files written by the writer threads: each ordering hazard of
// src/image/apply.cpp (see its Applier comment), many times over in one layer so that a missing
// wait would show, and a writer's failure failing the whole layer cleanly.
#include <dirent.h>

#include "apply_fixture.hpp"

namespace cgprof::image {
namespace {

using testing::ApplyTest;
using testing::TarBuilder;

constexpr int kRepeats = 200;

std::string nth(const char* prefix, int i) {
  return prefix + std::to_string(i);
}

size_t entries_in(const char* dir) {
  size_t n = 0;
  DIR* d = ::opendir(dir);
  if (!d) return 0;
  while (::readdir(d)) ++n;
  ::closedir(d);
  return n;
}

TEST_F(ApplyTest, ParallelSamePathTwiceLaterEntryWins) {
  TarBuilder t;
  t.dir("d");
  for (int i = 0; i < kRepeats; ++i)
    t.file(nth("d/f", i), "first, longer than the second").file(nth("d/f", i), "second", 0600);
  apply(t.finish());
  for (int i = 0; i < kRepeats; ++i) {
    ASSERT_EQ(read(root_ + "/" + nth("d/f", i)), "second") << i;
    ASSERT_EQ(mode(nth("d/f", i)) & 0777, 0600u) << i;
  }
}

TEST_F(ApplyTest, ParallelSamePathThroughASymlinkLaterEntryWins) {
  // "l/fN" and "d/fN" are one place: the wait is by directory identity, not by path.
  TarBuilder t;
  t.dir("d").symlink("l", "d");
  for (int i = 0; i < kRepeats; ++i) t.file(nth("d/f", i), "first").file(nth("l/f", i), "second");
  apply(t.finish());
  for (int i = 0; i < kRepeats; ++i) ASSERT_EQ(read(root_ + "/" + nth("d/f", i)), "second") << i;
}

TEST_F(ApplyTest, ParallelHardlinkToAFileStillBeingWritten) {
  TarBuilder t;
  t.dir("h");
  for (int i = 0; i < kRepeats; ++i)
    t.file(nth("h/f", i), nth("content ", i)).hardlink(nth("h/l", i), nth("h/f", i));
  apply(t.finish());
  for (int i = 0; i < kRepeats; ++i) {
    struct stat a, b;
    ASSERT_EQ(::stat((root_ + "/" + nth("h/f", i)).c_str(), &a), 0) << i;
    ASSERT_EQ(::stat((root_ + "/" + nth("h/l", i)).c_str(), &b), 0) << i;
    ASSERT_EQ(a.st_ino, b.st_ino) << i;
    ASSERT_EQ(read(root_ + "/" + nth("h/l", i)), nth("content ", i)) << i;
  }
}

TEST_F(ApplyTest, ParallelFileReplacedByDirectoryAndBySymlink) {
  TarBuilder t;
  t.dir("r");
  for (int i = 0; i < kRepeats; ++i) {
    t.file(nth("r/d", i), "file").dir(nth("r/d", i)).file(nth("r/d", i) + "/in", "in");
    t.file(nth("r/s", i), "file").symlink(nth("r/s", i), "elsewhere");
  }
  apply(t.finish());
  for (int i = 0; i < kRepeats; ++i) {
    ASSERT_TRUE(S_ISDIR(mode(nth("r/d", i)))) << i;
    ASSERT_EQ(read(root_ + "/" + nth("r/d", i) + "/in"), "in") << i;
    ASSERT_TRUE(S_ISLNK(mode(nth("r/s", i)))) << i;
  }
}

TEST_F(ApplyTest, ParallelFileUsedAsADirectoryFailsAsInOrder) {
  // In order, "f" is a file when "f/x" comes: the entry fails whatever the writers' timing.
  std::string e = error_of(TarBuilder().file("f", "file").file("f/x", "x").finish());
  EXPECT_NE(e.find("entry f/x"), std::string::npos) << e;
  EXPECT_NE(e.find("Not a directory"), std::string::npos) << e;
  EXPECT_TRUE(S_ISREG(mode("f")));
}

TEST_F(ApplyTest, ParallelWhiteoutRemovesALowerDirectoryWithFilesStillBeingWritten) {
  TarBuilder lower;
  for (int i = 0; i < kRepeats; ++i) lower.file(nth("w/t", i) + "/old", "lower");
  apply(lower.finish());
  // This layer writes into the lower directories, then whites them out: in order, they go.
  TarBuilder upper;
  for (int i = 0; i < kRepeats; ++i)
    upper.file(nth("w/t", i) + "/new", "upper").file(nth("w/.wh.t", i), "");
  apply(upper.finish());
  EXPECT_EQ(entries_in((root_ + "/w").c_str()), 2u);  // . and ..
}

TEST_F(ApplyTest, ParallelOpaqueDirectoryKeepsThisLayersFilesStillBeingWritten) {
  TarBuilder lower;
  for (int i = 0; i < kRepeats; ++i) lower.file(nth("o/old", i), "lower");
  lower.file("o/sub/old", "lower");
  apply(lower.finish());
  TarBuilder upper;
  upper.dir("o/sub");
  for (int i = 0; i < kRepeats; ++i) upper.file(nth("o/new", i), "upper");
  upper.file("o/sub/new", "upper").file("o/.wh..wh..opq", "");
  apply(upper.finish());
  for (int i = 0; i < kRepeats; ++i) {
    ASSERT_EQ(read(root_ + "/" + nth("o/new", i)), "upper") << i;
    ASSERT_FALSE(exists(nth("o/old", i))) << i;
  }
  EXPECT_TRUE(exists("o/sub/new"));
  EXPECT_FALSE(exists("o/sub/old"));
}

TEST_F(ApplyTest, ParallelFileLargerThanTheQueueLimitIsWrittenInOrder) {
  // 17 MiB: more than a queued file may hold, so the reader writes it itself, after the small
  // file queued at the same place.
  std::string big(17 << 20, 'b');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i / 4096 % 26);
  TarBuilder t(20 << 20);
  t.file("big", "small first").file("big", big).file("after", "a");
  apply(t.finish());
  EXPECT_EQ(read(root_ + "/big"), big);
  EXPECT_EQ(read(root_ + "/after"), "a");
}

// A writer fails (an xattr name longer than the kernel accepts: ERANGE, not a "skip" errno).
class ApplyWriterFailureTest : public ApplyTest {
 protected:
  static std::string bad_layer(int files_before, int files_after) {
    TarBuilder t;
    t.dir("many");
    for (int i = 0; i < files_before; ++i) t.file(nth("many/a", i), "x");
    t.xattr("user." + std::string(300, 'n'), "v").file("many/bad", "x");
    for (int i = 0; i < files_after; ++i) t.file(nth("many/b", i), "x");
    return t.finish();
  }
  static size_t threads() { return entries_in("/proc/self/task"); }
  static size_t fds() { return entries_in("/proc/self/fd"); }
};

TEST_F(ApplyWriterFailureTest, FailsTheLayerNamingTheEntryWithNoThreadOrFdLeft) {
  const size_t threads_before = threads(), fds_before = fds();
  std::string e = error_of(bad_layer(kRepeats, kRepeats));
  EXPECT_EQ(e.rfind("entry many/bad: setxattr user.nnn", 0), 0u) << e;
  EXPECT_EQ(threads(), threads_before);
  EXPECT_EQ(fds(), fds_before);
}

TEST_F(ApplyWriterFailureTest, AFailureInTheLastEntryStillFailsTheLayer) {
  std::string e = error_of(bad_layer(kRepeats, 0));
  EXPECT_EQ(e.rfind("entry many/bad: setxattr", 0), 0u) << e;
}

}  // namespace
}  // namespace cgprof::image
