// The rootfs is never modified, writes stay inside, volumes and the read-only mode.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "cgprof/sys.hpp"
#include "harness.hpp"

namespace sandbox_test {
namespace {

class Filesystem : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override { REQUIRE_MODE(GetParam()); }
};

TEST_P(Filesystem, RootfsIsByteForByteUnchangedAfterWritesAndDeletes) {
  const std::string before = tree_digest(rootfs(GetParam()));
  ASSERT_FALSE(before.empty());
  RunResult r =
      run(GetParam(),
          {"sh", "-c",
           "set -e; echo more >> /etc/passwd; rm /bin/ls; rm -r /home/user; "
           "mkdir -p /new/dir; echo x > /new/dir/f; chmod 600 /etc/group; "
           "ln -s /x /bin/newlink; touch /bin/busybox; mv /etc/hostname.x /y 2>/dev/null || true; "
           "ls /new/dir; test ! -e /bin/ls"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "f\n");
  EXPECT_EQ(tree_digest(rootfs(GetParam())), before);
  // And the next run sees none of it.
  r = run(GetParam(), {"sh", "-c", "test -e /bin/ls && test ! -e /new && tail -1 /etc/passwd"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.find("more"), std::string::npos);
}

TEST_P(Filesystem, WritesOutsideTheRootfsAreImpossible) {
  std::string dir = temp_dir();
  ASSERT_FALSE(dir.empty());
  // The host directory's path means nothing inside; even ../.. stays inside the new root.
  RunResult r = run(GetParam(), {"sh", "-c",
                                 "mkdir -p " + dir + " && echo x > " + dir +
                                     "/escaped; "
                                     "echo y > /../../../.." +
                                     dir +
                                     "/escaped2; "
                                     "echo z > /proc/1/root" +
                                     dir + "/escaped3; ls " + dir});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(cgprof::read_file_or_empty(dir + "/escaped"), "");
  EXPECT_NE(access((dir + "/escaped").c_str(), F_OK), 0);
  EXPECT_NE(access((dir + "/escaped2").c_str(), F_OK), 0);
  EXPECT_NE(access((dir + "/escaped3").c_str(), F_OK), 0);
  rmdir(dir.c_str());
}

TEST_P(Filesystem, AVolumeTargetBehindASymlinkStaysInside) {
  // rootfs copy with /evil -> /../../../<hostdir> (and that path also existing inside): the mount
  // point must be created inside, never in the host's directory of the same name.
  // Not under /tmp: the container's /tmp is a fresh tmpfs, so the inside twin would be hidden.
  char tmpl[] = "/var/tmp/cgprof-sandbox-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string host = tmpl;
  std::string src = temp_dir();
  std::string root = temp_dir() + "/rootfs";
  const std::string setup = "cp -a " + rootfs(GetParam()) + " " + root + " && ln -s /../../.." +
                            host + " " + root + "/evil && mkdir -p " + root + host +
                            " && chown -hR --reference=" + rootfs(GetParam()) + " " + root;
  ASSERT_EQ(std::system(setup.c_str()), 0);
  RunResult r = run_raw(GetParam(), {"run", "--no-cgroup", "--rootfs", root, "-v", src + ":/evil/mnt", "true"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(access((host + "/mnt").c_str(), F_OK), 0) << "mount point escaped to the host";
  EXPECT_EQ(access((root + host).c_str(), F_OK), 0);
  std::system(("rm -rf " + host + " " + src + " " + root.substr(0, root.size() - 7)).c_str());
}

TEST_P(Filesystem, AVolumeOnADanglingSymlinkCreatesItsTargetInside) {
  // As docker does: `-v SRC:/models` where /models -> /srv/models (missing) and
  // /up -> ../../../<hostdir>/x (missing, escaping): the targets are created inside the
  // container's root, the volume shows through the link, and nothing appears on the host.
  char tmpl[] = "/var/tmp/cgprof-sandbox-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string host = tmpl;
  std::string src = temp_dir();
  { std::ofstream(src + "/weights") << "w\n"; }
  chmod((src + "/weights").c_str(), 0644);
  std::string root = temp_dir() + "/rootfs";
  const std::string setup = "cp -a " + rootfs(GetParam()) + " " + root +
                            " && ln -s /srv/models " + root + "/models && ln -s ../../../.." +
                            host + "/x " + root + "/up && chown -hR --reference=" +
                            rootfs(GetParam()) + " " + root;
  ASSERT_EQ(std::system(setup.c_str()), 0);
  const std::string before = tree_digest(root);
  RunResult r = run_raw(GetParam(), {"run", "--no-cgroup", "--rootfs", root, "-v",
                                     src + ":/models:ro", "-v", src + ":/up/deep", "sh", "-c",
                                     "cat /models/weights /srv/models/weights " +
                                         host + "/x/deep/weights"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "w\nw\nw\n") << r.err;
  EXPECT_NE(access((host + "/x").c_str(), F_OK), 0) << "mount point escaped to the host";
  EXPECT_EQ(tree_digest(root), before) << "the run changed the rootfs";
  std::system(("rm -rf " + host + " " + src + " " + root.substr(0, root.size() - 7)).c_str());
}

TEST_P(Filesystem, VolumesReadWriteAndReadOnly) {
  std::string rw = temp_dir(), ro = temp_dir();
  { std::ofstream(ro + "/data") << "model weights\n"; }
  chmod((ro + "/data").c_str(), 0644);
  RunResult r = run(GetParam(), {"-v", rw + ":/out", "-v", ro + ":/models:ro", "sh", "-c",
                                 "cat /models/data; echo result > /out/r; "
                                 "echo no > /models/x || echo ro-refused"});
  EXPECT_EQ(r.out, "model weights\nro-refused\n") << r.err;
  EXPECT_EQ(cgprof::read_file_or_empty(rw + "/r"), "result\n");
  EXPECT_NE(access((ro + "/x").c_str(), F_OK), 0);
  // A single file as a volume.
  r = run(GetParam(), {"-v", ro + "/data:/etc/model.txt:ro", "cat", "/etc/model.txt"});
  EXPECT_EQ(r.out, "model weights\n") << r.err;
  std::system(("rm -rf " + rw + " " + ro).c_str());
}

TEST_P(Filesystem, ReadOnlyModeRefusesWritesButHasTmp) {
  const std::string before = tree_digest(rootfs(GetParam()));
  RunResult r = run(GetParam(), {"--read-only", "sh", "-c",
                                 "touch /etc/x || echo refused; echo ok > /tmp/t && cat /tmp/t"});
  EXPECT_EQ(r.out, "refused\nok\n") << r.err;
  EXPECT_EQ(tree_digest(rootfs(GetParam())), before);
}

TEST_P(Filesystem, GeneratedEtcFilesAndMinimalDev) {
  RunResult r = run(GetParam(), {"--hostname", "h1", "sh", "-c",
                                 "grep -c h1 /etc/hosts; ls /dev | tr '\\n' ' '; "
                                 "echo hi > /dev/null && head -c 4 /dev/zero | wc -c"});
  // cgprof-mark: the phase-mark FIFO ($CGPROF_MARK, docs/SECURITY.md "Phase marks").
  EXPECT_EQ(r.out,
            "1\ncgprof-mark core fd full mqueue null ptmx pts random shm stderr stdin stdout tty "
            "urandom zero 4\n")
      << r.err;
}

INSTANTIATE_TEST_SUITE_P(Modes, Filesystem,
                         ::testing::Values(Mode::kRoot, Mode::kRootlessSubuid,
                                           Mode::kRootlessSingle),
                         mode_name);

}  // namespace
}  // namespace sandbox_test
