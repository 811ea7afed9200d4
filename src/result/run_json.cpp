// run.json: writer and reader (schema in docs/run-json.md).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cgprof/error.hpp"
#include "cgprof/result.hpp"
#include "cgprof/sys.hpp"

namespace cgprof {
namespace {

using Json = nlohmann::ordered_json;

template <class T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}
// JSON has no NaN/inf; a division by a zero wall time must not make the file unreadable.
double finite(double v) {
  return std::isfinite(v) ? v : 0.0;
}

Json pressure_json(const PressureTotals& p) {
  return Json{{"some_seconds", finite(p.some_seconds)}, {"full_seconds", finite(p.full_seconds)}};
}

// Objects whose members are all counters: one table of (key, member) serves writer and reader.
template <class T>
struct CounterKey {
  const char* key;
  uint64_t T::*field;
};
constexpr CounterKey<MemoryEvents> kEventKeys[] = {
    {"low", &MemoryEvents::low},           {"high", &MemoryEvents::high},
    {"max", &MemoryEvents::max},           {"oom", &MemoryEvents::oom},
    {"oom_kill", &MemoryEvents::oom_kill}, {"oom_group_kill", &MemoryEvents::oom_group_kill}};
constexpr CounterKey<IoDeviceTotals> kIoDeviceKeys[] = {
    {"read_bytes", &IoDeviceTotals::read_bytes},
    {"write_bytes", &IoDeviceTotals::write_bytes},
    {"read_ops", &IoDeviceTotals::read_ops},
    {"write_ops", &IoDeviceTotals::write_ops},
    {"discard_bytes", &IoDeviceTotals::discard_bytes},
    {"discard_ops", &IoDeviceTotals::discard_ops}};
constexpr CounterKey<RunTotals> kIoKeys[] = {
    {"read_bytes", &RunTotals::io_read_bytes},       {"write_bytes", &RunTotals::io_write_bytes},
    {"read_ops", &RunTotals::io_read_ops},           {"write_ops", &RunTotals::io_write_ops},
    {"discard_bytes", &RunTotals::io_discard_bytes}, {"discard_ops", &RunTotals::io_discard_ops}};
constexpr CounterKey<RunTotals> kNetKeys[] = {
    {"rx_bytes", &RunTotals::net_rx_bytes},       {"tx_bytes", &RunTotals::net_tx_bytes},
    {"rx_packets", &RunTotals::net_rx_packets},   {"tx_packets", &RunTotals::net_tx_packets},
    {"lo_rx_bytes", &RunTotals::net_lo_rx_bytes}, {"lo_tx_bytes", &RunTotals::net_lo_tx_bytes}};

// Appends the table's members to `out` (an object), in table order.
template <class T, size_t N>
void put_counters(Json& out, const T& v, const CounterKey<T> (&keys)[N]) {
  for (const CounterKey<T>& k : keys) out[k.key] = v.*k.field;
}

Json totals_json(const RunTotals& t) {
  Json cpu{{"user_seconds", finite(t.cpu_user_seconds)},
           {"system_seconds", finite(t.cpu_system_seconds)},
           {"total_seconds", finite(t.cpu_total_seconds)},
           {"avg_cores", finite(t.avg_cores)},
           {"avg_quota_percent", opt(t.avg_quota_percent)},
           {"peak_cores_100ms", finite(t.peak_cores_100ms)},
           {"peak_quota_percent", opt(t.peak_quota_percent)},
           {"nr_periods", t.nr_periods},
           {"nr_throttled", t.nr_throttled},
           {"throttled_seconds", finite(t.throttled_seconds)},
           {"throttled_percent_of_periods", finite(t.throttled_percent_of_periods)}};
  Json events = Json::object();
  put_counters(events, t.memory_events, kEventKeys);
  Json memory{{"peak_bytes", t.memory_peak_bytes},
              {"peak_source", t.memory_peak_source},
              {"avg_bytes", finite(t.memory_avg_bytes)},
              {"peak_anon_bytes", t.anon_peak_bytes},
              {"peak_file_bytes", t.file_peak_bytes},
              {"pgfault", t.pgfault},
              {"pgmajfault", t.pgmajfault},
              {"events", events}};
  Json devices = Json::array();
  for (const IoDeviceTotals& d : t.io_devices) {
    Json dev{{"device", d.device}};
    put_counters(dev, d, kIoDeviceKeys);
    devices.push_back(dev);
  }
  Json io = Json::object();
  put_counters(io, t, kIoKeys);
  io["devices"] = devices;
  Json net = nullptr;
  if (t.net_measured) {
    net = Json::object();
    put_counters(net, t, kNetKeys);
  }
  Json pressure = nullptr;
  if (t.psi_measured) {
    pressure = Json{{"cpu", pressure_json(t.cpu_pressure)},
                    {"memory", pressure_json(t.memory_pressure)},
                    {"io", pressure_json(t.io_pressure)}};
  }
  return Json{{"cpu", cpu},
              {"memory", memory},
              {"io", io},
              {"net", net},
              {"pids", {{"peak", t.pids_peak}}},
              {"pressure", pressure}};
}

constexpr std::pair<const char*, double Distribution::*> kDistributionKeys[] = {
    {"min", &Distribution::min}, {"mean", &Distribution::mean}, {"p50", &Distribution::p50},
    {"p90", &Distribution::p90}, {"p99", &Distribution::p99}, {"max", &Distribution::max},
    {"stddev", &Distribution::stddev}};

Json distribution_json(const Distribution& d) {
  Json j = Json::object();
  for (const auto& [key, field] : kDistributionKeys) j[key] = finite(d.*field);
  return j;
}

Json phases_json(const PhasesResult& p) {
  Json by_name = Json::array();
  for (const PhaseStats& s : p.phases) {
    by_name.push_back({{"name", s.name},
                       {"overflow", s.overflow},
                       {"count", s.count},
                       {"closed_at_exit", s.closed_at_exit},
                       {"wall_seconds", finite(s.wall_seconds)},
                       {"cpu_seconds", opt(s.cpu_seconds)},
                       {"throttled_seconds", opt(s.throttled_seconds)},
                       {"memory_peak_bytes", opt(s.memory_peak_bytes)},
                       {"io_read_bytes", opt(s.io_read_bytes)},
                       {"io_write_bytes", opt(s.io_write_bytes)},
                       {"wall", distribution_json(s.wall)},
                       {"cpu", s.cpu ? distribution_json(*s.cpu) : Json(nullptr)}});
  }
  auto str_or_null = [](const std::string& v) { return v.empty() ? Json(nullptr) : Json(v); };
  return Json{{"channel", str_or_null(p.channel)},
              {"mark_regex", str_or_null(p.mark_regex)},
              {"attribution", p.attribution},
              {"origin_monotonic_ns", p.origin_ns},
              {"marks", p.marks},
              {"dropped_marks", p.dropped_marks},
              {"truncated_names", p.truncated_names},
              {"overflow_marks", p.overflow_marks},
              {"occurrences_file", str_or_null(p.occurrences_file)},
              {"by_name", by_name}};
}

Json sampler_json(const SamplerStats& s) {
  return Json{
      {"rate_hz", finite(s.rate_hz)},
      {"groups", format_sample_groups(s.groups)},
      {"samples", s.samples},
      {"missed_deadlines", s.missed_deadlines},
      {"dropped", s.dropped},
      {"read_errors", s.read_errors},
      {"write_errors", s.write_errors},
      {"elapsed_seconds", finite(s.elapsed_seconds)},
      {"achieved_rate_hz", finite(s.achieved_rate_hz)},
      {"jitter_ns", {{"p50", s.jitter_p50_ns}, {"p99", s.jitter_p99_ns}, {"max", s.jitter_max_ns}}},
      {"cpu_seconds", finite(s.cpu_seconds)},
      {"cpu_ns_per_sample", finite(s.cpu_ns_per_sample)},
      {"overhead_percent_of_core", finite(s.overhead_percent_of_core)},
      {"writer_cpu_seconds", finite(s.writer_cpu_seconds)},
      {"bytes_written", s.bytes_written},
      {"samples_file", s.samples_file},
      {"files", s.files},
      {"absent_files", s.absent_files}};
}

// Reading: every accessor knows the dotted path of the field, for one clear error line.
class Reader {
 public:
  Reader(const Json& j, std::string path, const std::string& source)
      : j_(j), path_(std::move(path)), source_(source) {}

