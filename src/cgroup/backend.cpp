// The cgroup backend for this host's layout (or the one --cgroup-manager forces), falling back to
// the emulated backend when no cgroup can be created.
#include <fcntl.h>
#include <unistd.h>

#include "cgprof/cgroup.hpp"
#include "cgprof/cgroup_emulated.hpp"
#include "cgprof/cgroup_v1.hpp"
#include "cgprof/error.hpp"

namespace cgprof {

std::vector<Fidelity> CgroupBackend::fidelity() const {
  std::vector<Fidelity> out;
  for (const char* limit : {"cpu", "cpuset", "memory", "pids", "io"})
    out.push_back({"limit", limit, "kernel", "cgroup"});
  for (const char* metric : {"cpu", "throttling", "memory", "io", "pids"})
    out.push_back({"metric", metric, "kernel", "cgroup counters"});
  out.push_back({"metric", "pressure", version() == 2 ? "kernel" : "not available",
                 version() == 2 ? "cgroup counters" : "PSI needs cgroup v2"});
  return out;
}

std::unique_ptr<CgroupBackend> create_run_cgroup(const RunCgroupOptions& opts) {
  UniqueFd proc = open_at(AT_FDCWD, opts.proc, O_PATH | O_DIRECTORY);
  std::string mountinfo = with_context("finding the cgroup hierarchies",
                                       [&] { return read_file_at(proc.get(), "self/mountinfo"); });
  const CgroupLayout layout = detect_cgroup_layout(mountinfo);
  const int version = cgroup_version_for(layout, opts.manager);
  if (version == 0) return EmulatedRunCgroup::create(opts, "--cgroup-manager emulated");
  const bool may_fall_back =
      opts.manager == CgroupManager::kAuto && cgroup_unavailable_to_us(layout, ::geteuid());
  if (version == 1 && may_fall_back) {
    return EmulatedRunCgroup::create(
        opts, std::string("no cgroup can be created here (not root on a ") + to_string(layout) +
                  " host: cgroup v1 has no delegation)");
  }
  if (version == 1) return V1RunCgroup::create(opts);
  try {
    return std::make_unique<RunCgroup>(RunCgroup::create(opts));
  } catch (const Error& e) {
    if (!may_fall_back) throw;
    return EmulatedRunCgroup::create(
        opts, "no cgroup can be created here (no writable cgroup v2 subtree: " + e.message() + ")");
  }
}

}  // namespace cgprof
