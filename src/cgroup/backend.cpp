// The cgroup backend for this host's layout (or the one --cgroup-manager forces).
#include <fcntl.h>

#include "cgprof/cgroup.hpp"
#include "cgprof/cgroup_v1.hpp"
#include "cgprof/error.hpp"

namespace cgprof {

std::unique_ptr<CgroupBackend> create_run_cgroup(const RunCgroupOptions& opts) {
  UniqueFd proc = open_at(AT_FDCWD, opts.proc, O_PATH | O_DIRECTORY);
  std::string mountinfo = with_context("finding the cgroup hierarchies",
                                       [&] { return read_file_at(proc.get(), "self/mountinfo"); });
  if (cgroup_version_for(detect_cgroup_layout(mountinfo), opts.manager) == 1)
    return V1RunCgroup::create(opts);
  return std::make_unique<RunCgroup>(RunCgroup::create(opts));
}

}  // namespace cgprof