  Reader obj(const char* key) const {
    const Json& v = get(key);
    if (!v.is_object()) fail(key, "an object");
    return Reader(v, dotted(key), source_);
  }
  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  template <class T>
  void num(const char* key, T* out) const {
    if (!j_.contains(key)) return;  // missing: keep the default (older writers)
    const Json& v = j_.at(key);
    if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) fail(key, "a number");
    } else {
      if (!v.is_number_integer()) fail(key, "an integer");
    }
    *out = v.get<T>();
  }
  template <class T>
  void opt_num(const char* key, std::optional<T>* out) const {
    if (!has(key)) {
      out->reset();
      return;
    }
    T v{};
    num(key, &v);
    *out = v;
  }
  void str(const char* key, std::string* out) const {
    if (!j_.contains(key)) return;
    if (!j_.at(key).is_string()) fail(key, "a string");
    *out = j_.at(key).get<std::string>();
  }
  void boolean(const char* key, bool* out) const {
    if (!j_.contains(key)) return;
    if (!j_.at(key).is_boolean()) fail(key, "true or false");
    *out = j_.at(key).get<bool>();
  }
  void strings(const char* key, std::vector<std::string>* out) const {
    if (!j_.contains(key)) return;
    const Json& v = j_.at(key);
    if (!v.is_array()) fail(key, "an array of strings");
    out->clear();
    for (const Json& e : v) {
      if (!e.is_string()) fail(key, "an array of strings");
      out->push_back(e.get<std::string>());
    }
  }
  void string_map(const char* key, std::map<std::string, std::string>* out) const {
    if (!j_.contains(key)) return;
    const Json& v = j_.at(key);
    if (!v.is_object()) fail(key, "an object of strings");
    out->clear();
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!it.value().is_string()) fail(key, "an object of strings");
      (*out)[it.key()] = it.value().get<std::string>();
    }
  }
  const Json& json() const { return j_; }
  Reader child(const Json& v, const std::string& key) const {
    return Reader(v, dotted(key.c_str()), source_);
  }
  [[noreturn]] void fail(const char* key, const char* expected) const {
    throw Error(source_ + ": field " + dotted(key) + ": expected " + expected);
  }

 private:
  const Json& get(const char* key) const {
    if (!j_.contains(key)) throw Error(source_ + ": field " + dotted(key) + " is missing");
    return j_.at(key);
  }
  std::string dotted(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  const Json& j_;
  std::string path_;
  const std::string& source_;
};

