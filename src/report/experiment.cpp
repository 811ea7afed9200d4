// Experiment files: a matrix of workloads x devices x repeats, planned as independent
// `cgprof run` command lines so that any scheduler (this process, a shell loop, a cluster) can
// run them; the index records the plan and what has finished.
#include <toml++/toml.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"
#include "cgprof/report.hpp"

namespace cgprof::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Reader {
  const std::string& source;
  [[noreturn]] void fail(const toml::node* n, const std::string& key,
                         const std::string& why) const {
    std::string where = source;
    if (n && n->source().begin.line) where += ": line " + std::to_string(n->source().begin.line);
    throw Error(where + ": " + key + ": " + why);
  }
  std::string str(const toml::table& t, const std::string& prefix, const char* key,
                  bool required) const {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) fail(&t, prefix + key, "required key is missing; expected a string");
      return "";
    }
    if (!n->is_string()) fail(n, prefix + key, "expected a string");
    return std::string(*n->value<std::string>());
  }
  std::vector<std::string> strings(const toml::table& t, const std::string& prefix,
                                   const char* key) const {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    if (n->is_string()) return {std::string(*n->value<std::string>())};
    if (!n->is_array()) fail(n, prefix + key, "expected an array of strings");
    for (const auto& e : *n->as_array()) {
      if (!e.is_string()) fail(&e, prefix + key, "expected an array of strings");
      out.push_back(std::string(*e.value<std::string>()));
    }
    return out;
  }
  unsigned count(const toml::table& t, const char* key, unsigned def, unsigned min) const {
    const toml::node* n = t.get(key);
    if (!n) return def;
    auto v = n->value<int64_t>();
    if (!n->is_integer() || !v || *v < min || *v > 10000)
      fail(n, key, "expected an integer from " + std::to_string(min) + " to 10000");
    return static_cast<unsigned>(*v);
  }
  void only_keys(const toml::table& t, const std::string& what,
                 std::initializer_list<const char*> keys) const {
    for (auto&& [k, v] : t) {
      bool ok = false;
      for (const char* allowed : keys) ok = ok || k.str() == allowed;
      if (!ok) {
        std::string list;
        for (const char* allowed : keys) list += (list.empty() ? "" : ", ") + std::string(allowed);
        fail(&v, what + std::string(k.str()), "unknown key; expected one of: " + list);
      }
    }
  }
};

bool safe_name(const std::string& s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

// Directory name of a device: a file argument "../devices/pi.toml" -> "pi".
std::string device_dir_name(const std::string& d) {
  fs::path p(d);
  std::string stem = p.extension() == ".toml" ? p.stem().string() : p.filename().string();
  std::string out;
  for (char c : stem)
    out +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
  // Never ".", ".." or a hidden directory: "...toml" would otherwise put results in "..".
  if (!out.empty() && out.front() == '.') out.front() = '_';
  return out.empty() ? "device" : out;
}

ExperimentSlurm read_slurm_table(const Reader& r, const toml::node* n) {
  if (!n->is_table()) r.fail(n, "slurm", "expected a table: [slurm] with partition = \"...\" etc.");
  const toml::table& t = *n->as_table();
  const std::string prefix = "slurm.";
  r.only_keys(
      t, prefix,
      {"partition", "time", "cpus_per_task", "mem", "exclusive", "max_parallel", "sbatch_args"});
  ExperimentSlurm s;
  s.partition = r.str(t, prefix, "partition", false);
  s.time = r.str(t, prefix, "time", false);
  s.mem = r.str(t, prefix, "mem", false);
  s.cpus_per_task = r.count(t, "cpus_per_task", 0, 1);
  s.max_parallel = r.count(t, "max_parallel", 0, 1);
  if (const toml::node* x = t.get("exclusive")) {
    if (!x->is_boolean()) r.fail(x, "slurm.exclusive", "expected true or false");
    s.exclusive = *x->value<bool>();
  }
  s.sbatch_args = r.strings(t, prefix, "sbatch_args");
  return s;
}

}  // namespace

