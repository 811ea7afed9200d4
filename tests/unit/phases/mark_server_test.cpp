// The mark server on the host: a FIFO nobody else can find, timestamps on receipt, cleanup.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgprof/clock.hpp"
#include "cgprof/error.hpp"
#include "cgprof/phases.hpp"

namespace cgprof {
namespace {

void write_str(int fd, const std::string& s) {
  ASSERT_EQ(::write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
}

TEST(MarkServer, ReadsMarksFromTheFifoAndRemovesItAfterwards) {
  std::string path, dir;
  uint64_t before = monotonic_ns();
  {
    MarkServer server(MarkServerOptions{});
    path = server.fifo_host_path();
    dir = path.substr(0, path.rfind('/'));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0622u);
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0711u);  // traversable, not listable
    ASSERT_EQ(::stat(dir.substr(0, dir.rfind('/')).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0711u);
    server.start();
    int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    write_str(fd, "load\ninfer\n");
    write_str(fd, "-\npartial");
    ::close(fd);
    server.stop();
    const MarkLog& log = server.log();
    ASSERT_EQ(log.marks().size(), 4u);
    EXPECT_EQ(log.names()[2], "partial");
    EXPECT_GE(log.marks()[0].t_ns, before);
    EXPECT_LE(log.marks()[3].t_ns, monotonic_ns());
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
  EXPECT_NE(::access(dir.c_str(), F_OK), 0);
}

TEST(MarkServer, RegexNeedsACaptureGroupAndMustParse) {
  MarkServerOptions o;
  o.fifo = false;
  o.mark_regex = "^PHASE \\w+";
  EXPECT_THROW(MarkServer{o}, Error);
  o.mark_regex = "(";
  EXPECT_THROW(MarkServer{o}, Error);
}

TEST(MarkServer, RegexMarksFromOutputThatIsPassedThrough) {
  int sink[2];
  ASSERT_EQ(::pipe(sink), 0);
  int saved = ::dup(STDOUT_FILENO);
  ASSERT_GE(::dup2(sink[1], STDOUT_FILENO), 0);
  MarkServerOptions o;
  o.fifo = false;
  o.mark_regex = "^PHASE (\\w+|-)";
  {
    MarkServer server(o);
    ::dup2(saved, STDOUT_FILENO);  // the server keeps its own copy of the sink
    ::close(saved);
    EXPECT_EQ(server.fifo_host_path(), "");
    server.start();
    write_str(server.stdout_fd(), "hello\nPHASE load\n");
    write_str(server.stderr_fd(), "PHASE -\n");
    server.release_container_ends();
    server.stop();
    const MarkLog& log = server.log();
    ASSERT_EQ(log.marks().size(), 2u);
    EXPECT_EQ(log.names()[0], "load");
    EXPECT_EQ(log.marks()[1].name, MarkLog::kEnd);
  }
  ::close(sink[1]);
  char buf[64] = {};
  ssize_t n = ::read(sink[0], buf, sizeof buf - 1);
  ::close(sink[0]);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "hello\nPHASE load\n");
}

}  // namespace
}  // namespace cgprof
