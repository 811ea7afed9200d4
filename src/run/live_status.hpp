// The live status line of a run: every 500 ms, rates between the sampler's last two samples, to
// the observer (only when it wants_live(): the CLI's does when stderr is a terminal).
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "cgprof/run.hpp"
#include "cgprof/sampler.hpp"

namespace cgprof::run {

class LiveStatus {
 public:
  LiveStatus(const Sampler& sampler, std::optional<double> quota_cores, RunObserver& observer);
  ~LiveStatus() { stop(); }
  LiveStatus(const LiveStatus&) = delete;
  LiveStatus& operator=(const LiveStatus&) = delete;
  // Ends the line's thread and tells the observer the line has ended.
  void stop();

 private:
  void loop();
  const Sampler& sampler_;
  std::optional<double> quota_;
  RunObserver& observer_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace cgprof::run
