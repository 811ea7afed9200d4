// The device profile schema (cgprof-device(5)): parsing and validation.
#include <cctype>
#include <cmath>
#include <set>

#include "cgprof/device.hpp"
#include "cgprof/error.hpp"
#include "cgprof/sys.hpp"
#include "cgprof/units.hpp"
#include "toml_reader.hpp"

namespace cgprof {
namespace {

using device_detail::TomlReader;

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return name.front() != '.' && name.front() != '-';
}

uint32_t line_of(const toml::node* n) {
  return n ? n->source().begin.line : 0;
}

void read_identity(const TomlReader& r, const toml::table& root, DeviceProfile& p) {
  auto name = r.string(root, "", "name");
  if (!name) r.fail(0, "name", "required key is missing; expected name = \"my-device\" at the top");
  if (!valid_name(*name))
    r.wrong(*root.get("name"), "name",
            "a name of letters, digits, '-', '_' or '.' (at most 64) like \"rpi4\"");
  p.name = *name;
  auto description = r.string(root, "", "description");
  if (!description)
    r.fail(0, "description",
           "required key is missing; expected description = \"what the device is\"");
  p.description = *description;
  if (const toml::node* n = root.get("aliases")) {
    const toml::array* a = n->as_array();
    if (!a) r.wrong(*n, "aliases", "an array of names like [\"rpi4-4gb\"]");
    for (const toml::node& e : *a) {
      const auto* s = e.as_string();
      if (!s || !valid_name(s->get()))
        r.wrong(e.source().begin.line ? e : *n, "aliases", "an array of names like [\"rpi4-4gb\"]");
      p.aliases.push_back(s->get());
    }
  }
}

void read_cpu(const TomlReader& r, const toml::table& root, Limits& l) {
  const toml::table* cpu = r.table(root, "", "cpu");
  if (!cpu) return;
  r.only_keys(*cpu, "cpu", {"cores", "speed", "period", "cpuset"});
  auto cores = r.count(*cpu, "cpu", "cores");
  if (cores && (*cores == 0 || *cores > kMaxCores))
    r.wrong(*cpu->get("cores"), "cpu.cores", "a core count from 1 to 4096");
  auto speed = r.number(*cpu, "cpu", "speed");
  if (speed && (*speed <= 0 || *speed > 64))
    r.wrong(*cpu->get("speed"), "cpu.speed",
            "a per-core speed relative to one host core, above 0 and at most 64, like 0.25");
  if (cores && !speed)
    r.fail(line_of(cpu), "cpu.speed",
           "required with cpu.cores; expected the speed of one device core relative to one host "
           "core, like speed = 0.25");
  if (speed && !cores)
    r.fail(line_of(cpu), "cpu.cores", "required with cpu.speed; expected a core count like 4");
  l.cores = cores ? std::optional<unsigned>(static_cast<unsigned>(*cores)) : std::nullopt;
  l.core_speed = speed.value_or(1.0);
  if (auto period = r.duration_us(*cpu, "cpu", "period")) {
    if (*period < kMinCpuPeriodUs || *period > kMaxCpuPeriodUs)
      r.wrong(*cpu->get("period"), "cpu.period", "a CFS period from \"1ms\" to \"1s\"");
    l.cpu_period_us = *period;
  }
  if (auto set = r.string(*cpu, "cpu", "cpuset")) {
    auto cpus = try_parse_cpu_ranges(*set);
    if (!cpus || cpus->empty())
      r.wrong(*cpu->get("cpuset"), "cpu.cpuset",
              "a host CPU list like \"0-3\" or \"0,2\" (CPUs 0 to " + std::to_string(kMaxCpuId) +
                  ")");
    l.cpuset = format_cpu_ranges(*cpus);
  }
  if (auto q = l.quota_cores()) {
    double quota_us = *q * static_cast<double>(l.cpu_period_us);
    if (quota_us < static_cast<double>(kMinCpuQuotaUs))
      r.fail(line_of(cpu->get("speed")), "cpu.speed",
             "cores x speed x period is " + std::to_string(std::llround(quota_us)) +
                 " us of CPU time per period, below the kernel's minimum of 1000 us; expected a "
                 "larger speed or period");
  }
}

void read_memory(const TomlReader& r, const toml::table& root, Limits& l) {
  l.memory_max.reset();
  l.memory_high.reset();
  l.swap_max.reset();
  const toml::table* mem = r.table(root, "", "memory");
  if (!mem) return;
  r.only_keys(*mem, "memory", {"limit", "swap", "high"});
  const std::string too_small = "a size of at least 4MiB (nothing starts below that)";
  if ((l.memory_max = r.size(*mem, "memory", "limit")) && *l.memory_max < kMinMemoryBytes)
    r.wrong(*mem->get("limit"), "memory.limit", too_small);
  if ((l.memory_high = r.size(*mem, "memory", "high"))) {
    if (*l.memory_high < kMinMemoryBytes) r.wrong(*mem->get("high"), "memory.high", too_small);
    if (l.memory_max && *l.memory_high > *l.memory_max)
      r.wrong(*mem->get("high"), "memory.high",
              "a size at most memory.limit (" + format_size(*l.memory_max) + ")");
  }
  // Devices have no swap unless they say so; without a memory limit swap is not limited either.
  if (const toml::node* n = mem->get("swap"); n && n->is_string() && n->as_string()->get() == "max")
    l.swap_max.reset();
  else if (n)
    l.swap_max = r.size(*mem, "memory", "swap");
  else if (l.memory_max)
    l.swap_max = 0;
}

void read_io_limits(const TomlReader& r, const toml::table& t, const std::string& prefix,
                    IoDeviceLimit& io) {
  struct Field {
    const char* key;
    std::optional<uint64_t> IoDeviceLimit::*member;
    bool is_rate;
  };
  static constexpr Field kFields[] = {{"read_bps", &IoDeviceLimit::read_bps, true},
                                      {"write_bps", &IoDeviceLimit::write_bps, true},
                                      {"read_iops", &IoDeviceLimit::read_iops, false},
                                      {"write_iops", &IoDeviceLimit::write_iops, false}};
  for (const Field& f : kFields) {
    auto v = f.is_rate ? r.rate(t, prefix, f.key) : r.count(t, prefix, f.key);
    if (v && *v == 0)
      r.wrong(*t.get(f.key), TomlReader::join(prefix, f.key),
              "a limit above 0 (leave the key out for no limit)");
    io.*f.member = v;
  }
}

bool valid_io_device(std::string_view dev) {
  if (dev == "rootfs") return true;
  if (dev.substr(0, 5) == "/dev/" && dev.size() > 5) return true;
  size_t colon = dev.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == dev.size()) return false;
  for (size_t i = 0; i < dev.size(); ++i)
    if (i != colon && !std::isdigit(static_cast<unsigned char>(dev[i]))) return false;
  return true;
}

