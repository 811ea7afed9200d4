// `cgprof calibrate --device PROFILE --measured device.csv RUN_OR_INDEX...`: fit
// device ≈ a·cgprof + b per metric from on-device measurements, report the fit, and store it
// (and the per-core speed derived from the wall-time fit) in the device profile.
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cgprof/analysis.hpp"
#include "cgprof/device.hpp"
#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "cgprof/sys.hpp"
#include "commands.hpp"

namespace cgprof::cli {
namespace {

using nlohmann::json;

struct CalibrateArgs {
  std::string device, measured, output;
  std::vector<std::string> paths;
  bool no_speed = false, dry_run = false;
  std::string format = "table";
};

std::vector<analysis::RunPoint> run_points(const std::vector<report::LoadedRun>& runs) {
  std::vector<analysis::RunPoint> pts;
  for (const auto& r : runs)
    pts.push_back({r.dir, r.result.run_id, r.result.labels, analysis::run_metrics(r.result)});
  return pts;
}

// The speed factor the runs were made with: their CPU quota over the profile's core count, if
// every run had the same quota; else the profile's own speed.
double speed_used(const std::vector<report::LoadedRun>& runs, const DeviceProfile& p,
                  std::string* how) {
  std::optional<double> q;
  bool same = true;
  for (const auto& r : runs) {
    if (!r.result.quota_cores) continue;
    if (q && std::fabs(*q - *r.result.quota_cores) > 1e-9) same = false;
    q = r.result.quota_cores;
  }
  if (q && same && p.limits.cores && !p.limits.cpus) {
    *how = "runs' CPU quota " + std::to_string(*q) + " cores / " + std::to_string(*p.limits.cores) +
           " device cores";
    return *q / *p.limits.cores;
  }
  *how = "the profile's cpu.speed";
  return p.limits.core_speed;
}

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

std::string opt_num(const std::optional<double>& v, const char* suffix = "") {
  return v ? num(*v) + suffix : "-";
}

json opt_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

// "leave-one-out: median |error| 4.2%, 7 of 9 points within ±10%" (each point predicted from
// the fit on the others).
std::string loo_line(const analysis::LeaveOneOut& l) {
  if (l.evaluated == 0)
    return "  leave-one-out: not computed (needs 3 points, each predicted from a fit on the "
           "others)\n";
  const auto within = static_cast<std::size_t>(std::lround(l.share_within * l.evaluated));
  return "  leave-one-out: median |error| " + num(l.median_abs_pct_error) + "%, " +
         std::to_string(within) + " of " + std::to_string(l.evaluated) + " points within ±" +
         num(l.band_pct) + "% (each point predicted from the fit on the others)\n";
}

void run_calibrate(const CalibrateArgs& a) {
  DeviceProfile profile = find_device_profile(a.device);
  if (profile.source.empty())
    throw Error("calibrate: --device " + a.device +
                " is a built-in profile with no file; give a profile file (or -o FILE after "
                "copying one)");
  const auto measured = analysis::parse_measurements_csv(read_regular_file(a.measured, kMaxConfigFileBytes), a.measured);
  const auto runs = report::load_runs(a.paths);
  const auto cals = analysis::calibrate(measured, run_points(runs), a.measured);

  std::string text;
  json doc = {{"device", profile.name}, {"profile", profile.source}, {"metrics", json::array()}};
  std::map<std::string, CalibrationFit> fits;
  std::optional<double> new_speed;
  std::string speed_note;
  for (const auto& c : cals) {
    const auto& f = c.fit;
    CalibrationFit cf;
    cf.slope = f.slope;
    cf.intercept = f.intercept;
    cf.r2 = f.r2;
    cf.residual_stddev = f.residual_stddev;
    cf.points = static_cast<unsigned>(f.n);
    cf.x_mean = f.x_mean;
    cf.x_sxx = f.sxx;
    fits[c.metric] = cf;
    const char* unit = analysis::find_metric(c.metric).unit;
    text += c.metric + ": device = " + num(f.slope) + " * cgprof + " + num(f.intercept) + " " +
            unit + "   R² " + num(f.r2) + ", residual sd " + num(f.residual_stddev) + " " + unit +
            ", " + std::to_string(f.n) + " points\n";
    char line[512];
    std::snprintf(line, sizeof line, "  %-28s %14s %14s %14s %12s %14s %9s\n", "label", "cgprof",
                  "device", "fitted", "residual", "loo predicted", "loo err");
    text += line;
    json pts = json::array();
    for (std::size_t i = 0; i < c.points.size(); ++i) {
      const auto& p = c.points[i];
      const double fitted = f.slope * p.x + f.intercept;
      std::snprintf(line, sizeof line, "  %-28s %14s %14s %14s %12s %14s %9s%s\n",
                    escape_control(p.label).c_str(), num(p.x).c_str(), num(p.y).c_str(),
                    num(fitted).c_str(), num(f.residuals[i]).c_str(),
                    opt_num(c.loo.predicted[i]).c_str(), opt_num(c.loo.pct_error[i], "%").c_str(),
                    i == f.worst ? "  <- worst" : "");
      text += line;
      pts.push_back({{"label", p.label},
                     {"cgprof", p.x},
                     {"device", p.y},
                     {"fitted", fitted},
                     {"residual", f.residuals[i]},
                     {"loo_predicted", opt_json(c.loo.predicted[i])},
                     {"loo_pct_error", opt_json(c.loo.pct_error[i])},
                     {"runs", p.runs}});
    }
    const auto& w = c.points[f.worst];
    text += "  worst point: " + w.label + " (residual " + num(f.residuals[f.worst]) + " " + unit +
            ", " + num(w.y != 0 ? 100 * f.residuals[f.worst] / w.y : 0) +
            "% of the device value)\n";
    text += loo_line(c.loo);
    if (f.n < 3) text += "  note: 2 points fit exactly; R² and the residuals say nothing yet\n";
    json loo = {{"evaluated", c.loo.evaluated}, {"band_pct", c.loo.band_pct}};
    loo["median_abs_pct_error"] = c.loo.evaluated ? json(c.loo.median_abs_pct_error) : json(nullptr);
    loo["share_within"] = c.loo.evaluated ? json(c.loo.share_within) : json(nullptr);
    doc["metrics"].push_back({{"metric", c.metric},
                              {"slope", f.slope},
                              {"intercept", f.intercept},
                              {"r2", f.r2},
                              {"residual_stddev", f.residual_stddev},
                              {"points", pts},
                              {"leave_one_out", loo},
                              {"worst", w.label}});
    if (c.metric == "wall_time" && !a.no_speed) {
      if (!profile.limits.cores) {
        speed_note = "core speed: not derived (the profile sets no cpu.cores)";
      } else if (profile.limits.cpus) {
        speed_note = "core speed: not derived (the profile fixes the quota with cpu.cpus)";
      } else {
        std::string how;
        const double used = speed_used(runs, profile, &how);
        new_speed = analysis::derived_core_speed(used, f.slope);
        speed_note = "core speed: " + num(used) + " (from " + how + ") / slope " + num(f.slope) +
                     " = " + num(*new_speed) + " host cores per device core";
      }
    }
  }
  if (!speed_note.empty()) text += speed_note + "\n";
  if (new_speed) doc["core_speed"] = *new_speed;

  const std::string target = a.output.empty() ? profile.source : a.output;
  if (!a.dry_run) {
    if (target != profile.source) report::write_file_atomic(target, read_regular_file(profile.source, kMaxConfigFileBytes));
    // Both writers validate the edited profile before they replace the file atomically.
    write_profile_calibration(target, fits);
    if (new_speed) write_profile_core_speed(target, *new_speed);
    text += "wrote calibration" + std::string(new_speed ? " and cpu.speed" : "") + " to " + target +
            "\n";
    doc["written_to"] = target;
  }
  const std::string out = a.format == "json" ? doc.dump(2) + "\n" : text;
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

void add_calibrate_command(CLI::App& app, Outcome& out) {
  auto args = std::make_shared<CalibrateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate",
      "Fit device = a*cgprof + b per metric from on-device measurements; store it in a profile");
  cmd->add_option("--device,-d", args->device, "Device profile to calibrate (NAME or FILE)")
      ->required()
      ->type_name("PROFILE");
  cmd->add_option("--measured", args->measured,
                  "CSV of on-device values: label,metric,value (see cgprof-calibrate(1))")
      ->required()
      ->type_name("FILE.csv");
  cmd->add_option("results", args->paths, "Result directories of the same workloads under cgprof")
      ->required()
      ->type_name("RUN_OR_INDEX");
  cmd->add_option("-o,--output", args->output,
                  "Write the calibrated profile to FILE (default: update the profile in place)")
      ->type_name("FILE");
  cmd->add_flag("--no-speed", args->no_speed,
                "Do not derive cpu.speed from the wall_time fit (store the fits only)");
  cmd->add_flag("--dry-run", args->dry_run, "Print the fits, write nothing");
  cmd->add_option("--format", args->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([args, &out] {
    run_calibrate(*args);
    out.exit_code = 0;
  });
}

}  // namespace cgprof::cli
