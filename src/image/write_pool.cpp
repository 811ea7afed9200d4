#include "write_pool.hpp"

#include <system_error>

#include "cgprof/error.hpp"

namespace cgprof::image {

WritePool::~WritePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    drop_queued();
  }
  work_.notify_all();
  for (auto& t : threads_) t.join();
}

void WritePool::submit(const std::string& key, size_t bytes, Job job) {
  std::unique_lock<std::mutex> lock(mu_);
  wait_until(lock, [&] {
    bool fits = jobs_ == 0 || (jobs_ < limits_.max_jobs && bytes_ + bytes <= limits_.max_bytes);
    return fits && !keys_.count(key);
  });
  queue_.push_back({key, bytes, std::move(job)});
  keys_.insert(key);
  ++jobs_;
  bytes_ += bytes;
  if (bytes_ > peak_bytes_) peak_bytes_ = bytes_;
  start_thread_if_needed();
  lock.unlock();
  work_.notify_one();
}

void WritePool::wait(const std::string& key) {
  std::unique_lock<std::mutex> lock(mu_);
  wait_until(lock, [&] { return !keys_.count(key); });
}

void WritePool::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  wait_until(lock, [&] { return jobs_ == 0; });
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

void WritePool::start_thread_if_needed() {
  if (queue_.size() <= idle_ || threads_.size() >= limits_.threads) return;
  try {
    threads_.emplace_back([this] { run(); });
  } catch (const std::system_error& e) {
    // The threads already running will get to the job; with none, nothing would.
    if (threads_.empty())
      throw Error(std::string("cannot start a file writer thread: ") + e.what());
  }
}

void WritePool::drop_queued() {
  for (auto& q : queue_) {
    keys_.erase(q.key);
    bytes_ -= q.bytes;
    --jobs_;
  }
  queue_.clear();
}

void WritePool::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    ++idle_;
    work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    --idle_;
    if (queue_.empty()) return;  // stopping
    Queued q = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    std::exception_ptr failed;
    try {
      q.job();
    } catch (...) {
      failed = std::current_exception();
    }
    q.job = nullptr;  // frees the content and closes the parent fd before the job counts as done
    lock.lock();
    keys_.erase(q.key);
    bytes_ -= q.bytes;
    --jobs_;
    if (failed && !error_) {
      error_ = failed;
      drop_queued();
    }
    done_.notify_all();
  }
}

}  // namespace cgprof::image