template <class T, size_t N>
void get_counters(const Reader& r, T* v, const CounterKey<T> (&keys)[N]) {
  for (const CounterKey<T>& k : keys) r.num(k.key, &(v->*k.field));
}

PressureTotals read_pressure(const Reader& r) {
  PressureTotals p;
  r.num("some_seconds", &p.some_seconds);
  r.num("full_seconds", &p.full_seconds);
  return p;
}

void read_totals(const Reader& r, RunTotals* t) {
  Reader cpu = r.obj("cpu");
  cpu.num("user_seconds", &t->cpu_user_seconds);
  cpu.num("system_seconds", &t->cpu_system_seconds);
  cpu.num("total_seconds", &t->cpu_total_seconds);
  cpu.num("avg_cores", &t->avg_cores);
  cpu.opt_num("avg_quota_percent", &t->avg_quota_percent);
  cpu.num("peak_cores_100ms", &t->peak_cores_100ms);
  cpu.opt_num("peak_quota_percent", &t->peak_quota_percent);
  cpu.num("nr_periods", &t->nr_periods);
  cpu.num("nr_throttled", &t->nr_throttled);
  cpu.num("throttled_seconds", &t->throttled_seconds);
  cpu.num("throttled_percent_of_periods", &t->throttled_percent_of_periods);
  Reader mem = r.obj("memory");
  mem.num("peak_bytes", &t->memory_peak_bytes);
  mem.str("peak_source", &t->memory_peak_source);
  mem.num("avg_bytes", &t->memory_avg_bytes);
  mem.num("peak_anon_bytes", &t->anon_peak_bytes);
  mem.num("peak_file_bytes", &t->file_peak_bytes);
  mem.num("pgfault", &t->pgfault);
  mem.num("pgmajfault", &t->pgmajfault);
  if (mem.has("events")) get_counters(mem.obj("events"), &t->memory_events, kEventKeys);
  Reader io = r.obj("io");
  get_counters(io, t, kIoKeys);
  if (io.has("devices")) {
    const Json& devs = io.json().at("devices");
    if (!devs.is_array()) io.fail("devices", "an array");
    for (size_t i = 0; i < devs.size(); ++i) {
      if (!devs[i].is_object()) io.fail("devices", "an array of objects");
      Reader d = io.child(devs[i], "devices[" + std::to_string(i) + "]");
      IoDeviceTotals out;
      d.str("device", &out.device);
      get_counters(d, &out, kIoDeviceKeys);
      t->io_devices.push_back(out);
    }
  }
  t->net_measured = r.has("net");
  if (t->net_measured) get_counters(r.obj("net"), t, kNetKeys);
  if (r.has("pids")) r.obj("pids").num("peak", &t->pids_peak);
  t->psi_measured = r.has("pressure");
  if (t->psi_measured) {
    Reader p = r.obj("pressure");
    t->cpu_pressure = read_pressure(p.obj("cpu"));
    t->memory_pressure = read_pressure(p.obj("memory"));
    t->io_pressure = read_pressure(p.obj("io"));
  }
}

