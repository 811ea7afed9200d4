// run_workload(): resolve the workload once, then one run or a series of them.
#include "cgprof/run.hpp"

#include "profiled_run.hpp"
#include "workload.hpp"

namespace cgprof::run {

RunObserver& silent_observer() {
  static RunObserver silent;  // every method's default: nothing
  return silent;
}

int run_workload(const RunRequest& request) {
  RunRequest r = request;
  if (!r.observer) r.observer = &silent_observer();
  const Workload w = resolve_workload(r);
  return run_series(r, w);
}

}  // namespace cgprof::run
