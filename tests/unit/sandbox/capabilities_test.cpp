#include <gtest/gtest.h>
#include <linux/capability.h>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {
namespace {

TEST(Capabilities, DefaultIsDockersFourteen) {
  EXPECT_EQ(default_capabilities(), 0xa80425fbull);
  EXPECT_EQ(capability_names(default_capabilities()),
            "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,CAP_SETUID,"
            "CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_NET_RAW,CAP_SYS_CHROOT,CAP_MKNOD,"
            "CAP_AUDIT_WRITE,CAP_SETFCAP");
}

TEST(Capabilities, AddDropWithDockerSpellings) {
  CapSet s = resolve_capabilities({"sys_ptrace", "CAP_NET_ADMIN"}, {"chown", "Kill"});
  EXPECT_TRUE(s & (1ull << CAP_SYS_PTRACE));
  EXPECT_TRUE(s & (1ull << CAP_NET_ADMIN));
  EXPECT_FALSE(s & (1ull << CAP_CHOWN));
  EXPECT_FALSE(s & (1ull << CAP_KILL));
  EXPECT_TRUE(s & (1ull << CAP_SETUID));
}

TEST(Capabilities, AllSemantics) {
  EXPECT_EQ(resolve_capabilities({}, {"ALL"}), 0u);
  EXPECT_EQ(resolve_capabilities({"NET_RAW"}, {"all"}), 1ull << CAP_NET_RAW);
  CapSet all_but_admin = resolve_capabilities({"ALL"}, {"SYS_ADMIN"});
  EXPECT_TRUE(all_but_admin & (1ull << CAP_SYS_MODULE));
  EXPECT_FALSE(all_but_admin & (1ull << CAP_SYS_ADMIN));
}

TEST(Capabilities, UnknownNameIsAnError) {
  try {
    resolve_capabilities({"FLY"}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"FLY\""), std::string::npos);
  }
}

}  // namespace
}  // namespace cgprof::sandbox
