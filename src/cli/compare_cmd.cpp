// `cgprof compare RUN_OR_DIR...`: rank runs (or label groups) by a metric, with the ratio to
// the best; with two sets (--by device, or --against on-device numbers) say how well their
// rankings agree (Kendall tau-b, Spearman rho).
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"
#include "cgprof/report.hpp"
#include "cgprof/sys.hpp"
#include "commands.hpp"

namespace cgprof::cli {
namespace {

using nlohmann::json;

struct CompareArgs {
  std::vector<std::string> paths;
  std::string metric = "wall_time";
  std::string by;                  // "" or "device" or a label key
  std::string against;             // CSV of on-device measurements
  std::vector<std::string> group;  // label keys that name an item ("" = all labels)
  std::string format = "table";
};

std::string base_name(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  auto p = d.rfind('/');
  return p == std::string::npos ? d : d.substr(p + 1);
}

// An item is what a ranking orders: runs with the same labels (repeats) are one item.
std::string item_key(const report::LoadedRun& r, const CompareArgs& a) {
  std::map<std::string, std::string> labels;
  if (a.group.empty()) {
    labels = r.result.labels;
  } else {
    for (const auto& k : a.group)
      if (auto it = r.result.labels.find(k); it != r.result.labels.end()) labels.insert(*it);
  }
  std::vector<std::string> skip;
  if (!a.by.empty() && a.by != "device") skip.push_back(a.by);
  std::string key = analysis::label_key(labels, skip);
  if (key.empty()) key = a.by == "device" ? "" : base_name(r.dir);
  if (key.empty()) key = r.result.command.empty() ? base_name(r.dir) : r.result.command[0];
  return key;
}

std::string set_of(const report::LoadedRun& r, const CompareArgs& a) {
  if (a.by == "device") return r.result.device_name.empty() ? "host" : r.result.device_name;
  auto it = r.result.labels.find(a.by);
  return it == r.result.labels.end() ? "(no " + a.by + ")" : it->second;
}

std::string human(double v, const char* unit) {
  char buf[64];
  const std::string u = unit;
  if (u == "bytes") {
    const char* names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (std::fabs(v) >= 1024 && i < 4) v /= 1024, ++i;
    std::snprintf(buf, sizeof buf, "%.4g %s", v, names[i]);
  } else if (u == "s") {
    std::snprintf(buf, sizeof buf, "%.4g s", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4g %s", v, unit);
  }
  return buf;
}

std::string ranking_table(const std::vector<analysis::RankedItem>& items,
                          const analysis::MetricInfo& m) {
  std::size_t w = 4;
  std::vector<std::string> keys;  // escaped: item names come from labels and result files
  for (const auto& it : items) {
    keys.push_back(escape_control(it.key));
    w = std::max(w, keys.back().size());
  }
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-4s  %-*s  %4s  %-28s  %s\n", "rank", static_cast<int>(w),
                "item", "runs", (std::string(m.name) + " (mean ± 95% CI)").c_str(), "vs best");
  out += line;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& it = items[i];
    std::string value = human(it.value.mean, m.unit);
    if (it.value.n > 1) value += " ± " + human(it.value.ci_high - it.value.mean, m.unit);
    std::snprintf(line, sizeof line, "%-4u  %-*s  %4zu  %-28s  %.2fx\n", it.rank,
                  static_cast<int>(w), keys[i].c_str(), it.value.n, value.c_str(), it.ratio_to_best);
    out += line;
  }
  return out;
}

json ranking_json(const std::vector<analysis::RankedItem>& items) {
  json arr = json::array();
  for (const auto& it : items)
    arr.push_back({{"rank", it.rank},
                   {"item", it.key},
                   {"runs", it.value.n},
                   {"mean", it.value.mean},
                   {"stddev", it.value.stddev},
                   {"ci_low", it.value.ci_low},
                   {"ci_high", it.value.ci_high},
                   {"ratio_to_best", it.ratio_to_best}});
  return arr;
}

std::string agreement_text(const std::string& a, const std::string& b,
                           const analysis::RankAgreement& r) {
  char line[512];
  std::snprintf(line, sizeof line,
                "%s vs %s: Kendall tau-b %.3f, Spearman rho %.3f over %zu items\n",
                escape_control(a).c_str(), escape_control(b).c_str(), r.kendall_tau, r.spearman_rho, r.keys.size());
  std::string out = line;
  for (const auto& k : r.only_a) out += escape_control("  only in " + a + ": " + k) + "\n";
  for (const auto& k : r.only_b) out += escape_control("  only in " + b + ": " + k) + "\n";
  return out;
}

json agreement_json(const std::string& a, const std::string& b, const analysis::RankAgreement& r) {
  auto num = [](double v) { return std::isnan(v) ? json(nullptr) : json(v); };
  return {{"a", a},
          {"b", b},
          {"items", r.keys},
          {"kendall_tau_b", num(r.kendall_tau)},
          {"spearman_rho", num(r.spearman_rho)},
          {"only_a", r.only_a},
          {"only_b", r.only_b}};
}

using Groups = std::map<std::string, std::vector<double>>;

std::map<std::string, double> means(const std::vector<analysis::RankedItem>& items) {
  std::map<std::string, double> m;
  for (const auto& it : items) m[it.key] = it.value.mean;
  return m;
}

void run_compare(const CompareArgs& a) {
  const analysis::MetricInfo& metric = analysis::find_metric(a.metric);
  const auto runs = report::load_runs(a.paths);
  std::string text;
  json doc = {{"metric", metric.name}, {"unit", metric.unit}};
  std::size_t missing = 0;
  auto value_of = [&](const report::LoadedRun& r, double* v) {
    auto m = analysis::run_metrics(r.result);
    auto it = m.find(metric.name);
    if (it == m.end()) {
      ++missing;
      return false;
    }
    *v = it->second;
    return true;
  };

  if (!a.against.empty()) {
    // cgprof's numbers keyed by the CSV's labels, against the device's numbers.
    const auto meas = analysis::parse_measurements_csv(read_regular_file(a.against, kMaxConfigFileBytes), a.against);
    std::map<std::string, double> device;
    for (const auto& m : meas)
      if (m.metric == metric.name) device[m.label] = m.value;
    if (device.empty())
      throw Error(a.against + ": no rows for metric " + metric.name +
                  "; pick one the file has with --metric");
    Groups cg;
    for (const auto& [label, v] : device) {
      for (const auto& r : runs) {
        double x;
        if (analysis::label_matches(label, r.result.labels, r.result.run_id, r.dir) &&
            value_of(r, &x))
          cg[label].push_back(x);
      }
    }
    const auto ranked = analysis::rank_items(cg);
    Groups dev_groups;
    for (const auto& [k, v] : device) dev_groups[k] = {v};
    const auto dev_ranked = analysis::rank_items(dev_groups);
    text += "cgprof:\n" + ranking_table(ranked, metric) + "\n";
    text += "device (" + a.against + "):\n" + ranking_table(dev_ranked, metric) + "\n";
    auto agree = analysis::rank_agreement(means(ranked), device);
    text += agreement_text("cgprof", "device", agree);
    doc["rankings"] = {{"cgprof", ranking_json(ranked)}, {"device", ranking_json(dev_ranked)}};
    doc["agreement"] = json::array({agreement_json("cgprof", "device", agree)});
  } else if (!a.by.empty()) {
    std::map<std::string, Groups> sets;
    for (const auto& r : runs) {
      double v;
      if (value_of(r, &v)) sets[set_of(r, a)][item_key(r, a)].push_back(v);
    }
    if (sets.size() < 2)
      throw Error("compare --by " + a.by + ": the runs form " + std::to_string(sets.size()) +
                  " set; rank correlation needs two (runs of at least two " +
                  (a.by == "device" ? std::string("devices") : "values of label " + a.by) + ")");
    std::map<std::string, std::vector<analysis::RankedItem>> ranked;
    doc["rankings"] = json::object();
    for (const auto& [set, groups] : sets) {
      ranked[set] = analysis::rank_items(groups);
      text += a.by + " " + set + ":\n" + ranking_table(ranked[set], metric) + "\n";
      doc["rankings"][set] = ranking_json(ranked[set]);
    }
    // Every set against the first one (sets are sorted by name).
    doc["agreement"] = json::array();
    const std::string first = sets.begin()->first;
    for (const auto& [set, items] : ranked) {
      if (set == first) continue;
      auto agree = analysis::rank_agreement(means(ranked[first]), means(items));
      text += agreement_text(first, set, agree);
      doc["agreement"].push_back(agreement_json(first, set, agree));
    }
  } else {
    Groups groups;
    for (const auto& r : runs) {
      double v;
      if (value_of(r, &v)) groups[item_key(r, a)].push_back(v);
    }
    const auto ranked = analysis::rank_items(groups);
    text += ranking_table(ranked, metric);
    doc["ranking"] = ranking_json(ranked);
  }
  if (missing)
    text += "(" + std::to_string(missing) + " run(s) without " + metric.name + " left out)\n";
  doc["runs_without_metric"] = missing;
  const std::string out = a.format == "json" ? doc.dump(2) + "\n" : text;
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

void add_compare_command(CLI::App& app, Outcome& out) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Rank runs or labelled groups of runs by a metric; rank agreement of two sets");
  cmd->alias("rank");
  cmd->add_option("results", args->paths,
                  "Result directories (runs, --repeat directories, experiments)")
      ->required()
      ->type_name("RUN_OR_DIR");
  std::string metrics;
  for (const auto& m : analysis::metric_catalog())
    metrics += (metrics.empty() ? "" : "|") + std::string(m.name);
  cmd->add_option("--metric,-m", args->metric, "Metric to rank by (lower is better): " + metrics)
      ->capture_default_str();
  cmd->add_option("--by", args->by,
                  "Split the runs into sets by `device` or by a label KEY, rank each set, and "
                  "report Kendall tau / Spearman rho of each set's ranking against the first")
      ->type_name("device|KEY");
  cmd->add_option("--against", args->against,
                  "CSV of on-device measurements (label,metric,value): rank agreement of "
                  "cgprof's ranking with the device's")
      ->type_name("FILE.csv");
  cmd->add_option("--group", args->group,
                  "Label keys that identify an item (default: all labels; runs with equal "
                  "items are repeats and are averaged)")
      ->type_name("KEY")
      ->delimiter(',');
  cmd->add_option("--format", args->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([args, &out] {
    if (!args->by.empty() && !args->against.empty())
      throw Error("compare: use either --by or --against, not both");
    run_compare(*args);
    out.exit_code = 0;
  });
}

}  // namespace cgprof::cli
