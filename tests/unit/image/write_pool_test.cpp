// The writer pool of layer application: order per key, the memory bound, failure and shutdown.
#include "write_pool.hpp"

#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <string>
#include <vector>

#include "cgprof/error.hpp"

namespace cgprof::image {
namespace {

size_t threads() {
  size_t n = 0;
  DIR* d = ::opendir("/proc/self/task");
  while (d && ::readdir(d)) ++n;
  if (d) ::closedir(d);
  return n;
}

TEST(WritePool, JobsWithOneKeyRunInSubmitOrder) {
  std::vector<int> order;  // only touched by the "k" jobs, one at a time
  {
    WritePool pool;
    for (int i = 0; i < 500; ++i) {
      pool.submit("k", "g", 1, [&order, i] { order.push_back(i); });
      pool.submit("other" + std::to_string(i), "g" + std::to_string(i % 7), 1, [] {});
    }
    pool.drain();
  }
  ASSERT_EQ(order.size(), 500u);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(order[i], i);
}

TEST(WritePool, JobsOfOneGroupRunOneAtATimeInOrder) {
  // A group is a directory: creations in one directory from several threads would only queue on
  // its lock.
  std::vector<int> order;
  std::atomic<int> running{0}, most{0};
  {
    WritePool pool;
    for (int i = 0; i < 300; ++i) {
      pool.submit("d/" + std::to_string(i), "d", 1, [&, i] {
        int now = ++running;
        if (now > most) most = now;
        order.push_back(i);
        std::this_thread::yield();
        --running;
      });
      pool.submit("e/" + std::to_string(i), "e" + std::to_string(i % 3), 1, [] {});
    }
    pool.drain();
  }
  EXPECT_EQ(most.load(), 1);
  ASSERT_EQ(order.size(), 300u);
  for (int i = 0; i < 300; ++i) ASSERT_EQ(order[i], i);
}

TEST(WritePool, WaitReturnsOnceTheKeysJobIsDone) {
  WritePool pool;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> done{false};
  pool.submit("slow", "g", 1, [released, &done] {
    released.wait();
    done = true;
  });
  pool.wait("unrelated");  // returns at once
  EXPECT_FALSE(done);
  release.set_value();
  pool.wait("slow");
  EXPECT_TRUE(done);
}

TEST(WritePool, BytesInFlightStayWithinTheLimit) {
  WritePool pool({4, 100, 1000});
  // The first three jobs (three groups) of 30 bytes return only once all three run at once: the
  // limit (100) lets them (a pool that let fewer run would hang here); a fourth would pass it.
  std::latch three(3);
  for (int i = 0; i < 3; ++i)
    pool.submit(std::to_string(i), std::to_string(i), 30, [&three] { three.arrive_and_wait(); });
  std::atomic<size_t> running{0}, most{0};
  for (int i = 3; i < 400; ++i) {
    pool.submit(std::to_string(i), std::to_string(i % 5), 30, [&] {
      size_t now = running += 30;
      size_t m = most;
      while (now > m && !most.compare_exchange_weak(m, now)) {
      }
      std::this_thread::yield();
      running -= 30;
    });
  }
  pool.drain();
  EXPECT_EQ(pool.peak_bytes(), 90u);
  EXPECT_LE(most.load(), 90u);
}

TEST(WritePool, JobsInFlightStayWithinTheLimit) {
  WritePool pool({4, 1 << 20, 2});
  for (int i = 0; i < 100; ++i) pool.submit(std::to_string(i), std::to_string(i), 10, [] {});
  pool.drain();
  EXPECT_LE(pool.peak_bytes(), 20u);
}

TEST(WritePool, AJobLargerThanTheLimitRunsAlone) {
  WritePool pool({4, 100, 1000});
  pool.submit("a", "a", 10, [] {});
  pool.submit("big", "big", 500, [] {});
  pool.submit("b", "b", 10, [] {});
  pool.drain();
  EXPECT_EQ(pool.peak_bytes(), 500u);
}

TEST(WritePool, AFailedJobFailsEveryLaterCallAndDropsTheQueue) {
  WritePool pool({1, 1 << 20, 1000});  // one thread: the queue order is the run order
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> ran_after{0};
  pool.submit("first", "g", 1, [released] {
    released.wait();
    throw Error("entry first: disk on fire");
  });
  for (int i = 0; i < 10; ++i)
    pool.submit(std::to_string(i), std::to_string(i), 1, [&] { ++ran_after; });
  release.set_value();
  try {
    pool.drain();
    FAIL() << "drain did not rethrow";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "entry first: disk on fire");
  }
  EXPECT_EQ(ran_after.load(), 0);
  EXPECT_THROW(pool.submit("later", "g", 1, [] {}), Error);
  EXPECT_THROW(pool.wait("later"), Error);
}

TEST(WritePool, DestructionDropsTheQueueAndJoinsTheThreads) {
  const size_t before = threads();
  {
    WritePool pool({2, 1 << 20, 1000});
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    for (int i = 0; i < 2; ++i)
      pool.submit(std::to_string(i), std::to_string(i), 1, [released] { released.wait(); });
    for (int i = 0; i < 50; ++i) pool.submit("q" + std::to_string(i), "q", 1, [] {});
    EXPECT_EQ(threads(), before + 2);
    release.set_value();
  }  // as when the reader fails
  EXPECT_EQ(threads(), before);
}

TEST(WritePool, StartsNoThreadUntilAJobIsQueued) {
  const size_t before = threads();
  WritePool pool;
  pool.drain();
  EXPECT_EQ(threads(), before);
}

TEST(WritePool, CheckRethrowsTheFirstFailureWithoutASubmit) {
  // The reader calls check() at each entry: a writer's ENOSPC stops it at the next entry, however
  // long it goes without submitting or waiting.
  WritePool pool;
  EXPECT_NO_THROW(pool.check());
  std::promise<void> ran;
  pool.submit("k", "g", 1, [&] {
    ran.set_value();
    throw Error::from_errno("write", "f", ENOSPC);
  });
  ran.get_future().wait();
  bool thrown = false;
  while (!thrown) {  // the failure is recorded just after the job returns
    try {
      pool.check();
      std::this_thread::yield();
    } catch (const Error& e) {
      thrown = true;
      EXPECT_EQ(e.sys_errno(), ENOSPC);
    }
  }
  EXPECT_TRUE(thrown);
}

}  // namespace
}  // namespace cgprof::image
