#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "cgprof/error.hpp"
#include "cgprof/image.hpp"
#include "digest.hpp"
#include "manifest.hpp"
#include "secure_fs.hpp"

namespace cgprof::image {
namespace {

class RefTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/cgprof-ref-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
  }
  void TearDown() override { remove_tree_at(AT_FDCWD, dir_); }
  std::string mk(const std::string& name) {
    std::string p = dir_ + "/" + name;
    EXPECT_EQ(::mkdir(p.c_str(), 0755), 0) << p;
    return p;
  }
  std::string dir_;
};

const std::string kDigest = "sha256:" + std::string(64, 'a');

TEST_F(RefTest, PlainDirectoryHasNoSelector) {
  auto p = mk("img");
  ImageRef r = parse_image_ref(p);
  EXPECT_EQ(r.path, p);
  EXPECT_EQ(r.tag, "");
  EXPECT_EQ(r.digest, "");
}

TEST_F(RefTest, TagSplitsAtLastColonAfterSlash) {
  auto p = mk("img");
  ImageRef r = parse_image_ref(p + ":v1.2");
  EXPECT_EQ(r.path, p);
  EXPECT_EQ(r.tag, "v1.2");
}

TEST_F(RefTest, ExistingPathWithColonWins) {
  auto p = mk("a:b");
  mk("a");
  ImageRef r = parse_image_ref(p);
  EXPECT_EQ(r.path, p);
  EXPECT_EQ(r.tag, "");
}

TEST_F(RefTest, ColonInParentDirectoryIsNotATag) {
  mk("x:y");
  std::string p = dir_ + "/x:y/img";
  ASSERT_EQ(::mkdir(p.c_str(), 0755), 0);
  EXPECT_EQ(parse_image_ref(p + ":t").path, p);
  EXPECT_EQ(parse_image_ref(p + ":t").tag, "t");
}

TEST_F(RefTest, DigestSelector) {
  auto p = mk("img");
  ImageRef r = parse_image_ref(p + "@" + kDigest);
  EXPECT_EQ(r.path, p);
  EXPECT_EQ(r.digest, kDigest);
}

TEST_F(RefTest, MalformedDigestIsRejected) {
  auto p = mk("img");
  EXPECT_THROW(parse_image_ref(p + "@sha256:abc"), Error);
  EXPECT_THROW(parse_image_ref(p + "@sha256:" + std::string(64, 'G')), Error);
}

TEST_F(RefTest, ArchiveRepoTagWithColon) {
  std::string f = dir_ + "/img.tar";
  std::ofstream(f) << "x";
  ImageRef r = parse_image_ref(f + ":library/app:1.0");
  EXPECT_EQ(r.path, f);
  EXPECT_EQ(r.tag, "library/app:1.0");
}

TEST_F(RefTest, MissingPathNamesIt) {
  try {
    parse_image_ref(dir_ + "/nope:tag");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope:tag"), std::string::npos) << e.what();
    EXPECT_EQ(e.sys_errno(), ENOENT);
  }
}

TEST(PlatformTest, Parse) {
  Platform p = parse_platform("linux/arm/v7");
  EXPECT_EQ(p.os, "linux");
  EXPECT_EQ(p.architecture, "arm");
  EXPECT_EQ(p.variant, "v7");
  EXPECT_EQ(parse_platform("linux/amd64").str(), "linux/amd64");
  EXPECT_THROW(parse_platform("amd64"), Error);
  EXPECT_THROW(parse_platform("linux/"), Error);
  EXPECT_THROW(parse_platform("/amd64"), Error);
  EXPECT_THROW(parse_platform("linux/arm/v7/x"), Error);
}

TEST(PlatformTest, HostIsLinuxAndKnownArch) {
  Platform p = host_platform();
  EXPECT_EQ(p.os, "linux");
  EXPECT_FALSE(p.architecture.empty());
  EXPECT_NE(p.architecture, "x86_64");  // GOARCH spelling, not uname's
}

const char* kIndex = R"({"manifests":[
  {"digest":"sha256:1","size":1,"platform":{"os":"linux","architecture":"amd64"}},
  {"digest":"sha256:2","size":1,"platform":{"os":"linux","architecture":"arm","variant":"v6"}},
  {"digest":"sha256:3","size":1,"platform":{"os":"linux","architecture":"arm","variant":"v7"}},
  {"digest":"sha256:4","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
  {"digest":"sha256:5","size":1,"platform":{"os":"windows","architecture":"amd64"}}]})";

