#include "cgprof/error.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace cgprof {
namespace {

TEST(Error, FromErrnoNamesOperationPathAndReason) {
  Error e = Error::from_errno("openat2", "usr/bin/x", ENOENT);
  EXPECT_EQ(e.message(), "openat2 usr/bin/x: No such file or directory");
  EXPECT_EQ(e.sys_errno(), ENOENT);
  EXPECT_EQ(e.exit_code(), kExitCgprofFailed);
}

TEST(Error, ContextIsPrependedOnTheWayUp) {
  try {
    with_context("applying layer 2/3", [] {
      with_context("sha256:ab12", [] { throw Error("bad tar header"); });
    });
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "applying layer 2/3: sha256:ab12: bad tar header");
  }
}

TEST(Error, WithContextPassesValuesThrough) {
  EXPECT_EQ(with_context("x", [] { return 7; }), 7);
}

TEST(Error, ExitCodeIsKept) {
  Error e("not found", kExitNotFound);
  e.context("run");
  EXPECT_EQ(e.exit_code(), 127);
}

}  // namespace
}  // namespace cgprof
