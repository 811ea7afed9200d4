// The image store's stacked layers on the VM's kernel (Debian's, older than the host's 6.18, where
// tests/integration/image/layers_test.py runs): the image of layers_test (a whiteout, opaque
// directories, a directory deleted and made again, a hardlink to a lower file, overlay xattrs in
// the tar) run from a store on ext4 (layers stacked) and from one on tmpfs (before Linux 6.6 tmpfs
// has no user xattrs: the store's overlay probe fails and the image is stored flat, with a
// notice). Either way the container sees the same tree, and a run as root can replace a
// directory of the image (its tmpfs upper uses trusted.overlay.* xattrs).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "cgprof/sys.hpp"
#include "tests/common/test_env.hpp"

namespace {
namespace fs = std::filesystem;

using cgprof::testing_util::env;

const fs::path kWork = "/tmp/cgprof-image-vm-test";

// Runs a shell command with stdout+stderr to a file; returns (status, output).
std::pair<int, std::string> sh(const std::string& cmd) {
  const fs::path log = kWork / "out.log";
  int st = std::system((cmd + " > " + log.string() + " 2>&1").c_str());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, cgprof::read_file_or_empty(log)};
}

class ImageVm : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = env("CGPROF_SOURCE_DIR");
    bin_ = env("CGPROF_BIN");
    ASSERT_FALSE(src_.empty() || bin_.empty()) << "run through the vm suite";
    fs::remove_all(kWork);
    fs::create_directories(kWork);
    // layers_test.build() writes the two-image layout; it prints what PROBE must output.
    auto [st, out] = sh("cd " + src_ + "/tests/integration/image && python3 -c 'import sys; "
                        "sys.argv = [\"x\", \"" + bin_ + "\"]; import layers_test as t; "
                        "t.build(\"" + kWork.string() + "/img\"); "
                        "open(\"" + kWork.string() + "/probe.sh\", \"w\").write(t.PROBE); "
                        "print(\"|\".join(t.WANT))'");
    ASSERT_EQ(st, 0) << out;
    want_ = out.substr(0, out.find('\n'));
  }
  void TearDown() override { fs::remove_all(kWork); }

  std::string cgprof(const std::string& store, const std::string& args) {
    return "CGPROF_CACHE_DIR=" + store + " " + bin_ + " " + args;
  }
  // The probe's output lines, trailing blanks stripped, joined by '|' as WANT is.
  std::string probe(const std::string& store, const std::string& extra = "") {
    auto [st, out] = sh(cgprof(store, "run -q --no-cgroup " + extra + " -v " + kWork.string() +
                                          "/probe.sh:/probe.sh:ro " + kWork.string() +
                                          "/img:a /bin/sh /probe.sh") +
                        " | sed 's/ *$//' | tr '\\n' '|'");
    EXPECT_EQ(st, 0) << out;
    return out.substr(0, want_.size());
  }

  std::string src_, bin_, want_;
};

TEST_F(ImageVm, LayersStackFromAStoreOnExt4) {
  const std::string store = "/mnt/scratch/cgprof-image-vm-store";
  fs::remove_all(store);
  auto [st, out] = sh(cgprof(store, "image prepare " + kWork.string() + "/img:a"));
  ASSERT_EQ(st, 0) << out;
  EXPECT_NE(out.find(store + "/layers/"), std::string::npos) << out;
  EXPECT_EQ(out.find("flat tree"), std::string::npos) << out;
  EXPECT_EQ(probe(store), want_);
  // --userns private as root is refused for a cached image (tests/integration/image/layers_test.py).
  auto [st2, out2] = sh(cgprof(store, "run -q --no-cgroup " + kWork.string() +
                                          "/img:a /bin/sh -c 'rm -rf /opq && mkdir /opq && ls /'"));
  EXPECT_EQ(st2, 0) << "a root run cannot replace a directory of the image:\n" << out2;
  fs::remove_all(store);
}

TEST_F(ImageVm, AStoreOnTmpfsWithoutUserXattrsFallsBackToAFlatTree) {
  const std::string store = kWork.string() + "/tmpfs-store";  // the VM's root is a tmpfs
  auto [st, out] = sh(cgprof(store, "image prepare " + kWork.string() + "/img:a"));
  ASSERT_EQ(st, 0) << out;
  if (out.find("/layers/") != std::string::npos)
    GTEST_SKIP() << "this kernel's tmpfs has user xattrs (Linux 6.6+): nothing falls back";
  EXPECT_NE(out.find("storing " + kWork.string() + "/img:a as one flat tree"), std::string::npos)
      << out;
  EXPECT_NE(out.find("/images/"), std::string::npos) << out;
  EXPECT_EQ(probe(store), want_);
}

}  // namespace