void read_io(const TomlReader& r, const toml::table& root, Limits& l) {
  const toml::table* io = r.table(root, "", "io");
  if (!io) return;
  r.only_keys(*io, "io", {"read_bps", "write_bps", "read_iops", "write_iops", "devices"});
  IoDeviceLimit rootfs;
  read_io_limits(r, *io, "io", rootfs);
  std::set<std::string> seen;
  if (rootfs.read_bps || rootfs.write_bps || rootfs.read_iops || rootfs.write_iops) {
    l.io.push_back(rootfs);
    seen.insert("rootfs");
  }
  const toml::table* devices = r.table(*io, "io", "devices");
  if (!devices) return;
  for (auto&& [key, value] : *devices) {
    std::string dev(key.str());
    std::string path = TomlReader::join("io.devices", dev);
    if (!valid_io_device(dev))
      r.fail(key.source().begin.line, path,
             "expected a device like \"rootfs\", \"/dev/sda\" or \"8:0\" as the table name");
    if (!value.is_table()) r.wrong(value, path, "a table of read_bps, write_bps, ...");
    if (!seen.insert(dev).second)
      r.fail(key.source().begin.line, path,
             "limits for this device are given twice (the keys directly in [io] are for "
             "\"rootfs\")");
    r.only_keys(*value.as_table(), path, {"read_bps", "write_bps", "read_iops", "write_iops"});
    IoDeviceLimit d;
    d.device = dev;
    read_io_limits(r, *value.as_table(), path, d);
    l.io.push_back(d);
  }
}

