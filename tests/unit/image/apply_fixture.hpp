// The fixture of the layer application tests: a scratch rootfs next to a canary directory that
// no layer may touch (checked after each test).
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "apply.hpp"
#include "cgprof/error.hpp"
#include "cgprof/image.hpp"
#include "tar_builder.hpp"

namespace cgprof::image::testing {

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/cgprof-apply-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    top_ = t;
    root_ = top_ + "/rootfs";
    canary_ = top_ + "/canary";
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(canary_.c_str(), 0755), 0);
    std::ofstream(canary_ + "/keep") << "canary";
    rootfd_ = open_at(AT_FDCWD, root_, O_RDONLY | O_DIRECTORY);
  }
  void TearDown() override {
    // Nothing escaped: the canary next to the rootfs is exactly as it was.
    EXPECT_EQ(read(canary_ + "/keep"), "canary");
    struct stat st;
    EXPECT_NE(::lstat((canary_ + "/x").c_str(), &st), 0);
    EXPECT_NE(::lstat((top_ + "/x").c_str(), &st), 0);
    rootfd_.reset();
    remove_tree_at(AT_FDCWD, top_);
  }
  void apply(const std::string& tar) {
    ApplyNotices n;
    apply_tar_bytes(tar.data(), tar.size(), rootfd_.get(), ApplyOptions{::geteuid() != 0}, n);
  }
  std::string error_of(const std::string& tar) {
    try {
      apply(tar);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  static std::string read(const std::string& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  bool exists(const std::string& rel) {
    struct stat st;
    return ::lstat((root_ + "/" + rel).c_str(), &st) == 0;
  }
  mode_t mode(const std::string& rel) {
    struct stat st;
    EXPECT_EQ(::lstat((root_ + "/" + rel).c_str(), &st), 0) << rel;
    return st.st_mode;
  }

  std::string top_, root_, canary_;
  UniqueFd rootfd_;
};

}  // namespace cgprof::image::testing
