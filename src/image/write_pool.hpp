// A few threads that create a layer's regular files while the reader goes on with the tar stream
// (src/image/apply.cpp). Creating a file on a disk filesystem costs the kernel hundreds of
// microseconds (journal, inode and block allocation: 400-650 us per openat on the benchmark's
// ext4); several creations at once use the other cores and overlap the waits.
//
// Each job is keyed by the place it creates (see apply.cpp: parent directory identity + name), so
// the reader can wait for the one job at a place before it touches that place again; belongs to a
// group (its directory), whose jobs run on one thread, in order, while any is pending, because
// creations in one directory from several threads only queue on the directory's lock; and costs
// bytes (the content it holds), so memory stays bounded. The first job that throws fails the pool:
// the jobs still queued are dropped, and the error is rethrown by the next submit, wait or drain.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
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

  explicit WritePool(Limits limits);
  WritePool() : WritePool(Limits{}) {}
  // Drops the queued jobs, lets the running ones finish and joins the threads.
  ~WritePool();
  WritePool(const WritePool&) = delete;
  WritePool& operator=(const WritePool&) = delete;

  // Queues job after any job with the same key (which must be done first: the later entry wins),
  // on the thread running its group if any job of the group is pending, else on the least busy
  // thread (started if none is idle, up to limits.threads). Blocks while the limits would be
  // exceeded; a job costing more than max_bytes runs alone.
  void submit(const std::string& key, const std::string& group, size_t bytes, Job job);
  // Returns once no job with this key is queued or running.
  void wait(const std::string& key);
  // Returns once no job is queued or running.
  void drain();
  // Rethrows the first job's error, if one failed (after the running jobs finish); else returns
  // at once. The reader calls it at every entry, so a failed write (ENOSPC) stops the layer there
  // instead of at the next submit or wait, which may be far on.
  void check();
  // The most bytes held at once so far (the limit is checked by the tests).
  size_t peak_bytes() const;

 private:
  struct Queued {
    std::string key;
    std::string group;
    size_t bytes;
    Job job;
  };
  struct Worker {
    std::deque<Queued> queue;
    std::condition_variable work;  // a job is queued, or stop
    size_t pending = 0;            // queued and running
    std::thread thread;
  };

  struct Group {
    Worker* worker;
    size_t pending;
  };

  Worker& worker_for(const std::string& group);
  void run(Worker& w);
  void finished(const Queued& q, Worker& w);
  void drop_queued();
  void wait_until(std::unique_lock<std::mutex>& lock, const std::function<bool()>& done);

  const Limits limits_;
  mutable std::mutex mu_;
  std::condition_variable done_;                   // to the reader: a job finished
  std::vector<std::unique_ptr<Worker>> workers_;   // started as needed
  std::unordered_map<std::string, Group> groups_;  // those with a pending job
  std::unordered_set<std::string> keys_;           // of the queued and running jobs
  size_t jobs_ = 0;                                // queued and running
  size_t bytes_ = 0;
  size_t peak_bytes_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};  // error_ is set: check() without the lock
};

}  // namespace cgprof::image