TEST(SelectPlatformTest, PicksOsArchVariant) {
  EXPECT_EQ(select_platform(kIndex, parse_platform("linux/amd64"), "idx"), 0u);
  EXPECT_EQ(select_platform(kIndex, parse_platform("linux/arm/v7"), "idx"), 2u);
  EXPECT_EQ(select_platform(kIndex, parse_platform("linux/arm64"), "idx"), 3u);
  EXPECT_EQ(select_platform(kIndex, parse_platform("windows/amd64"), "idx"), 4u);
  // No variant asked for: the first arm variant.
  EXPECT_EQ(select_platform(kIndex, parse_platform("linux/arm"), "idx"), 1u);
}

TEST(SelectPlatformTest, NoMatchListsAvailable) {
  try {
    select_platform(kIndex, parse_platform("linux/riscv64"), "idx");
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("linux/riscv64"), std::string::npos) << m;
    EXPECT_NE(m.find("linux/arm/v7"), std::string::npos) << m;
  }
  EXPECT_THROW(select_platform("{}", parse_platform("linux/amd64"), "idx"), Error);
  EXPECT_THROW(select_platform("not json", parse_platform("linux/amd64"), "idx"), Error);
}

TEST(MediaTypeTest, Normalises) {
  EXPECT_EQ(normalise_layer_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(normalise_layer_media_type("application/vnd.oci.image.layer.v1.tar+zstd"),
            "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_EQ(normalise_layer_media_type("application/vnd.oci.image.layer.v1.tar"),
            "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(normalise_layer_media_type("application/vnd.oci.image.layer.v1.tar+bzip2"), "");
}

TEST(ConfigTest, ParsesRunFieldsAndDiffIds) {
  std::vector<std::string> ids;
  Platform p;
  ImageConfig c = parse_image_config(
      R"({"architecture":"arm64","os":"linux","config":{"Entrypoint":["/bin/sh","-c"],"Cmd":["echo hi"],
          "Env":["A=1"],"WorkingDir":"/app","User":"1000:1000"},
          "rootfs":{"type":"layers","diff_ids":[")" +
          kDigest + R"("]}})",
      &ids, &p, "cfg");
  EXPECT_EQ(c.entrypoint, (std::vector<std::string>{"/bin/sh", "-c"}));
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"echo hi"}));
  EXPECT_EQ(c.env, (std::vector<std::string>{"A=1"}));
  EXPECT_EQ(c.working_dir, "/app");
  EXPECT_EQ(c.user, "1000:1000");
  EXPECT_EQ(ids, (std::vector<std::string>{kDigest}));
  EXPECT_EQ(p.architecture, "arm64");
  EXPECT_THROW(parse_image_config(R"({"rootfs":{"diff_ids":["md5:1"]}})", &ids, &p, "cfg"), Error);
  EXPECT_THROW(parse_image_config(R"({"config":{"Cmd":"string"},"rootfs":{}})", &ids, &p, "cfg"),
               Error);
}

TEST(CleanPathTest, NormalisesAndRejectsEscapes) {
  EXPECT_EQ(clean_entry_path("./usr//bin/./x/"), "usr/bin/x");
  EXPECT_EQ(clean_entry_path("./"), "");
  EXPECT_EQ(clean_entry_path("a..b/..c"), "a..b/..c");
  EXPECT_THROW(clean_entry_path("../etc/passwd"), Error);
  EXPECT_THROW(clean_entry_path("usr/../../etc"), Error);
  EXPECT_THROW(clean_entry_path("/etc/passwd"), Error);
}

TEST(DigestTest, Sha256AndValidation) {
  EXPECT_EQ(sha256_digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(is_sha256_digest(kDigest));
  EXPECT_FALSE(is_sha256_digest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(is_sha256_digest("sha256:../" + std::string(61, 'a')));
  EXPECT_FALSE(is_sha256_digest("sha512:" + std::string(64, 'a')));
}

}  // namespace
}  // namespace cgprof::image