Experiment parse_experiment(std::string_view toml_text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    throw Error(source + ": line " + std::to_string(e.source().begin.line) + ": " +
                std::string(e.description()));
  }
  Reader r{source};
  r.only_keys(root, "",
              {"name", "output", "repeat", "warmup", "devices", "run_args", "workload", "slurm"});
  Experiment e;
  e.source = source;
  e.base_dir = fs::path(source).parent_path().string();
  if (e.base_dir.empty()) e.base_dir = ".";
  e.name = r.str(root, "", "name", false);
  if (e.name.empty()) e.name = fs::path(source).stem().string();
  e.output = r.str(root, "", "output", false);
  if (e.output.empty()) e.output = fs::path(source).stem().string() + "-results";
  e.repeat = r.count(root, "repeat", 1, 1);
  e.warmup = r.count(root, "warmup", 0, 0);
  e.devices = r.strings(root, "", "devices");
  if (e.devices.empty()) e.devices = {"host"};
  std::set<std::string> dev_dirs;
  for (const auto& d : e.devices)
    if (!dev_dirs.insert(device_dir_name(d)).second)
      r.fail(root.get("devices"), "devices",
             "\"" + d + "\" is listed twice, or another entry has the same result directory \"" +
                 device_dir_name(d) + "\" (rename one of the files)");
  e.run_args = r.strings(root, "", "run_args");
  if (const toml::node* s = root.get("slurm")) e.slurm = read_slurm_table(r, s);
  const toml::node* wl = root.get("workload");
  if (!wl || !wl->is_array_of_tables())
    r.fail(wl ? wl : &root, "workload",
           "expected one or more [[workload]] tables with name, image or rootfs, and command");
  std::set<std::string> names;
  for (const auto& node : *wl->as_array()) {
    const toml::table& t = *node.as_table();
    const std::string prefix = "workload.";
    r.only_keys(t, prefix, {"name", "image", "rootfs", "command", "labels", "run_args"});
    ExperimentWorkload w;
    w.name = r.str(t, prefix, "name", true);
    if (!safe_name(w.name))
      r.fail(t.get("name"), "workload.name",
             "\"" + w.name + "\" must be letters, digits, '-', '_' or '.' (it names a directory)");
    if (!names.insert(w.name).second)
      r.fail(t.get("name"), "workload.name", "\"" + w.name + "\" is used twice");
    w.image = r.str(t, prefix, "image", false);
    w.rootfs = r.str(t, prefix, "rootfs", false);
    if (w.image.empty() == w.rootfs.empty())
      r.fail(&t, "workload " + w.name, "give exactly one of image = \"REF\" or rootfs = \"DIR\"");
    w.command = r.strings(t, prefix, "command");
    w.run_args = r.strings(t, prefix, "run_args");
    if (const toml::node* l = t.get("labels")) {
      if (!l->is_table())
        r.fail(l, "workload.labels", "expected a table like { model = \"resnet18\" }");
      for (auto&& [k, v] : *l->as_table()) {
        if (!v.is_string() && !v.is_integer() && !v.is_floating_point())
          r.fail(&v, "workload.labels." + std::string(k.str()), "expected a string or a number");
        std::ostringstream s;
        if (v.is_string())
          s << *v.value<std::string>();
        else if (v.is_integer())
          s << *v.value<int64_t>();
        else
          s << *v.value<double>();
        if (std::string why = label_problem(k.str(), s.str()); !why.empty())
          r.fail(&v, "workload.labels." + std::string(k.str()), why);
        w.labels[std::string(k.str())] = s.str();
      }
    }
    w.labels.emplace("workload", w.name);
    e.workloads.push_back(std::move(w));
  }
  return e;
}

std::vector<PlannedRun> plan_experiment(const Experiment& e, const std::string& output_dir,
                                        const std::string& cgprof) {
  std::vector<PlannedRun> plan;
  char num[16];
  for (const auto& w : e.workloads) {
    for (const auto& dev : e.devices) {
      for (unsigned i = 0; i < e.warmup + e.repeat; ++i) {
        PlannedRun p;
        p.workload = w.name;
        p.device = dev;
        p.warmup = i < e.warmup;
        p.repeat = p.warmup ? i + 1 : i - e.warmup + 1;
        std::snprintf(num, sizeof num, "%03u", p.repeat);
        p.id = w.name + "/" + device_dir_name(dev) + "/" + (p.warmup ? "warmup-" : "run-") + num;
        p.labels = w.labels;
        p.argv = {cgprof, "run"};
        if (dev != "host") p.argv.insert(p.argv.end(), {"--device", dev});
        p.argv.insert(p.argv.end(), {"--output", (fs::path(output_dir) / p.id).string()});
        for (const auto& [k, v] : p.labels) p.argv.insert(p.argv.end(), {"--label", k + "=" + v});
        p.argv.insert(p.argv.end(), e.run_args.begin(), e.run_args.end());
        p.argv.insert(p.argv.end(), w.run_args.begin(), w.run_args.end());
        if (!w.rootfs.empty()) {
          p.argv.insert(p.argv.end(), {"--rootfs", w.rootfs});
        } else {
          p.argv.push_back(w.image);
        }
        if (!w.command.empty()) {
          p.argv.push_back("--");
          p.argv.insert(p.argv.end(), w.command.begin(), w.command.end());
        }
        plan.push_back(std::move(p));
      }
    }
  }
  return plan;
}

