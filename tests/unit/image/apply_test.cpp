// Layer application on fixture tars into a scratch rootfs: whiteouts, opaque directories,
// replacements and the escapes that must fail or stay inside.
#include <sys/xattr.h>

#include "apply_fixture.hpp"

namespace cgprof::image {
namespace {

using testing::ApplyTest;
using testing::TarBuilder;

TEST_F(ApplyTest, CreatesTypesModesAndImplicitParents) {
  apply(TarBuilder()
            .file("usr/bin/tool", "bin", 04755)
            .symlink("usr/bin/alias", "tool")
            .hardlink("usr/bin/hard", "usr/bin/tool")
            .dir("ro", 0555)
            .file("ro/inside", "x")
            .fifo("run/pipe")
            .finish());
  EXPECT_EQ(read(root_ + "/usr/bin/tool"), "bin");
  EXPECT_EQ(mode(("usr/bin/tool")) & 07777, 04755u);
  EXPECT_TRUE(S_ISLNK(mode("usr/bin/alias")));
  struct stat a, b;
  ASSERT_EQ(::stat((root_ + "/usr/bin/tool").c_str(), &a), 0);
  ASSERT_EQ(::stat((root_ + "/usr/bin/hard").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(mode("ro") & 07777, 0555u);  // set after its child was written
  EXPECT_TRUE(exists("ro/inside"));
  EXPECT_TRUE(S_ISFIFO(mode("run/pipe")));
  EXPECT_EQ(mode("usr") & 0777, 0755u);  // implicit parent
}

TEST_F(ApplyTest, DirectoryMtimeSurvivesItsChildren) {
  apply(TarBuilder().dir("d").file("d/f", "x").finish());
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1000000000);
}

TEST_F(ApplyTest, WhiteoutHidesLowerLayerOnly) {
  apply(TarBuilder().file("a/lower", "1").dir("a/tree").file("a/tree/deep", "1").finish());
  apply(TarBuilder().file("a/.wh.lower", "").file("a/.wh.tree", "").finish());
  EXPECT_FALSE(exists("a/lower"));
  EXPECT_FALSE(exists("a/tree"));
  EXPECT_FALSE(exists("a/.wh.lower"));
  EXPECT_TRUE(exists("a"));
}

TEST_F(ApplyTest, WhiteoutKeepsSameLayerEntryWhateverTheOrder) {
  apply(TarBuilder().file("a/x", "lower").file("a/y", "lower").finish());
  // x: entry before its whiteout; y: whiteout before the entry.
  apply(TarBuilder()
            .file("a/x", "upper")
            .file("a/.wh.x", "")
            .file("a/.wh.y", "")
            .file("a/y", "upper")
            .finish());
  EXPECT_EQ(read(root_ + "/a/x"), "upper");
  EXPECT_EQ(read(root_ + "/a/y"), "upper");
}

TEST_F(ApplyTest, OpaqueDirectoryRemovesLowerChildrenKeepsThisLayers) {
  apply(TarBuilder()
            .file("o/old", "1")
            .dir("o/sub")
            .file("o/sub/old2", "1")
            .file("keep", "1")
            .finish());
  apply(TarBuilder()
            .file("o/before", "b")
            .dir("o/sub")
            .file("o/sub/new", "n")
            .file("o/.wh..wh..opq", "")
            .file("o/after", "a")
            .finish());
  EXPECT_FALSE(exists("o/old"));
  EXPECT_FALSE(exists("o/sub/old2"));  // a lower directory's content is hidden too
  EXPECT_TRUE(exists("o/sub/new"));
  EXPECT_TRUE(exists("o/before"));
  EXPECT_TRUE(exists("o/after"));
  EXPECT_FALSE(exists("o/.wh..wh..opq"));
  EXPECT_TRUE(exists("keep"));
}

TEST_F(ApplyTest, FileDirSymlinkReplacements) {
  apply(TarBuilder().file("p", "file").dir("q").file("q/child", "c").finish());
  apply(TarBuilder().dir("p").file("p/in", "x").symlink("q", "p").finish());
  EXPECT_TRUE(S_ISDIR(mode("p")));
  EXPECT_TRUE(S_ISLNK(mode("q")));
  apply(TarBuilder().file("p", "file again").file("q", "file from link").finish());
  EXPECT_EQ(read(root_ + "/p"), "file again");
  EXPECT_TRUE(S_ISREG(mode("q")));
}

TEST_F(ApplyTest, RegularFileReplacesHardlinkWithoutWritingThrough) {
  apply(TarBuilder().file("orig", "orig").hardlink("link", "orig").finish());
  apply(TarBuilder().file("link", "new").finish());
  EXPECT_EQ(read(root_ + "/orig"), "orig");
  EXPECT_EQ(read(root_ + "/link"), "new");
}

TEST_F(ApplyTest, OverlayXattrsAreDropped) {
  // The store stacks layers with overlayfs: an image must not set what overlayfs acts on.
  apply(TarBuilder()
            .xattr("trusted.overlay.opaque", "y")
            .xattr("user.overlay.redirect", "/x")
            .file("f", "x")
            .finish());
  char buf[16];
  for (const char* name : {"trusted.overlay.opaque", "user.overlay.redirect"}) {
    EXPECT_LT(::lgetxattr((root_ + "/f").c_str(), name, buf, sizeof buf), 0) << name;
    EXPECT_EQ(errno, ENODATA) << name;
  }
}

TEST_F(ApplyTest, DotDotAndAbsolutePathsFail) {
  std::string e = error_of(TarBuilder().file("../x", "evil").finish());
  EXPECT_NE(e.find("../x"), std::string::npos) << e;
  e = error_of(TarBuilder().file("a/../../x", "evil").finish());
  EXPECT_NE(e.find("escape"), std::string::npos) << e;
  e = error_of(TarBuilder().file("/x", "evil").finish());
  EXPECT_NE(e.find("absolute"), std::string::npos) << e;
}

TEST_F(ApplyTest, SymlinkParentIsFollowedInsideTheRootOnly) {
  // "up" points out of the rootfs; writing through it must land inside.
  apply(TarBuilder().symlink("up", "../..").symlink("abs", "/").finish());
  apply(TarBuilder().file("up/x", "in").file("abs/canary/x", "in").finish());
  EXPECT_EQ(read(root_ + "/x"), "in");
  EXPECT_EQ(read(root_ + "/canary/x"), "in");
}

TEST_F(ApplyTest, HardlinkEscapesFail) {
  EXPECT_NE(error_of(TarBuilder().hardlink("h", "/etc/passwd").finish()).find("absolute"),
            std::string::npos);
  EXPECT_NE(error_of(TarBuilder().hardlink("h", "../canary/keep").finish()).find("escape"),
            std::string::npos);
  std::string e = error_of(TarBuilder().hardlink("h", "missing").finish());
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
}

TEST_F(ApplyTest, HardlinkThroughOutwardSymlinkStaysInside) {
  apply(TarBuilder().symlink("out", "../canary").finish());
  std::string e = error_of(TarBuilder().hardlink("h", "out/keep").finish());
  EXPECT_NE(e.find("out/keep"), std::string::npos) << e;  // resolved in the root: no such file
  EXPECT_FALSE(exists("h"));
}

TEST_F(ApplyTest, WhiteoutEscapesFailOrStayInside) {
  EXPECT_NE(error_of(TarBuilder().file("../.wh.canary", "").finish()).find("escape"),
            std::string::npos);
  apply(TarBuilder().symlink("out", "../canary").finish());
  apply(TarBuilder().file("out/.wh.keep", "").finish());  // resolves to <root>/canary: absent
  // TearDown checks the real canary is intact.
}

TEST_F(ApplyTest, SymlinkLoopFailsNamingTheEntry) {
  std::string e = error_of(TarBuilder().symlink("loop", "loop").file("loop/x", "x").finish());
  EXPECT_NE(e.find("loop/x"), std::string::npos) << e;
}

TEST_F(ApplyTest, TruncatedTarFails) {
  std::string t = TarBuilder().file("big", std::string(100000, 'z')).finish();
  EXPECT_NE(error_of(t.substr(0, 5000)).find("tar"), std::string::npos);
}

}  // namespace
}  // namespace cgprof::image