void read_pids(const TomlReader& r, const toml::table& root, Limits& l) {
  const toml::table* pids = r.table(root, "", "pids");
  if (!pids) return;
  r.only_keys(*pids, "pids", {"max"});
  if ((l.pids_max = r.count(*pids, "pids", "max")) && *l.pids_max == 0)
    r.wrong(*pids->get("max"), "pids.max", "a process limit of at least 1");
}

void read_calibration(const TomlReader& r, const toml::table& root, DeviceProfile& p) {
  const toml::table* cal = r.table(root, "", "calibration");
  if (!cal) return;
  for (auto&& [key, value] : *cal) {
    std::string path = TomlReader::join("calibration", key.str());
    if (!value.is_table()) r.wrong(value, path, "a table [" + path + "] with slope and intercept");
    const toml::table& t = *value.as_table();
    r.only_keys(t, path,
                {"slope", "intercept", "r2", "residual_stddev", "points", "x_mean", "x_sxx"});
    CalibrationFit fit;
    auto slope = r.number(t, path, "slope");
    auto intercept = r.number(t, path, "intercept");
    uint32_t line = line_of(&t) ? line_of(&t) : key.source().begin.line;
    if (!slope) r.fail(line, path + ".slope", "required key is missing; expected a number");
    if (!intercept) r.fail(line, path + ".intercept", "required key is missing; expected a number");
    fit.slope = *slope;
    fit.intercept = *intercept;
    if (auto r2 = r.number(t, path, "r2")) {
      if (*r2 > 1.0) r.wrong(*t.get("r2"), path + ".r2", "a coefficient of determination <= 1");
      fit.r2 = *r2;
    }
    if (auto sd = r.number(t, path, "residual_stddev")) {
      if (*sd < 0) r.wrong(*t.get("residual_stddev"), path + ".residual_stddev", "a value >= 0");
      fit.residual_stddev = *sd;
    }
    if (auto n = r.count(t, path, "points")) {
      if (*n > 1000000000) r.wrong(*t.get("points"), path + ".points", "a point count");
      fit.points = static_cast<unsigned>(*n);
    }
    fit.x_mean = r.number(t, path, "x_mean").value_or(0.0);
    if (auto sxx = r.number(t, path, "x_sxx")) {
      if (*sxx < 0) r.wrong(*t.get("x_sxx"), path + ".x_sxx", "a sum of squares >= 0");
      fit.x_sxx = *sxx;
    }
    p.calibration[std::string(key.str())] = fit;
  }
}

}  // namespace

DeviceProfile parse_device_profile(std::string_view toml_text, const std::string& source) {
  TomlReader r(source);
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& pos = e.source().begin;
    std::string what = "TOML syntax error";
    if (pos.column) what += " at column " + std::to_string(pos.column);
    what += ": ";
    what += e.description();
    r.fail(pos.line, "", what);
  }
  r.only_keys(root, "",
              {"name", "description", "aliases", "cpu", "memory", "io", "pids", "calibration"});
  DeviceProfile p;
  p.source = source;
  p.origin = "file";
  read_identity(r, root, p);
  read_cpu(r, root, p.limits);
  read_memory(r, root, p.limits);
  read_io(r, root, p.limits);
  read_pids(r, root, p.limits);
  read_calibration(r, root, p);
  return p;
}

DeviceProfile load_device_profile(const std::string& path) {
  std::string text;
  try {
    text = read_regular_file(path, kMaxConfigFileBytes);
  } catch (Error& e) {
    e.context("device profile " + path);
    throw;
  }
  return parse_device_profile(text, path);
}

DeviceProfile host_device_profile() {
  DeviceProfile p;
  p.name = "host";
  p.description = "this machine, no limits (measure only)";
  p.origin = "built-in";
  p.limits.swap_max.reset();
  return p;
}

}  // namespace cgprof
