// `cgprof devices` lists the device profiles; `cgprof devices show NAME|FILE [overrides]` prints
// the limits a run would get and the cgroup v2 files they become.
#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cgprof/device.hpp"
#include "cgprof/error.hpp"
#include "cgprof/run.hpp"
#include "cgprof/sys.hpp"
#include "cgprof/units.hpp"
#include "commands.hpp"
#include "limit_options.hpp"

namespace cgprof::cli {
namespace {

using nlohmann::json;

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string rate_text(const std::optional<uint64_t>& bps) {
  if (!bps) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0fMB/s", static_cast<double>(*bps) / 1e6);
  if (*bps < 1000000) std::snprintf(buf, sizeof buf, "%.0fkB/s", static_cast<double>(*bps) / 1e3);
  return buf;
}

const IoDeviceLimit* rootfs_io(const Limits& l) {
  for (const IoDeviceLimit& d : l.io)
    if (d.device == "rootfs") return &d;
  return nullptr;
}

std::string io_summary(const Limits& l) {
  const IoDeviceLimit* d = rootfs_io(l);
  if (!d) return l.io.empty() ? "-" : "per device";
  return rate_text(d->read_bps) + " r / " + rate_text(d->write_bps) + " w";
}

json optional_json(const std::optional<uint64_t>& v) {
  return v ? json(*v) : json(nullptr);
}

json limits_json(const Limits& l) {
  json io = json::array();
  for (const IoDeviceLimit& d : l.io)
    io.push_back({{"device", d.device},
                  {"read_bps", optional_json(d.read_bps)},
                  {"write_bps", optional_json(d.write_bps)},
                  {"read_iops", optional_json(d.read_iops)},
                  {"write_iops", optional_json(d.write_iops)}});
  auto q = l.quota_cores();
  return {{"cores", l.cores ? json(*l.cores) : json(nullptr)},
          {"core_speed", l.core_speed},
          {"cpus", l.cpus ? json(*l.cpus) : json(nullptr)},
          {"quota_cores", q ? json(*q) : json(nullptr)},
          {"cpu_period_us", l.cpu_period_us},
          {"cpuset", l.cpuset ? json(*l.cpuset) : json(nullptr)},
          {"memory_max", optional_json(l.memory_max)},
          {"memory_high", optional_json(l.memory_high)},
          {"swap_max", optional_json(l.swap_max)},
          {"pids_max", optional_json(l.pids_max)},
          {"io", io}};
}

json calibration_json(const DeviceProfile& p) {
  json out = json::object();
  for (const auto& [metric, f] : p.calibration)
    out[metric] = {{"slope", f.slope},
                   {"intercept", f.intercept},
                   {"r2", f.r2},
                   {"residual_stddev", f.residual_stddev},
                   {"points", f.points}};
  return out;
}

void print_list(bool as_json) {
  auto dirs = device_search_dirs();
  auto items = list_device_profiles(dirs);
  if (as_json) {
    json out = json::array();
    for (const DeviceListing& item : items) {
      json j = {{"path", item.path}, {"origin", item.origin}, {"shadowed", item.shadowed}};
      if (item.profile) {
        j["name"] = item.profile->name;
        j["description"] = item.profile->description;
        j["aliases"] = item.profile->aliases;
        j["limits"] = limits_json(item.profile->limits);
        j["calibration"] = calibration_json(*item.profile);
      } else {
        j["error"] = item.error;
      }
      out.push_back(j);
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::printf("%-14s %5s %6s %6s %9s %-20s %-12s %s\n", "NAME", "CORES", "SPEED", "QUOTA", "MEMORY",
              "IO (ROOTFS)", "FROM", "DESCRIPTION");
  for (const DeviceListing& item : items) {
    if (!item.profile) {
      std::fprintf(stderr, "cgprof: warning: %s\n", escape_control(item.error).c_str());
      continue;
    }
    const DeviceProfile& p = *item.profile;
    const Limits& l = p.limits;
    auto q = l.quota_cores();
    std::string from = item.origin + (item.shadowed ? " (shadowed)" : "");
    std::printf("%-14s %5s %6s %6s %9s %-20s %-12s %s\n", escape_control(p.name).c_str(),
                l.cores ? std::to_string(*l.cores).c_str() : "-",
                l.cores ? fixed(l.core_speed, 2).c_str() : "-", q ? fixed(*q, 2).c_str() : "-",
                l.memory_max ? format_size(*l.memory_max).c_str() : "-", io_summary(l).c_str(),
                from.c_str(), escape_control(p.description).c_str());
  }
  std::printf("\nSearched, first match wins:\n");
  if (dirs.empty()) std::printf("  (no profile directory exists)\n");
  for (const DeviceSearchDir& d : dirs)
    std::printf("  %-20s %s\n", d.origin.c_str(), d.path.c_str());
}

void print_show(const DeviceProfile& p, const LimitOverrides& o, bool as_json) {
  const Limits& l = p.limits;
  std::vector<std::string> notices;
  auto files = run::preview_cgroup_files(l, &notices);
  if (as_json) {
    json cg = json::object();
    for (const run::CgroupFilePreview& f : files) {
      if (f.file == "io.max")
        cg[f.file].push_back(f.value);
      else
        cg[f.file] = f.value;
    }
    json out = {{"name", p.name},
                {"description", p.description},
                {"source", p.source},
                {"origin", p.origin},
                {"aliases", p.aliases},
                {"overridden", !o.empty()},
                {"limits", limits_json(l)},
                {"calibration", calibration_json(p)},
                {"cgroup", cg},
                {"notices", notices}};
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::printf("device:       %s: %s\n", escape_control(p.name).c_str(),
              escape_control(p.description).c_str());
  std::printf("profile:      %s (%s)%s\n", p.source.empty() ? "built in" : p.source.c_str(),
              p.origin.c_str(), o.empty() ? "" : ", with command-line overrides");
  auto q = l.quota_cores();
  std::ostringstream cpu;
  if (l.cores) cpu << *l.cores << " cores at speed " << fixed(l.core_speed, 3);
  if (l.cpus) cpu << (l.cores ? ", " : "") << "--cpus " << fixed(*l.cpus, 3);
  if (q)
    cpu << " -> quota " << fixed(*q, 3) << " host cores per " << l.cpu_period_us / 1000.0
        << " ms period";
  else
    cpu << "no quota";
  if (l.cpuset) cpu << ", cpuset " << *l.cpuset;
  std::printf("cpu:          %s\n", cpu.str().c_str());
  std::printf("memory:       limit %s, swap %s, high %s\n",
              l.memory_max ? format_size(*l.memory_max).c_str() : "none",
              l.swap_max ? format_size(*l.swap_max).c_str() : "unlimited",
              l.memory_high ? format_size(*l.memory_high).c_str() : "none");
  std::printf("pids:         %s\n", l.pids_max ? std::to_string(*l.pids_max).c_str() : "no limit");
  if (l.io.empty()) std::printf("io:           no limit\n");
  for (const IoDeviceLimit& d : l.io) {
    std::string parts;
    auto add = [&parts](const std::string& text) { parts += (parts.empty() ? "" : ", ") + text; };
    if (d.read_bps) add("read " + rate_text(d.read_bps));
    if (d.read_iops) add("read " + std::to_string(*d.read_iops) + " IOPS");
    if (d.write_bps) add("write " + rate_text(d.write_bps));
    if (d.write_iops) add("write " + std::to_string(*d.write_iops) + " IOPS");
    std::printf("io:           %s: %s\n", d.device.c_str(), parts.c_str());
  }
  for (const auto& [metric, f] : p.calibration)
    std::printf("calibration:  %s = %g * x + %g (r2 %.3f, residual sd %g, %u points)\n",
                metric.c_str(), f.slope, f.intercept, f.r2, f.residual_stddev, f.points);
  std::printf("cgroup v2 files (on this %u-CPU host):\n", run::host_cpu_count());
  for (const run::CgroupFilePreview& f : files)
    std::printf("  %-16s %-40s %s%s\n", f.file.c_str(), f.value.c_str(), f.note.empty() ? "" : "# ",
                f.note.c_str());
  for (const std::string& n : notices) std::printf("note: %s\n", n.c_str());
}

}  // namespace

void add_devices_command(CLI::App& app, Outcome& /*out*/) {
  CLI::App* devices = app.add_subcommand(
      "devices", "List device profiles, or show the limits one resolves to (devices show NAME)");
  devices->require_subcommand(0, 1);
  static bool list_json = false;
  devices->add_flag("--json", list_json, "Print the list as JSON");

  CLI::App* show = devices->add_subcommand(
      "show", "Show a profile's resolved limits and the cgroup v2 files they become");
  static std::string target;
  static bool show_json = false;
  static LimitOverrides overrides;
  show->add_option("device", target, "Profile name or .toml file (default: --device, else host)")
      ->type_name("NAME|FILE");
  show->add_flag("--json", show_json, "Print as JSON");
  add_limit_options(show, overrides);

  show->callback([] {
    if (!target.empty() && !overrides.device.empty() && target != overrides.device)
      throw Error("devices show: give the device once, as an argument or with --device");
    LimitOverrides o = overrides;
    if (!target.empty()) o.device = target;
    DeviceProfile p = resolve_device(o);
    print_show(p, o, show_json);
  });
  devices->callback([show] {
    if (!show->parsed()) print_list(list_json);
  });
}

}  // namespace cgprof::cli
