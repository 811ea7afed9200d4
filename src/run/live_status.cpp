#include "live_status.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "cgprof/result.hpp"

namespace cgprof::run {

LiveStatus::LiveStatus(const Sampler& sampler, std::optional<double> quota_cores)
    : sampler_(sampler), quota_(quota_cores) {
  if (!::isatty(STDERR_FILENO)) return;
  thread_ = std::thread([this] { loop(); });
}

void LiveStatus::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> g(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::fputs("\r\033[K", stderr);
}

void LiveStatus::loop() {
  auto t0 = std::chrono::steady_clock::now();
  Sample prev = sampler_.latest();
  std::unique_lock<std::mutex> lk(mu_);
  while (!cv_.wait_for(lk, std::chrono::milliseconds(500), [this] { return done_; })) {
    Sample cur = sampler_.latest();
    if (prev.t_ns != 0 && cur.t_ns > prev.t_ns) {
      double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::string line = format_live_status(prev, cur, quota_, elapsed);
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      std::fflush(stderr);
    }
    prev = cur;
  }
}

}  // namespace cgprof::run
