// Tar semantics within one layer: the last entry for a path wins (as GNU tar, umoci and containerd
// extract), whatever the types involved; and the layer's size limit, checked at the headers.
#include <sys/stat.h>

#include "apply_fixture.hpp"

namespace cgprof::image {
namespace {

using testing::ApplyTest;
using testing::TarBuilder;

struct stat stat_of(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

TEST_F(ApplyTest, DuplicateDirectoryTakesTheLastEntrysMode) {
  apply(TarBuilder().dir("d", 0700).file("d/f", "x").dir("d", 0751).finish());
  EXPECT_EQ(mode("d") & 07777, 0751u);
  EXPECT_EQ(read(root_ + "/d/f"), "x");  // a directory entry over a directory keeps its content
}

TEST_F(ApplyTest, DuplicateDirectoryTakesTheLastEntrysMtime) {
  apply(TarBuilder().mtime(1111111111).dir("d").mtime(1222222222).dir("d").finish());
  EXPECT_EQ(stat_of(root_ + "/d").st_mtim.tv_sec, 1222222222);
}

TEST_F(ApplyTest, DuplicateDirectoryBeforeItsChildTakesTheLastMode) {
  // The later entry of a parent comes after its child's: modes are still set child first.
  apply(TarBuilder().dir("a", 0755).dir("a/b", 0755).dir("a", 0500).finish());
  EXPECT_EQ(mode("a") & 07777, 0500u);
  EXPECT_EQ(mode("a/b") & 07777, 0755u);
  ::chmod((root_ + "/a").c_str(), 0755);  // so the fixture can remove it
}

TEST_F(ApplyTest, DuplicateRootEntryTakesTheLastMode) {
  apply(TarBuilder().dir(".", 0700).file("f", "x").dir("./", 0750).finish());
  EXPECT_EQ(mode("") & 07777, 0750u);
}

TEST_F(ApplyTest, DuplicateFileTakesTheLastContentAndMode) {
  apply(TarBuilder().file("f", "first", 0600).file("f", "second", 0644).finish());
  EXPECT_EQ(read(root_ + "/f"), "second");
  EXPECT_EQ(mode("f") & 07777, 0644u);
}

TEST_F(ApplyTest, HardlinkKeepsWhatItLinkedWhenItsTargetIsReplacedLater) {
  apply(TarBuilder()
            .file("f", "v1")
            .hardlink("h1", "f")
            .file("f", "v2")
            .hardlink("h2", "f")
            .finish());
  EXPECT_EQ(read(root_ + "/h1"), "v1");
  EXPECT_EQ(read(root_ + "/f"), "v2");
  EXPECT_EQ(stat_of(root_ + "/h2").st_ino, stat_of(root_ + "/f").st_ino);
  EXPECT_NE(stat_of(root_ + "/h1").st_ino, stat_of(root_ + "/f").st_ino);
}

TEST_F(ApplyTest, SymlinkReplacedByDirectoryInOneLayer) {
  apply(TarBuilder().symlink("s", "elsewhere").dir("s", 0710).file("s/x", "in").finish());
  EXPECT_TRUE(S_ISDIR(mode("s")));
  EXPECT_EQ(mode("s") & 07777, 0710u);
  EXPECT_EQ(read(root_ + "/s/x"), "in");
}

TEST_F(ApplyTest, DirectoryReplacedBySymlinkThenDirectoryAgainInOneLayer) {
  apply(TarBuilder()
            .dir("d", 0700)
            .file("d/old", "x")
            .symlink("d", "elsewhere")
            .dir("d", 0750)
            .finish());
  EXPECT_TRUE(S_ISDIR(mode("d")));
  EXPECT_EQ(mode("d") & 07777, 0750u);
  EXPECT_FALSE(exists("d/old"));  // the symlink entry replaced the first directory
}

TEST_F(ApplyTest, DirectoryReplacedByFileInOneLayer) {
  apply(TarBuilder().dir("p").file("p/x", "x").file("p", "now a file").finish());
  EXPECT_EQ(read(root_ + "/p"), "now a file");
}

// The layer limit, on what the headers claim: nothing of the entry past it is written.
TEST_F(ApplyTest, FilesPastTheLayerLimitFailAtTheHeader) {
  std::string tar =
      TarBuilder().file("a", std::string(600, 'a')).file("b", std::string(600, 'b')).finish();
  ApplyOptions o{::geteuid() != 0};
  o.max_file_bytes = 1000;
  o.limit_error = "expands past 1000 B";
  ApplyNotices n;
  try {
    apply_tar_bytes(tar.data(), tar.size(), rootfd_.get(), o, n);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("entry b: expands past 1000 B"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(exists("b"));
}

TEST_F(ApplyTest, FilesWithinTheLayerLimitApply) {
  std::string tar = TarBuilder().file("a", std::string(600, 'a')).finish();
  ApplyOptions o{::geteuid() != 0};
  o.max_file_bytes = 600;
  o.limit_error = "over";
  ApplyNotices n;
  apply_tar_bytes(tar.data(), tar.size(), rootfd_.get(), o, n);
  EXPECT_TRUE(exists("a"));
}

}  // namespace
}  // namespace cgprof::image
