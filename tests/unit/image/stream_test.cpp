// Verified streaming of layer blobs (gzip, zstd, plain) and the archive index.
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <fstream>

#include "cgprof/error.hpp"
#include "cgprof/image.hpp"
#include "digest.hpp"
#include "layer_stream.hpp"
#include "source.hpp"
#include "tar_builder.hpp"

namespace cgprof::image {
namespace {

std::string gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/cgprof-stream-XXXXXX";
    fd_ = UniqueFd(::mkstemp(t));
    path_ = t;
    ::unlink(t);
    // ~3 MiB of uncompressible-ish data so several buffers flow.
    for (int i = 0; i < 3 * 1024 * 1024; ++i) plain_ += static_cast<char>((i * 7919u) >> 5);
  }
  BlobFile blob(const std::string& bytes) {
    EXPECT_EQ(::ftruncate(fd_.get(), 0), 0);
    EXPECT_EQ(::pwrite(fd_.get(), bytes.data(), bytes.size(), 0),
              static_cast<ssize_t>(bytes.size()));
    BlobFile b;
    b.fd = fd_.get();
    b.size = bytes.size();
    return b;
  }
  std::string read_all(LayerStream& s) {
    std::string out;
    for (auto [p, n] = s.next(); n; std::tie(p, n) = s.next()) out.append(p, n);
    return out;
  }
  UniqueFd fd_;
  std::string path_, plain_;
};

TEST_F(StreamTest, HashesBothSides) {
  for (auto c : {Compression::kGzip, Compression::kZstd, Compression::kNone, Compression::kSniff}) {
    std::string packed = c == Compression::kZstd   ? zstd(plain_)
                         : c == Compression::kNone ? plain_
                                                   : gzip(plain_);
    LayerStream s(blob(packed), c, "blob");
    EXPECT_EQ(read_all(s), plain_);
    EXPECT_EQ(s.blob_digest(), sha256_digest(packed));
    EXPECT_EQ(s.diff_id(), sha256_digest(plain_));
    EXPECT_EQ(s.compressed_read(), packed.size());
  }
}

TEST_F(StreamTest, SniffsZstd) {
  LayerStream s(blob(zstd(plain_)), Compression::kSniff, "blob");
  EXPECT_EQ(read_all(s), plain_);
}

TEST_F(StreamTest, TruncatedGzipFailsNamingTheBlob) {
  std::string g = gzip(plain_);
  LayerStream s(blob(g.substr(0, g.size() - 100)), Compression::kGzip,
                "layer 1/1 blob sha256:feed");
  try {
    read_all(s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sha256:feed"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("truncated gzip"), std::string::npos) << e.what();
  }
}

TEST_F(StreamTest, TruncatedZstdFails) {
  std::string z = zstd(plain_);
  LayerStream s(blob(z.substr(0, z.size() / 2)), Compression::kZstd, "b");
  EXPECT_THROW(read_all(s), Error);
}

TEST_F(StreamTest, CorruptGzipFails) {
  std::string g = gzip(plain_);
  for (size_t i = 100; i < 200; ++i) g[i] = static_cast<char>(~g[i]);
  LayerStream s(blob(g), Compression::kGzip, "b");
  EXPECT_THROW(read_all(s), Error);
}

TEST_F(StreamTest, ConcatenatedGzipMembersAreOneStream) {
  LayerStream s(blob(gzip("hello ") + gzip("world")), Compression::kGzip, "b");
  EXPECT_EQ(read_all(s), "hello world");
}

TEST_F(StreamTest, TarIndexFindsLongPaxNamesAndLinks) {
  std::string long_name = "blobs/sha256/" + std::string(150, 'd');
  std::string t = testing::TarBuilder()
                      .file("index.json", "{}")
                      .file(long_name, "payload")
                      .symlink("blobs/sha256/alias", std::string(150, 'd'))
                      .finish();
  blob(t);
  auto idx = index_tar(fd_.get(), "t.tar");
  ASSERT_TRUE(idx.count(long_name));
  EXPECT_EQ(idx[long_name].size, 7u);
  std::string got(7, '\0');
  ASSERT_EQ(::pread(fd_.get(), got.data(), 7, static_cast<off_t>(idx[long_name].offset)), 7);
  EXPECT_EQ(got, "payload");
  EXPECT_EQ(idx["blobs/sha256/alias"].type, '2');
  blob(t.substr(0, 700));  // cut inside the second member
  EXPECT_THROW(index_tar(fd_.get(), "cut.tar"), Error);
  blob(std::string(512, 'x'));
  EXPECT_THROW(index_tar(fd_.get(), "junk.tar"), Error);
}

}  // namespace
}  // namespace cgprof::image