RunDirState inspect_run_dir(const std::string& dir) {
  RunDirState s;
  std::error_code ec;
  s.exists = fs::exists(dir, ec);
  if (!fs::is_regular_file(fs::path(dir) / "run.json", ec)) return s;
  try {
    RunResult r = load_run_result(dir);
    s.exit_status = r.exit.status;
    s.complete = !r.exit.interrupted && r.exit.error.empty();
    s.result = std::move(r);
  } catch (const Error&) {
    s.complete = false;  // a torn or foreign run.json: run it again
  }
  return s;
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty();
    for (char c : a)
      plain = plain && (std::isalnum(static_cast<unsigned char>(c)) ||
                        std::string_view("-_./=:,+@%").find(c) != std::string_view::npos);
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

namespace {
const char* state_name(const RunDirState& s) {
  if (s.complete) return s.exit_status == 0 ? "done" : "failed";
  return s.exists ? "incomplete" : "pending";
}
}  // namespace

std::string experiment_index_json(const Experiment& e, const std::vector<PlannedRun>& plan,
                                  const std::vector<RunDirState>& states) {
  json runs = json::array();
  std::size_t done = 0;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const auto& p = plan[i];
    const auto& s = states[i];
    json j = {{"id", p.id},
              {"dir", p.id},
              {"workload", p.workload},
              {"device", p.device},
              {"repeat", p.repeat},
              {"warmup", p.warmup},
              {"labels", p.labels},
              {"argv", p.argv},
              {"command_line", shell_join(p.argv)},
              {"state", state_name(s)}};
    if (s.complete) {
      ++done;
      j["exit_status"] = s.exit_status;
      j["metrics"] = analysis::run_metrics(*s.result);
    }
    runs.push_back(std::move(j));
  }
  json doc = {{"schema", "cgprof.experiment/1"},
              {"name", e.name},
              {"experiment_file", e.source},
              {"repeat", e.repeat},
              {"warmup", e.warmup},
              {"devices", e.devices},
              {"planned", plan.size()},
              {"complete", done},
              {"runs", std::move(runs)}};
  return doc.dump(2) + "\n";
}

std::string experiment_index_csv(const std::vector<PlannedRun>& plan,
                                 const std::vector<RunDirState>& states) {
  std::set<std::string> label_keys;
  for (const auto& p : plan)
    for (const auto& [k, v] : p.labels) label_keys.insert(k);
  auto field = [](const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string o = "\"";
    for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
    return o + "\"";
  };
  std::string out = "id,dir,workload,device,repeat,warmup,state,exit_status";
  for (const auto& k : label_keys) out += ",label." + field(k);
  for (const auto& m : analysis::metric_catalog()) out += std::string(",") + m.name;
  out += ",command_line\n";
  char buf[64];
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const auto& p = plan[i];
    const auto& s = states[i];
    out += field(p.id) + "," + field(p.id) + "," + field(p.workload) + "," + field(p.device) + "," +
           std::to_string(p.repeat) + "," + (p.warmup ? "true" : "false") + "," + state_name(s) +
           "," + (s.complete ? std::to_string(s.exit_status) : "");
    for (const auto& k : label_keys) {
      auto it = p.labels.find(k);
      out += "," + (it == p.labels.end() ? std::string() : field(it->second));
    }
    std::map<std::string, double> metrics;
    if (s.complete) metrics = analysis::run_metrics(*s.result);
    for (const auto& m : analysis::metric_catalog()) {
      out += ",";
      if (auto it = metrics.find(m.name); it != metrics.end()) {
        std::snprintf(buf, sizeof buf, "%.9g", it->second);
        out += buf;
      }
    }
    out += "," + field(shell_join(p.argv)) + "\n";
  }
  return out;
}

}  // namespace cgprof::report
