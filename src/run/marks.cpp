#include "marks.hpp"

#include <string_view>

#include "cgprof/clock.hpp"
#include "cgprof/run.hpp"

namespace cgprof::run {

RunMarks::RunMarks(const RunRequest& o, const sandbox::ProcessSpec& spec,
                   const sandbox::LaunchOptions& launch)
    : spec_(spec), launch_(launch) {
  if (o.no_marks && o.mark_regex.empty()) return;
  MarkServerOptions mo;
  mo.fifo = !o.no_marks;
  mo.mark_regex = o.mark_regex;
  server_.emplace(mo);
  static_assert(std::string_view(kMarkContainerPath) == sandbox::kMarkDevPath);
  if (mo.fifo) {
    launch_.mark_fifo = server_->fifo_host_path();
    sandbox::set_env(spec_.env, std::string("CGPROF_MARK=") + kMarkContainerPath);
  }
  launch_.stdout_fd = server_->stdout_fd();
  launch_.stderr_fd = server_->stderr_fd();
  server_->start();
}

void RunMarks::started() {
  if (server_) server_->release_container_ends();
}

std::optional<PhasesResult> RunMarks::finish(int64_t exec_ns, int64_t exit_ns,
                                             const std::string& dir,
                                             const std::string& samples_file) {
  if (!server_) return std::nullopt;
  server_->stop();
  uint64_t end = exit_ns > 0 ? static_cast<uint64_t>(exit_ns) : monotonic_ns();
  return record_phases(*server_, static_cast<uint64_t>(exec_ns > 0 ? exec_ns : 0), end, dir,
                       samples_file);
}

}  // namespace cgprof::run
