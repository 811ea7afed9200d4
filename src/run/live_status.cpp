#include "live_status.hpp"

#include <chrono>
#include <string>

#include "cgprof/result.hpp"

namespace cgprof::run {

LiveStatus::LiveStatus(const Sampler& sampler, std::optional<double> quota_cores,
                       RunObserver& observer)
    : sampler_(sampler), quota_(quota_cores), observer_(observer) {
  if (!observer_.wants_live()) return;
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
  observer_.live_end();
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
      observer_.live(format_live_status(prev, cur, quota_, elapsed));
    }
    prev = cur;
  }
}

}  // namespace cgprof::run
