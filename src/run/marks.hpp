// The phase marks of one run (include/cgprof/phases.hpp): the FIFO at $CGPROF_MARK and
// --mark-regex, wired into the spec and launch options of the container.
#pragma once

#include <optional>
#include <string>

#include "cgprof/phases.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::run {

struct RunRequest;

class RunMarks {
 public:
  // Serves marks unless --no-marks without --mark-regex; starts the reader thread.
  RunMarks(const RunRequest& o, const sandbox::ProcessSpec& spec,
           const sandbox::LaunchOptions& launch);
  // The spec with $CGPROF_MARK set; the launch options with the FIFO to bind at /dev/cgprof-mark
  // and the output pipes of --mark-regex.
  const sandbox::ProcessSpec& spec() const { return spec_; }
  const sandbox::LaunchOptions& launch() const { return launch_; }
  // After the container started: drop cgprof's copies of the workload's output pipes.
  void started();
  // After the workload exited: the phases, attributed from DIR/SAMPLES_FILE when it is not "".
  // nullopt when no marks were served.
  std::optional<PhasesResult> finish(int64_t exec_ns, int64_t exit_ns, const std::string& dir,
                                     const std::string& samples_file);

 private:
  std::optional<MarkServer> server_;
  sandbox::ProcessSpec spec_;
  sandbox::LaunchOptions launch_;
};

}  // namespace cgprof::run