void read_sampler(const Reader& r, SamplerStats* s) {
  r.num("rate_hz", &s->rate_hz);
  std::string groups;
  r.str("groups", &groups);
  if (!groups.empty()) {
    try {
      s->groups = parse_sample_groups(groups);
    } catch (const Error&) {
      r.fail("groups", "a list of cpu, memory, io, pids, psi, net");
    }
  }
  r.num("samples", &s->samples);
  r.num("missed_deadlines", &s->missed_deadlines);
  r.num("dropped", &s->dropped);
  r.num("read_errors", &s->read_errors);
  r.num("write_errors", &s->write_errors);
  r.num("elapsed_seconds", &s->elapsed_seconds);
  r.num("achieved_rate_hz", &s->achieved_rate_hz);
  if (r.has("jitter_ns")) {
    Reader j = r.obj("jitter_ns");
    j.num("p50", &s->jitter_p50_ns);
    j.num("p99", &s->jitter_p99_ns);
    j.num("max", &s->jitter_max_ns);
  }
  r.num("cpu_seconds", &s->cpu_seconds);
  r.num("cpu_ns_per_sample", &s->cpu_ns_per_sample);
  r.num("overhead_percent_of_core", &s->overhead_percent_of_core);
  r.num("writer_cpu_seconds", &s->writer_cpu_seconds);
  r.num("bytes_written", &s->bytes_written);
  r.str("samples_file", &s->samples_file);
  r.strings("files", &s->files);
  r.strings("absent_files", &s->absent_files);
}

Distribution read_distribution(const Reader& r) {
  Distribution d;
  for (const auto& [key, field] : kDistributionKeys) r.num(key, &(d.*field));
  return d;
}

PhasesResult read_phases(const Reader& r) {
  PhasesResult p;
  if (r.has("channel")) r.str("channel", &p.channel);
  if (r.has("mark_regex")) r.str("mark_regex", &p.mark_regex);
  r.str("attribution", &p.attribution);
  r.num("origin_monotonic_ns", &p.origin_ns);
  r.num("marks", &p.marks);
  r.num("dropped_marks", &p.dropped_marks);
  r.num("truncated_names", &p.truncated_names);
  r.num("overflow_marks", &p.overflow_marks);
  if (r.has("occurrences_file")) r.str("occurrences_file", &p.occurrences_file);
  if (!r.has("by_name")) return p;
  const Json& list = r.json().at("by_name");
  if (!list.is_array()) r.fail("by_name", "an array");
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object()) r.fail("by_name", "an array of objects");
    Reader e = r.child(list[i], "by_name[" + std::to_string(i) + "]");
    PhaseStats& s = p.phases.emplace_back();
    e.str("name", &s.name);
    e.boolean("overflow", &s.overflow);
    e.num("count", &s.count);
    e.num("closed_at_exit", &s.closed_at_exit);
    e.num("wall_seconds", &s.wall_seconds);
    e.opt_num("cpu_seconds", &s.cpu_seconds);
    e.opt_num("throttled_seconds", &s.throttled_seconds);
    e.opt_num("memory_peak_bytes", &s.memory_peak_bytes);
    e.opt_num("io_read_bytes", &s.io_read_bytes);
    e.opt_num("io_write_bytes", &s.io_write_bytes);
    if (e.has("wall")) s.wall = read_distribution(e.obj("wall"));
    if (e.has("cpu")) s.cpu = read_distribution(e.obj("cpu"));
  }
  return p;
}

