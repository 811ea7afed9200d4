// Experiments on Slurm as job arrays (include/cgprof/slurm.hpp): script, submission record and
// cell states, all from and to text.
#include "cgprof/slurm.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <sstream>

#include "cgprof/error.hpp"

namespace cgprof::report {
namespace {

// Single-quoted for bash, whatever the text holds.
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::optional<std::size_t> to_index(std::string_view s) {
  std::size_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (std::size_t from = 0;;) {
    const std::size_t at = s.find(sep, from);
    out.push_back(
        s.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
    if (at == std::string_view::npos) return out;
    from = at + 1;
  }
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  for (std::string_view l : split(text, '\n')) {
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.remove_suffix(1);
    while (!l.empty() && l.front() == ' ') l.remove_prefix(1);
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

// A #SBATCH line holds one option; a newline would end it and start a shell command.
void check_directive(const std::string& value, const char* what) {
  if (value.find_first_of("\n\r") != std::string::npos)
    throw Error(std::string("slurm ") + what + ": a newline cannot go into an #SBATCH line");
}

}  // namespace

std::string format_task_list(const std::vector<std::size_t>& tasks) {
  std::vector<std::size_t> t = tasks;
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  std::string out;
  for (std::size_t i = 0; i < t.size();) {
    std::size_t j = i;
    while (j + 1 < t.size() && t[j + 1] == t[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(t[i]);
    if (j > i) out += "-" + std::to_string(t[j]);
    i = j + 1;
  }
  return out;
}

std::vector<std::size_t> parse_task_list(std::string_view list, const std::string& what) {
  if (auto pct = list.find('%'); pct != std::string_view::npos) list = list.substr(0, pct);
  std::vector<std::size_t> out;
  for (std::string_view part : split(list, ',')) {
    const auto dash = part.find('-');
    const auto lo = to_index(part.substr(0, dash));
    const auto hi = dash == std::string_view::npos ? lo : to_index(part.substr(dash + 1));
    if (!lo || !hi || *hi < *lo || *hi - *lo > 1000000)
      throw Error(what + ": \"" + std::string(list) + "\" is not an array task list like 0-3,5");
    for (std::size_t i = *lo; i <= *hi; ++i) out.push_back(i);
  }
  return out;
}

std::string slurm_array_script(const SlurmScriptInput& in) {
  const ExperimentSlurm& o = in.options;
  std::string job_name = "cgprof-";
  for (char c : in.name)
    job_name +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# Written by `cgprof experiment --slurm`: one array task per run of\n"
    << "# " << in.experiment_file << "\n"
    << "# (task N is runs[N] of " << in.output_dir << "/index.json). See the state of every run,\n"
    << "# and submit again the ones that failed, with\n"
    << "#   cgprof experiment status " << in.output_dir << " [--resubmit-failed]\n"
    << "#SBATCH --job-name=" << job_name << "\n"
    << "#SBATCH --array=" << format_task_list(in.tasks);
  if (o.max_parallel) s << "%" << o.max_parallel;
  s << "\n#SBATCH --output=" << in.output_dir << "/slurm/logs/%A_%a.out\n";
  check_directive(in.output_dir, "output directory");
  auto option = [&s](const char* what, const char* flag, const std::string& value) {
    if (value.empty()) return;
    check_directive(value, what);
    s << "#SBATCH " << flag << value << "\n";
  };
  option("partition", "--partition=", o.partition);
  option("time", "--time=", o.time);
  if (o.cpus_per_task) option("cpus_per_task", "--cpus-per-task=", std::to_string(o.cpus_per_task));
  option("mem", "--mem=", o.mem);
  if (o.exclusive.value_or(false)) s << "#SBATCH --exclusive\n";
  for (const auto& a : o.sbatch_args) option("sbatch_args", "", a);
  s << "exec " << quote(in.cgprof) << " experiment " << quote(in.experiment_file) << " --output "
    << quote(in.output_dir) << " --task \"$SLURM_ARRAY_TASK_ID\"\n";
  return s.str();
}

std::string submission_line(const SlurmSubmission& s, const std::string& utc_time) {
  return s.job_id + "\t" + format_task_list(s.tasks) + "\t" + utc_time + "\n";
}

std::vector<SlurmSubmission> parse_submissions(std::string_view text, const std::string& source) {
  std::vector<SlurmSubmission> out;
  std::size_t line_no = 0;
  for (std::string_view l : split(text, '\n')) {
    ++line_no;
    if (l.empty()) continue;
    const auto f = split(l, '\t');
    const std::string where = source + ": line " + std::to_string(line_no);
    if (f.size() < 2 || !to_index(f[0]))
      throw Error(where + ": expected JOB_ID<TAB>TASK_LIST<TAB>TIME");
    out.push_back({std::string(f[0]), parse_task_list(f[1], where)});
  }
  return out;
}

std::vector<SlurmTaskState> parse_squeue(std::string_view text) {
  std::vector<SlurmTaskState> out;
  for (std::string_view l : lines(text)) {
    std::istringstream in{std::string(l)};
    std::string job, task, state;
    if (!(in >> job >> task >> state)) continue;
    if (auto t = to_index(task)) out.push_back({job, *t, state});  // "N/A": not an array task
  }
  return out;
}

std::vector<SlurmTaskState> parse_sacct(std::string_view text) {
  std::vector<SlurmTaskState> out;
  for (std::string_view l : lines(text)) {
    const auto f = split(l, '|');
    if (f.size() < 2) continue;
    const auto us = f[0].find('_');
    if (us == std::string_view::npos) continue;
    const auto t = to_index(f[0].substr(us + 1));
    if (!t) continue;  // "123_[4-7]": tasks not started yet
    std::string state(f[1]);
    state = state.substr(0, state.find(' '));  // "CANCELLED by 0"
    out.push_back({std::string(f[0].substr(0, us)), *t, state});
  }
  return out;
}

std::optional<std::size_t> parse_max_array_size(std::string_view text) {
  for (std::string_view l : lines(text)) {
    const auto eq = l.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = l.substr(0, eq), value = l.substr(eq + 1);
    while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
    if (key != "MaxArraySize") continue;
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) value.remove_suffix(1);
    return to_index(value);
  }
  return std::nullopt;
}

const char* cell_state_name(CellState s) {
  switch (s) {
    case CellState::done:
      return "done";
    case CellState::running:
      return "running";
    case CellState::pending:
      return "pending";
    case CellState::submitted:
      return "submitted";
    case CellState::failed:
      return "failed";
    case CellState::missing:
      return "missing";
  }
  return "?";
}

std::vector<CellStatus> experiment_cell_status(
    const std::vector<RunDirState>& dirs, const std::vector<SlurmSubmission>& submissions,
    const std::optional<std::vector<SlurmTaskState>>& queue,
    const std::vector<SlurmTaskState>& accounting) {
  std::vector<CellStatus> out(dirs.size());
  for (const auto& sub : submissions)  // later submissions win
    for (std::size_t t : sub.tasks)
      if (t < out.size()) out[t].job_id = sub.job_id;
  std::map<std::pair<std::string, std::size_t>, std::string> queued, accounted;
  if (queue)
    for (const auto& q : *queue) queued[{q.job_id, q.task}] = q.state;
  for (const auto& a : accounting) accounted[{a.job_id, a.task}] = a.state;
  for (std::size_t i = 0; i < out.size(); ++i) {
    CellStatus& c = out[i];
    if (dirs[i].complete) {
      c.state = CellState::done;
      continue;
    }
    if (c.job_id.empty()) {
      c.state = CellState::missing;
      continue;
    }
    if (!queue) {
      c.state = CellState::submitted;
      continue;
    }
    if (auto q = queued.find({c.job_id, i}); q != queued.end()) {
      c.slurm_state = q->second;
      const std::string& s = q->second;
      if (s == "RUNNING" || s == "COMPLETING" || s == "CONFIGURING" || s == "STAGE_OUT")
        c.state = CellState::running;
      else if (s == "PENDING" || s == "REQUEUED" || s == "REQUEUE_HOLD" || s == "RESIZING" ||
               s == "SUSPENDED")
        c.state = CellState::pending;
      else
        c.state = CellState::failed;  // FAILED, TIMEOUT, NODE_FAIL... shown until MinJobAge
      continue;
    }
    c.state = CellState::failed;
    if (auto a = accounted.find({c.job_id, i}); a != accounted.end()) c.slurm_state = a->second;
  }
  return out;
}

}  // namespace cgprof::report
