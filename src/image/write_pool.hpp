// A few threads that create a layer's regular files while the reader goes on with the tar stream
// (src/image/apply.cpp). On a disk, creating a file is mostly waiting (journal, inode and block
// allocation: 400-650 us per openat on the benchmark's ext4), and several creations in flight
// overlap that wait; CPU is not the point, so a few threads are enough even on 2 cores.
//
// Each job is keyed by the place it creates (see apply.cpp: parent directory identity + name), so
// the reader can wait for the one job at a place before it touches that place again, and costs
// bytes (the content it holds), so memory stays bounded. The first job that throws fails the pool:
// the jobs still queued are dropped, and the error is rethrown by the next submit, wait or drain.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace cgprof::image {

class WritePool {
 public:
  struct Limits {
    unsigned threads = 4;
    size_t max_bytes = size_t{64} << 20;  // held by queued and running jobs together
    size_t max_jobs = 256;                // each job holds its parent directory's fd
  };
  using Job = std::function<void()>;

  explicit WritePool(Limits limits) : limits_(limits) {}
  WritePool() : WritePool(Limits{}) {}
  // Drops the queued jobs, lets the running ones finish and joins the threads.
  ~WritePool();
  WritePool(const WritePool&) = delete;
  WritePool& operator=(const WritePool&) = delete;

  // Queues job after any job with the same key (which must be done first: the later entry wins).
  // Blocks while the limits would be exceeded; a job costing more than max_bytes runs alone.
  // Threads are started as the queue needs them, up to limits.threads.
  void submit(const std::string& key, size_t bytes, Job job);
  // Returns once no job with this key is queued or running.
  void wait(const std::string& key);
  // Returns once no job is queued or running.
  void drain();
  // The most bytes held at once so far (the limit is checked by the tests).
  size_t peak_bytes() const;

 private:
  struct Queued {
    std::string key;
    size_t bytes;
    Job job;
  };

  void run();
  void start_thread_if_needed();
  void drop_queued();
  void wait_until(std::unique_lock<std::mutex>& lock, const std::function<bool()>& done);

  const Limits limits_;
  mutable std::mutex mu_;
  std::condition_variable work_;  // to the threads: a job is queued, or stop
  std::condition_variable done_;  // to the reader: a job finished
  std::deque<Queued> queue_;
  std::unordered_set<std::string> keys_;  // of the queued and running jobs
  size_t jobs_ = 0;                       // queued and running
  size_t bytes_ = 0;
  size_t peak_bytes_ = 0;
  unsigned idle_ = 0;  // threads waiting for a job
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
};

}  // namespace cgprof::image
