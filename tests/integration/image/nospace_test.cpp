// A write error stops the unpack at once (issue 12, point 9). The target is a 1 MiB tmpfs mounted
// here; the layer is far bigger. The unpack must fail with ENOSPC having read little of the layer
// blob, whether the reader (a big file, written as it streams) or a writer thread (small files)
// hit the error: "little" is counted in bytes read (/proc/self/io rchar), never in time. Before
// the fix the reader went on to the end of the layer to explain the error. Root only (mount).
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cgprof/error.hpp"
#include "cgprof/image.hpp"
#include "digest.hpp"

namespace cgprof::image {
namespace {

constexpr uint64_t kMiB = 1 << 20;

uint64_t bytes_read_so_far() {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value)
    if (key == "rchar:") return value;
  ADD_FAILURE() << "no rchar in /proc/self/io";
  return 0;
}

// A ustar header for a regular file of `size` bytes.
std::string tar_header(const std::string& name, uint64_t size) {
  std::string h(512, '\0');
  std::memcpy(h.data(), name.data(), name.size());
  std::snprintf(h.data() + 100, 8, "%07o", 0644);
  std::snprintf(h.data() + 108, 8, "%07o", 0);
  std::snprintf(h.data() + 116, 8, "%07o", 0);
  std::snprintf(h.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  std::snprintf(h.data() + 136, 12, "%011o", 1700000000);
  h[156] = '0';
  std::memcpy(h.data() + 257,
              "ustar\0"
              "00",
              8);
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  return h;
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

class NoSpace : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounts a tmpfs: root only";
    char t[] = "/tmp/cgprof-nospace-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    top_ = t;
    full_ = top_ + "/full";
    ASSERT_EQ(::mkdir(full_.c_str(), 0700), 0);
    ASSERT_EQ(::mount("cgprof-test", full_.c_str(), "tmpfs", 0, "size=1m"), 0) << strerror(errno);
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(full_.c_str(), MNT_DETACH);
    if (!top_.empty()) remove_tree_at(AT_FDCWD, top_);
  }

  // An OCI layout whose one uncompressed layer holds `files` files of `size` zero bytes. The blob
  // is sparse: its data costs no disk, but reading it counts in rchar.
  std::string layout(int files, uint64_t size) {
    const std::string dir = top_ + "/img";
    ::mkdir(dir.c_str(), 0755);
    ::mkdir((dir + "/blobs").c_str(), 0755);
    ::mkdir((dir + "/blobs/sha256").c_str(), 0755);
    const std::string tmp = dir + "/layer.tar";
    {
      UniqueFd fd = open_at(AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      uint64_t off = 0;
      for (int i = 0; i < files; ++i) {
        std::string h = tar_header("f" + std::to_string(i), size);
        EXPECT_EQ(::pwrite(fd.get(), h.data(), h.size(), static_cast<off_t>(off)), 512);
        off += 512 + (size + 511) / 512 * 512;
      }
      layer_size_ = off + 1024;
      EXPECT_EQ(::ftruncate(fd.get(), static_cast<off_t>(layer_size_)), 0);
    }
    Sha256 h;
    {
      UniqueFd fd = open_at(AT_FDCWD, tmp, O_RDONLY);
      std::string buf(kMiB, '\0');
      ssize_t n;
      while ((n = ::read(fd.get(), buf.data(), buf.size())) > 0) h.update(buf.data(), size_t(n));
    }
    const std::string layer = h.finish();
    EXPECT_EQ(::rename(tmp.c_str(), (dir + "/blobs/sha256/" + layer.substr(7)).c_str()), 0);
    auto blob = [&](const std::string& text) {
      std::string d = sha256_digest(text);
      write_file(dir + "/blobs/sha256/" + d.substr(7), text);
      return d;
    };
    std::string config = nlohmann::json{{"architecture", "amd64"},
                                        {"os", "linux"},
                                        {"rootfs", {{"type", "layers"}, {"diff_ids", {layer}}}}}
                             .dump();
    std::string manifest = nlohmann::json{
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
          {"digest", blob(config)},
          {"size", config.size()}}},
        {"layers",
         {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
           {"digest", layer},
           {"size",
            layer_size_}}}}}.dump();
    std::string m = blob(manifest);
    write_file(dir + "/index.json",
               nlohmann::json{{"schemaVersion", 2},
                              {"manifests",
                               {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                 {"digest", m},
                                 {"size", manifest.size()}}}}}
                   .dump());
    return dir;
  }

  // Unpacks into the full tmpfs; returns the bytes read meanwhile, expecting ENOSPC.
  uint64_t unpack_expecting_enospc(const std::string& dir) {
    Image img(parse_image_ref(dir), std::nullopt);
    UniqueFd root = open_at(AT_FDCWD, full_, O_RDONLY | O_DIRECTORY);
    UnpackOptions opts;
    const uint64_t before = bytes_read_so_far();
    try {
      img.unpack_into(root.get(), opts);
      ADD_FAILURE() << "unpacked " << layer_size_ << " bytes into a 1 MiB tmpfs";
    } catch (const Error& e) {
      EXPECT_EQ(e.sys_errno(), ENOSPC) << e.what();
      EXPECT_NE(std::string(e.what()).find("layer 1/1"), std::string::npos) << e.what();
    }
    return bytes_read_so_far() - before;
  }

  std::string top_, full_;
  bool mounted_ = false;
  uint64_t layer_size_ = 0;
};

TEST_F(NoSpace, BigFileWrittenByTheReaderStopsTheLayerAtOnce) {
  // One 48 MiB file: written by the reader as it streams, so the first write past 1 MiB fails.
  std::string dir = layout(1, 48 * kMiB);
  uint64_t read = unpack_expecting_enospc(dir);
  EXPECT_LT(read, 16 * kMiB) << "read " << read << " of the " << layer_size_ << "-byte layer";
}

TEST_F(NoSpace, SmallFilesWrittenByTheWriterThreadsStopTheLayerSoon) {
  // 192 files of 1 MiB, queued to the writer threads. The reader can run ahead of them by at most
  // the pool's 64 MiB: after the first ENOSPC it stops at its next entry.
  std::string dir = layout(192, kMiB);
  uint64_t read = unpack_expecting_enospc(dir);
  EXPECT_LT(read, 96 * kMiB) << "read " << read << " of the " << layer_size_ << "-byte layer";
}

}  // namespace
}  // namespace cgprof::image
