// The live status line of a run on a terminal: every 500 ms, rates between the sampler's last two
// samples, on stderr (nothing when stderr is not a TTY).
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "cgprof/sampler.hpp"

namespace cgprof::run {

class LiveStatus {
 public:
  LiveStatus(const Sampler& sampler, std::optional<double> quota_cores);
  ~LiveStatus() { stop(); }
  LiveStatus(const LiveStatus&) = delete;
  LiveStatus& operator=(const LiveStatus&) = delete;
  // Ends the line's thread and clears the line.
  void stop();

 private:
  void loop();
  const Sampler& sampler_;
  std::optional<double> quota_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace cgprof::run
