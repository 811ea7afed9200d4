// One profiled run of a resolved workload, and the pieces around it that the series of
// run_workload() shares (src/run private header).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cgprof/cgroup.hpp"
#include "cgprof/device.hpp"
#include "cgprof/run.hpp"
#include "workload.hpp"

namespace cgprof::run {

// The result directory of a run: `output` (created; refused if it holds a run.json already), or
// a new ./cgprof-results/<UTC time>-<device>-<command>[-N] (output_dir.cpp).
std::string make_output_dir(const std::string& output, const std::string& device,
                            const std::vector<std::string>& argv);

// The run's cgroup backend: the one place that chooses it (backend.cpp). v2 or v1 as
// --cgroup-manager and the host's layout say; throws Error (one line: why, and what to do).
std::unique_ptr<CgroupBackend> select_cgroup_backend(const RunRequest& request,
                                                     const DeviceProfile& device,
                                                     const std::string& rootfs);

// The backend's name for run.json's cgroup.backend: "v2", "v1".
std::string cgroup_backend_name(const CgroupBackend& cg);

// Runs `w` once under the request's device and options into `output` (see make_output_dir),
// sampled; writes run.json once on every path after the result directory exists, prints the
// summary. Returns docker's exit code; throws Error when cgprof itself fails.
int run_profiled(const RunRequest& request, const Workload& w, const std::string& output);

// What a null RunObserver means: every report dropped. The entry points (run_workload, an
// experiment's runs) put it in place of null, so nothing below them checks for one.
RunObserver& silent_observer();

// Validates the series options and runs one run or the series (series.cpp).
int run_series(const RunRequest& request, const Workload& w);

}  // namespace cgprof::run
