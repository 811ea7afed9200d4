// Which cgroup backend a run uses: create_run_cgroup() picks v2, v1 or emulated (no cgroup can be
// written: limits from user space) from --cgroup-manager and the host; one function, so the run
// path asks nowhere else.
#include "cgprof/cgroup.hpp"
#include "profiled_run.hpp"

namespace cgprof::run {

std::unique_ptr<CgroupBackend> select_cgroup_backend(const RunRequest& request,
                                                     const DeviceProfile& device,
                                                     const std::string& rootfs) {
  RunCgroupOptions cgo;
  cgo.limits = device.limits;
  cgo.rootfs = rootfs;
  cgo.manager = parse_cgroup_manager(request.cgroup_manager);
  return create_run_cgroup(cgo);
}

std::string cgroup_backend_name(const CgroupBackend& cg) {
  return cg.version() == 0 ? "emulated" : "v" + std::to_string(cg.version());
}

}  // namespace cgprof::run
