#include "run_output.hpp"

#include <unistd.h>

#include <cstdio>
#include <mutex>

#include "cgprof/report.hpp"
#include "cgprof/result.hpp"

namespace cgprof::cli {
namespace {

class StderrObserver final : public run::RunObserver {
 public:
  void message(Kind kind, const std::string& text) override {
    std::lock_guard<std::mutex> g(mu_);
    clear_live();
    const char* prefix = kind == Kind::notice    ? "cgprof: notice: "
                         : kind == Kind::warning ? "cgprof: warning: "
                         : kind == Kind::step    ? ""
                                                 : "cgprof: ";
    std::fprintf(stderr, "%s%s\n", prefix, text.c_str());
  }
  bool wants_live() const override { return ::isatty(STDERR_FILENO) == 1; }
  void live(const std::string& line) override {
    std::lock_guard<std::mutex> g(mu_);
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    live_shown_ = true;
  }
  void live_end() override {
    std::lock_guard<std::mutex> g(mu_);
    std::fputs("\r\033[K", stderr);
    live_shown_ = false;
  }
  void run_finished(const RunResult& r, const std::string& out_dir) override {
    std::lock_guard<std::mutex> g(mu_);
    clear_live();
    std::fputs(format_summary(r).c_str(), stderr);
    std::fprintf(stderr, "cgprof: results in %s\n", out_dir.c_str());
  }
  void phases(const PhasesResult& p) override {
    std::lock_guard<std::mutex> g(mu_);
    std::fputs(format_phase_table(p).c_str(), stderr);
  }
  void series_finished(const analysis::Aggregate* agg, std::size_t measured, unsigned planned,
                       const std::string& path) override {
    std::lock_guard<std::mutex> g(mu_);
    if (!agg) {
      std::fputs("cgprof: no measured run succeeded; no aggregate written\n", stderr);
      return;
    }
    std::fputs(report::format_aggregate(*agg).c_str(), stderr);
    std::fprintf(stderr, "cgprof: %zu of %u runs aggregated in %s\n", measured, planned,
                 path.c_str());
  }

 private:
  // A message while the live line shows starts on a cleared line.
  void clear_live() {
    if (live_shown_) std::fputs("\r\033[K", stderr);
    live_shown_ = false;
  }
  std::mutex mu_;
  bool live_shown_ = false;
};

}  // namespace

run::RunObserver& stderr_observer() {
  static StderrObserver observer;
  return observer;
}

}  // namespace cgprof::cli