// cgprof.run/1: device.notices (declared, never filled), the notices that were written as
// "notice.N" keys of device.limits_written (in N order), and device.cgroup.
void read_v1_notices_and_cgroup(const Reader& d, RunResult* out) {
  d.strings("notices", &out->notices);
  std::map<unsigned long, std::string> numbered;
  for (auto it = out->limits_written.begin(); it != out->limits_written.end();) {
    if (it->first.rfind("notice.", 0) != 0) {
      ++it;
      continue;
    }
    numbered[std::strtoul(it->first.c_str() + 7, nullptr, 10)] = it->second;
    it = out->limits_written.erase(it);
  }
  for (auto& [n, text] : numbered) out->notices.push_back(std::move(text));
  d.str("cgroup", &out->cgroup);
}

}  // namespace

std::string run_result_to_json(const RunResult& r) {
  // Always the schema this writer's shape is (a cgprof.run/1 file read back is written as /2).
  Json j{{"schema", kRunSchema},
         {"cgprof_version", r.cgprof_version},
         {"run_id", r.run_id},
         {"started_at", r.started_at},
         {"labels", r.labels},
         {"host",
          {{"kernel", r.host.kernel},
           {"cpu_model", r.host.cpu_model},
           {"cores", r.host.cores},
           {"hostname", r.host.hostname},
           {"reference_score", r.host.reference ? Json{{"name", r.host.reference->name},
                                                       {"rate", r.host.reference->rate},
                                                       {"unit", "Miter/s"},
                                                       {"cpu_seconds", r.host.reference->cpu_seconds}}
                                                 : Json(nullptr)}}},
         {"device",
          {{"name", r.device_name},
           {"source", r.device_source},
           {"quota_cores", opt(r.quota_cores)},
           {"limits_written", r.limits_written}}},
         {"cgroup",
          {{"backend", r.cgroup_backend},
           {"version", r.cgroup_version},
           {"path", r.cgroup},
           {"paths", r.cgroup_paths}}},
         {"notices", r.notices},
         {"workload",
          {{"rootfs", r.rootfs},
           {"image", r.image},
           {"image_digest", r.image_digest},
           {"command", r.command}}},
         {"exit",
          {{"status", r.exit.status},
           {"exit_code", opt(r.exit.exit_code)},
           {"signal", opt(r.exit.signal)},
           {"oom_killed", r.exit.oom_killed},
           {"interrupted", r.exit.interrupted},
           {"killed_by", r.exit.killed_by.empty() ? Json(nullptr) : Json(r.exit.killed_by)},
           {"error", r.exit.error}}},
         {"wall_seconds", finite(r.wall_seconds)},
         {"totals", totals_json(r.totals)},
         {"sampler", sampler_json(r.sampler)}};
  if (!r.fidelity.empty()) {
    // Per limit and metric: who enforced or measured it (kernel, emulated, not enforced).
    j["cgroup"]["limits"] = Json::object();
    j["cgroup"]["metrics"] = Json::object();
    for (const Fidelity& f : r.fidelity)
      j["cgroup"][f.kind == "limit" ? "limits" : "metrics"][f.name] =
          Json{{"by", f.by}, {"precision", f.precision}};
  }
  if (r.phases) j["phases"] = phases_json(*r.phases);
  return j.dump(2) + "\n";
}

