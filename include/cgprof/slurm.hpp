// Experiments on Slurm: the sbatch script of a job array (one task per planned run), the record
// of submissions in OUTPUT/slurm/, and the state of every run from its result directory plus
// what squeue and sacct say. Pure functions of text: the CLI runs sbatch, squeue and sacct.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgprof/report.hpp"

namespace cgprof::report {

// Array task lists as sbatch writes them: {0,1,2,5,7,8} <-> "0-2,5,7-8". Parsing accepts a
// "%N" throttle suffix and ignores it; throws Error naming `what` on anything else.
std::string format_task_list(const std::vector<std::size_t>& tasks);
std::vector<std::size_t> parse_task_list(std::string_view list, const std::string& what);

// The sbatch script for `tasks` (indices into the plan): each task runs
// `CGPROF experiment FILE --output OUTPUT --task $SLURM_ARRAY_TASK_ID`.
struct SlurmScriptInput {
  std::string name;             // the experiment's name (job name "cgprof-NAME")
  std::string experiment_file;  // absolute
  std::string output_dir;       // absolute
  std::string cgprof;           // absolute path of cgprof on the compute nodes
  ExperimentSlurm options;
  std::vector<std::size_t> tasks;
};
std::string slurm_array_script(const SlurmScriptInput& in);

// OUTPUT/slurm/submissions.tsv: one line per sbatch, "JOB_ID<TAB>TASK_LIST<TAB>UTC time".
struct SlurmSubmission {
  std::string job_id;
  std::vector<std::size_t> tasks;
};
std::string submission_line(const SlurmSubmission& s, const std::string& utc_time);
std::vector<SlurmSubmission> parse_submissions(std::string_view text, const std::string& source);

// One array task as squeue (`-h -r -o '%F %K %T'`) or sacct (`-n -P -X -o JobID,State`) lists it.
struct SlurmTaskState {
  std::string job_id;  // the array's job id
  std::size_t task = 0;
  std::string state;  // PENDING, RUNNING, TIMEOUT, ...
};
std::vector<SlurmTaskState> parse_squeue(std::string_view text);
std::vector<SlurmTaskState> parse_sacct(std::string_view text);

// MaxArraySize from `scontrol show config` ("MaxArraySize = 1001"): array task ids must be
// below it. nullopt when the line is missing or malformed.
std::optional<std::size_t> parse_max_array_size(std::string_view scontrol_config);

// The state of one planned run.
enum class CellState {
  done,       // complete result directory (the workload may have exited non-zero)
  running,    // squeue: RUNNING, COMPLETING, CONFIGURING
  pending,    // squeue: PENDING (or another waiting state)
  submitted,  // submitted, no result yet, and squeue could not be asked
  failed,     // submitted, no longer queued, no complete result (time limit, node failure, ...)
  missing,    // never submitted and no complete result
};
const char* cell_state_name(CellState s);
struct CellStatus {
  CellState state = CellState::missing;
  std::string job_id;       // of the latest submission that included it
  std::string slurm_state;  // squeue's or sacct's word, when known
};
// `queue` is nullopt when squeue could not be asked; `accounting` may be empty (no slurmdbd).
std::vector<CellStatus> experiment_cell_status(
    const std::vector<RunDirState>& dirs, const std::vector<SlurmSubmission>& submissions,
    const std::optional<std::vector<SlurmTaskState>>& queue,
    const std::vector<SlurmTaskState>& accounting);

}  // namespace cgprof::report
