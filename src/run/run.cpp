// run_workload(): resolve the workload once, then one run or a series of them.
#include "cgprof/run.hpp"

#include "profiled_run.hpp"
#include "workload.hpp"

namespace cgprof::run {

int run_workload(const RunRequest& request) {
  const Workload w = resolve_workload(request);
  return run_series(request, w);
}

}  // namespace cgprof::run
