#include "write_pool.hpp"

#include <algorithm>
#include <system_error>

#include "cgprof/error.hpp"

namespace cgprof::image {

WritePool::WritePool(Limits limits) : limits_(limits) {
  workers_.reserve(std::max(limits_.threads, 1u));  // so that push_back cannot throw
}

WritePool::~WritePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    drop_queued();
  }
  for (auto& w : workers_) w->work.notify_all();
  for (auto& w : workers_) w->thread.join();
}

void WritePool::submit(const std::string& key, const std::string& group, size_t bytes, Job job) {
  std::unique_lock<std::mutex> lock(mu_);
  wait_until(lock, [&] {
    bool fits = jobs_ == 0 || (jobs_ < limits_.max_jobs && bytes_ + bytes <= limits_.max_bytes);
    return fits && !keys_.count(key);
  });
  Worker& w = worker_for(group);
  w.queue.push_back({key, group, bytes, std::move(job)});
  ++w.pending;
  Group& g = groups_.try_emplace(group, Group{&w, 0}).first->second;
  ++g.pending;
  keys_.insert(key);
  ++jobs_;
  bytes_ += bytes;
  if (bytes_ > peak_bytes_) peak_bytes_ = bytes_;
  lock.unlock();
  w.work.notify_one();
}

void WritePool::wait(const std::string& key) {
  std::unique_lock<std::mutex> lock(mu_);
  wait_until(lock, [&] { return !keys_.count(key); });
}

void WritePool::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  wait_until(lock, [&] { return jobs_ == 0; });
}

void WritePool::check() {
  if (!failed_.load(std::memory_order_acquire)) return;
  std::unique_lock<std::mutex> lock(mu_);
  wait_until(lock, [] { return true; });
}

size_t WritePool::peak_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return peak_bytes_;
}

void WritePool::wait_until(std::unique_lock<std::mutex>& lock, const std::function<bool()>& done) {
  done_.wait(lock, [&] { return error_ || done(); });
  if (!error_) return;
  // A failed job fails the layer; the reader must not go on as if its file were there. The jobs
  // still running finish (a write cannot be interrupted), so nothing writes after this returns.
  done_.wait(lock, [&] { return jobs_ == 0; });
  std::rethrow_exception(error_);
}

WritePool::Worker& WritePool::worker_for(const std::string& group) {
  auto it = groups_.find(group);
  if (it != groups_.end()) return *it->second.worker;
  Worker* least = nullptr;
  for (auto& w : workers_)
    if (!least || w->pending < least->pending) least = w.get();
  if (least && (least->pending == 0 || workers_.size() >= limits_.threads)) return *least;
  auto w = std::make_unique<Worker>();
  try {
    w->thread = std::thread([this, p = w.get()] { run(*p); });
  } catch (const std::system_error& e) {
    // The threads already running will do; with none, nothing would.
    if (!least) throw Error(std::string("cannot start a file writer thread: ") + e.what());
    return *least;
  }
  workers_.push_back(std::move(w));
  return *workers_.back();
}

void WritePool::finished(const Queued& q, Worker& w) {
  keys_.erase(q.key);
  bytes_ -= q.bytes;
  --jobs_;
  --w.pending;
  auto g = groups_.find(q.group);
  if (--g->second.pending == 0) groups_.erase(g);
}

void WritePool::drop_queued() {
  for (auto& w : workers_) {
    for (const Queued& q : w->queue) finished(q, *w);
    w->queue.clear();
  }
}

void WritePool::run(Worker& w) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    w.work.wait(lock, [&] { return stop_ || !w.queue.empty(); });
    if (w.queue.empty()) return;  // stopping
    Queued q = std::move(w.queue.front());
    w.queue.pop_front();
    lock.unlock();
    std::exception_ptr failed;
    try {
      q.job();
    } catch (...) {
      failed = std::current_exception();
    }
    q.job = nullptr;  // frees the content and closes the parent fd before the job counts as done
    lock.lock();
    finished(q, w);
    if (failed && !error_) {
      error_ = failed;
      failed_.store(true, std::memory_order_release);
      drop_queued();
    }
    done_.notify_all();
  }
}

}  // namespace cgprof::image