RunResult run_result_from_json(const std::string& text, const std::string& source_name) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw Error(source_name + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw Error(source_name + ": expected a JSON object (a cgprof run.json)");
  Reader r(j, "", source_name);
  RunResult out;
  if (!j.contains("schema") || !j["schema"].is_string()) {
    throw Error(source_name + ": no \"schema\" field; not a cgprof run.json");
  }
  out.schema = j["schema"].get<std::string>();
  const bool v1 = out.schema == kRunSchemaV1;
  if (out.schema != kRunSchema && !v1) {
    throw Error(source_name + ": schema \"" + out.schema +
                "\" is not supported (this cgprof reads " + kRunSchema + " and " + kRunSchemaV1 +
                "); use the cgprof version that wrote it");
  }
  r.str("cgprof_version", &out.cgprof_version);
  r.str("run_id", &out.run_id);
  r.str("started_at", &out.started_at);
  r.string_map("labels", &out.labels);
  if (r.has("host")) {
    Reader h = r.obj("host");
    h.str("kernel", &out.host.kernel);
    h.str("cpu_model", &out.host.cpu_model);
    h.num("cores", &out.host.cores);
    h.str("hostname", &out.host.hostname);
    if (h.has("reference_score")) {
      Reader rs = h.obj("reference_score");
      ReferenceScore& score = out.host.reference.emplace();
      rs.str("name", &score.name);
      rs.num("rate", &score.rate);
      rs.num("cpu_seconds", &score.cpu_seconds);
    }
  }
  if (r.has("device")) {
    Reader d = r.obj("device");
    d.str("name", &out.device_name);
    d.str("source", &out.device_source);
    d.opt_num("quota_cores", &out.quota_cores);
    d.string_map("limits_written", &out.limits_written);
    if (v1) read_v1_notices_and_cgroup(d, &out);
  }
  if (r.has("cgroup")) {
    Reader c = r.obj("cgroup");
    c.str("backend", &out.cgroup_backend);
    c.num("version", &out.cgroup_version);
    c.str("path", &out.cgroup);
    c.string_map("paths", &out.cgroup_paths);
    for (const char* kind : {"limits", "metrics"}) {
      if (!c.has(kind)) continue;
      Reader group = c.obj(kind);
      for (auto it = group.json().begin(); it != group.json().end(); ++it) {
        Reader one = group.obj(it.key().c_str());
        Fidelity f{kind == std::string("limits") ? "limit" : "metric", it.key(), "", ""};
        one.str("by", &f.by);
        one.str("precision", &f.precision);
        out.fidelity.push_back(std::move(f));
      }
    }
    // cgprof.run/1 recorded the version only; its backends were named after it.
    if (v1 && (out.cgroup_version == 1 || out.cgroup_version == 2))
      out.cgroup_backend = "v" + std::to_string(out.cgroup_version);
  }
  if (!v1) r.strings("notices", &out.notices);
  if (r.has("workload")) {
    Reader w = r.obj("workload");
    w.str("rootfs", &out.rootfs);
    w.str("image", &out.image);
    w.str("image_digest", &out.image_digest);
    w.strings("command", &out.command);
  }
  Reader e = r.obj("exit");
  e.num("status", &out.exit.status);
  e.opt_num("exit_code", &out.exit.exit_code);
  e.opt_num("signal", &out.exit.signal);
  e.boolean("oom_killed", &out.exit.oom_killed);
  e.boolean("interrupted", &out.exit.interrupted);
  if (e.has("killed_by")) e.str("killed_by", &out.exit.killed_by);
  e.str("error", &out.exit.error);
  r.num("wall_seconds", &out.wall_seconds);
  read_totals(r.obj("totals"), &out.totals);
  if (r.has("sampler")) read_sampler(r.obj("sampler"), &out.sampler);
  if (r.has("phases")) out.phases = read_phases(r.obj("phases"));
  return out;
}

void write_run_json(const RunResult& r, const std::string& dir) {
  make_directories(dir);
  write_file_atomic(dir + "/run.json", run_result_to_json(r));
}

RunResult load_run_result(const std::string& dir_or_file) {
  struct stat st;
  std::string path = dir_or_file;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) path += "/run.json";
  std::string text;
  try {
    text = read_regular_file(path, kMaxResultJsonBytes);
  } catch (Error& e) {
    e.context("loading run result (a cgprof result directory or its run.json)");
    throw;
  }
  return run_result_from_json(text, path);
}

}  // namespace cgprof
