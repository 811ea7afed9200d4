// Which cgroup backend a run uses. One function, so a backend (e.g. the emulated one of issue 17,
// for hosts where no cgroup can be written) plugs in here and nowhere else.
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
  return "v" + std::to_string(cg.version());
}

}  // namespace cgprof::run
