// The run library on the host's kernel, as a program other than the CLI uses it
// (include/cgprof/run.hpp): everything a run has to say reaches the caller's RunObserver, and the
// library itself writes nothing on stderr; a series tells its aggregate. As root, on whatever
// cgroup backend the host has (v1 here, v2 in the VM).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include "cgprof/run.hpp"
#include "tests/vm/cgroup/run_vm_common.hpp"

namespace {

using cgprof::run::RunObserver;

struct Recorder : RunObserver {
  std::mutex mu;
  std::vector<std::pair<Kind, std::string>> messages;
  std::vector<std::string> finished_dirs;
  std::vector<int> finished_status;
  int live_lines = 0, live_ends = 0;
  bool live_wanted = false;
  std::size_t series_measured = 0;
  std::string series_path;
  bool series_aggregate = false;

  void message(Kind kind, const std::string& text) override {
    std::lock_guard<std::mutex> g(mu);
    messages.emplace_back(kind, text);
  }
  bool wants_live() const override { return live_wanted; }
  void live(const std::string& line) override {
    std::lock_guard<std::mutex> g(mu);
    if (!line.empty()) ++live_lines;
  }
  void live_end() override { ++live_ends; }
  void run_finished(const cgprof::RunResult& r, const std::string& dir) override {
    finished_dirs.push_back(dir);
    finished_status.push_back(r.exit.status);
  }
  void series_finished(const cgprof::analysis::Aggregate* agg, std::size_t measured, unsigned,
                       const std::string& path) override {
    series_aggregate = agg != nullptr;
    series_measured = measured;
    series_path = path;
  }
};

// Runs `f` with this process's stderr sent to a file; returns what was written there. The
// guard puts stderr back and removes the file also when `f` throws.
template <typename F>
std::string stderr_of(F f) {
  struct Redirect {
    char path[40] = "/tmp/cgprof-runlib-stderr-XXXXXX";
    int file = ::mkstemp(path);
    int saved = (std::fflush(stderr), ::dup(2));
    Redirect() { ::dup2(file, 2); }
    ~Redirect() {
      std::fflush(stderr);
      ::dup2(saved, 2);
      ::close(saved);
      ::close(file);
      ::unlink(path);
    }
  } redirect;
  f();
  std::fflush(stderr);
  std::ifstream in(redirect.path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

cgprof::run::RunRequest request(const std::vector<std::string>& command, const std::string& out,
                                Recorder* rec) {
  cgprof::run::RunRequest r;
  r.rootfs = cgprof_vm::test_rootfs();
  r.command = command;
  r.output = out;
  r.rate_hz = 200;
  r.sandbox.quiet = true;  // the launcher's own one-line notices (sandbox module) off
  r.observer = rec;
  return r;
}

class RunLibrary : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (a run cgroup on this host)";
  }
};

TEST_F(RunLibrary, TheObserverHearsEverythingAndTheLibraryPrintsNothing) {
  Recorder rec;
  rec.live_wanted = true;
  const std::string out = cgprof_vm::fresh_output_dir("runlib");
  cgprof::run::RunRequest r =
      request({"/bin/sh", "-c", "/bin/cpu-burn -d 1.2s 2>/dev/null; exit 3"}, out, &rec);
  r.limits.cpus = "0.5";
  int status = -1;
  const std::string err = stderr_of([&] { status = cgprof::run::run_workload(r); });
  EXPECT_EQ(status, 3);
  EXPECT_EQ(err, "") << "the run library wrote on stderr itself (the workload is silenced)";
  ASSERT_EQ(rec.finished_dirs, std::vector<std::string>{out});
  EXPECT_EQ(rec.finished_status, std::vector<int>{3});
  EXPECT_EQ(cgprof_vm::read_run_json(out)["exit"]["status"], 3);
  // 1.2 s of work at 0.5 CPUs: the live line came (every 500 ms) and was ended once.
  EXPECT_GE(rec.live_lines, 1);
  EXPECT_EQ(rec.live_ends, 1);
  EXPECT_TRUE(cgprof_vm::leftover_cgroups().empty());
}

TEST_F(RunLibrary, NoLiveLineUnlessAskedAndASeriesTellsItsAggregate) {
  Recorder rec;
  const std::string out = cgprof_vm::fresh_output_dir("runlib-series");
  cgprof::run::RunRequest r = request({"/bin/true"}, out, &rec);
  r.repeat = 2;
  int status = -1;
  const std::string err = stderr_of([&] { status = cgprof::run::run_workload(r); });
  EXPECT_EQ(status, 0);
  EXPECT_EQ(err, "");
  EXPECT_EQ(rec.live_lines, 0);
  EXPECT_EQ(rec.live_ends, 0);
  EXPECT_EQ(rec.finished_dirs, (std::vector<std::string>{out + "/run-001", out + "/run-002"}));
  std::vector<std::string> progress;
  for (const auto& [kind, text] : rec.messages)
    if (kind == RunObserver::Kind::info) progress.push_back(text);
  EXPECT_EQ(progress, (std::vector<std::string>{"run 1/2 -> " + out + "/run-001",
                                                "run 2/2 -> " + out + "/run-002"}));
  EXPECT_TRUE(rec.series_aggregate);
  EXPECT_EQ(rec.series_measured, 2u);
  EXPECT_EQ(rec.series_path, out + "/aggregate.json");
  struct stat st;
  EXPECT_EQ(::stat(rec.series_path.c_str(), &st), 0);
}

TEST_F(RunLibrary, WithoutAnObserverNothingIsShown) {
  const std::string out = cgprof_vm::fresh_output_dir("runlib-silent");
  cgprof::run::RunRequest r = request({"/bin/true"}, out, nullptr);
  int status = -1;
  const std::string err = stderr_of([&] { status = cgprof::run::run_workload(r); });
  EXPECT_EQ(status, 0);
  EXPECT_EQ(err, "");
  EXPECT_EQ(cgprof_vm::read_run_json(out)["exit"]["status"], 0);
}

}  // namespace
