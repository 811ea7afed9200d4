// Pairing on-device measurements with cgprof runs and fitting one line per metric.
#include <set>
#include <string>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

namespace cgprof::analysis {

std::vector<MetricCalibration> calibrate(const std::vector<Measurement>& measured,
                                         const std::vector<RunPoint>& runs,
                                         const std::string& csv_name) {
  // metric -> label (first-appearance order) -> device values
  std::vector<std::string> metric_order;
  std::map<std::string, std::vector<std::string>> label_order;
  std::map<std::string, std::map<std::string, std::vector<double>>> device;
  std::map<std::string, unsigned> first_line;
  for (const auto& m : measured) {
    if (!device.count(m.metric)) metric_order.push_back(m.metric);
    auto& per_label = device[m.metric];
    if (!per_label.count(m.label)) {
      label_order[m.metric].push_back(m.label);
      first_line[m.metric + "\n" + m.label] = m.line;
    }
    per_label[m.label].push_back(m.value);
  }
  std::vector<MetricCalibration> out;
  for (const auto& metric : metric_order) {
    MetricCalibration mc;
    mc.metric = metric;
    std::vector<double> xs, ys;
    for (const auto& label : label_order[metric]) {
      CalibrationPoint p;
      p.label = label;
      p.y = mean(device[metric][label]);
      std::vector<double> x;
      for (const auto& r : runs) {
        auto it = r.metrics.find(metric);
        if (it != r.metrics.end() && label_matches(label, r.labels, r.run_id, r.dir))
          x.push_back(it->second);
      }
      if (x.empty()) {
        std::set<std::string> known;
        for (const auto& r : runs) {
          const std::string k = label_key(r.labels);
          known.insert(k.empty() ? r.run_id : k);
        }
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        throw Error(csv_name + ": line " + std::to_string(first_line[metric + "\n" + label]) +
                    ": label \"" + label + "\" matches no run with " + metric +
                    "; the runs have labels: " + (list.empty() ? "(none)" : list));
      }
      p.x = mean(x);
      p.runs = x.size();
      xs.push_back(p.x);
      ys.push_back(p.y);
      mc.points.push_back(std::move(p));
    }
    mc.fit = with_context(csv_name + ": metric " + metric, [&] { return fit_linear(xs, ys); });
    mc.loo = leave_one_out(xs, ys);
    out.push_back(std::move(mc));
  }
  return out;
}

double derived_core_speed(double speed_used, double wall_time_slope) {
  if (!(wall_time_slope > 0))
    throw Error("cannot derive a core speed: the wall_time fit has slope " +
                std::to_string(wall_time_slope) +
                " (device time does not grow with cgprof time); measure more varied workloads");
  return speed_used / wall_time_slope;
}

}  // namespace cgprof::analysis
