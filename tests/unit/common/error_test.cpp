#include "cgprof/error.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <new>
#include <stdexcept>

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

TEST(EscapeControl, KeepsTextAndUtf8AndEscapesControls) {
  EXPECT_EQ(escape_control("resnet18 \xc3\xa9"), "resnet18 \xc3\xa9");
  EXPECT_EQ(escape_control("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(escape_control("\x1b[2J"), "\\e[2J");
  EXPECT_EQ(escape_control(std::string("x\0y\x7f", 4)), "x\\x00y\\x7f");
  EXPECT_EQ(escape_control("^PHASE (\\w+)"), "^PHASE (\\w+)");
}

TEST(DescribeException, ErrorKeepsItsExitCodeAndIsEscaped) {
  ErrorLine l = describe_exception(Error("bad value \"x\ny\"", kExitNotFound));
  EXPECT_EQ(l.message, "bad value \"x\\ny\"");
  EXPECT_EQ(l.exit_code, kExitNotFound);
}

TEST(DescribeException, FilesystemErrorNamesThePathFirst) {
  std::filesystem::filesystem_error fe("cannot create directories", std::filesystem::path("/ro/x"),
                                       std::make_error_code(std::errc::read_only_file_system));
  ErrorLine l = describe_exception(fe);
  EXPECT_EQ(l.message.rfind("/ro/x: cannot create directories", 0), 0u) << l.message;
  EXPECT_NE(l.message.find("Read-only file system"), std::string::npos) << l.message;
  EXPECT_EQ(l.message.find("internal error"), std::string::npos);
  EXPECT_EQ(l.exit_code, kExitCgprofFailed);
}

TEST(DescribeException, OtherExceptionsAreInternalErrors) {
  EXPECT_EQ(describe_exception(std::runtime_error("boom")).message, "internal error: boom");
  EXPECT_EQ(describe_exception(std::bad_alloc()).message, "out of memory");
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
