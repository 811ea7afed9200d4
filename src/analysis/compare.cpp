// Ranking items by a metric and measuring how well two rankings agree.
#include <algorithm>
#include <limits>
#include <string>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

namespace cgprof::analysis {

std::vector<RankedItem> rank_items(const std::map<std::string, std::vector<double>>& groups) {
  std::vector<RankedItem> items;
  for (const auto& [key, values] : groups) {
    if (values.empty()) continue;
    RankedItem it;
    it.key = key;
    it.value = summarize(values);
    items.push_back(std::move(it));
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.value.mean < b.value.mean; });
  if (items.empty()) return items;
  const double best = items.front().value.mean;
  for (std::size_t i = 0; i < items.size(); ++i) {
    // Competition ranking ("1, 2, 2, 4"): equal means share the better rank.
    items[i].rank = (i > 0 && items[i].value.mean == items[i - 1].value.mean)
                        ? items[i - 1].rank
                        : static_cast<unsigned>(i + 1);
    items[i].ratio_to_best = best != 0                  ? items[i].value.mean / best
                             : items[i].value.mean == 0 ? 1
                                                        : std::numeric_limits<double>::infinity();
  }
  return items;
}

RankAgreement rank_agreement(const std::map<std::string, double>& a,
                             const std::map<std::string, double>& b) {
  RankAgreement r;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end()) {
      r.only_a.push_back(k);
      continue;
    }
    r.keys.push_back(k);
    r.a.push_back(v);
    r.b.push_back(it->second);
  }
  for (const auto& [k, v] : b)
    if (!a.count(k)) r.only_b.push_back(k);
  if (r.keys.size() < 2)
    throw Error("rank correlation needs at least 2 items present in both sets, found " +
                std::to_string(r.keys.size()) +
                (r.keys.empty() ? "" : " (" + r.keys.front() + ")") +
                "; check that the labels of the two sets match");
  r.kendall_tau = kendall_tau_b(r.a, r.b);
  r.spearman_rho = spearman_rho(r.a, r.b);
  return r;
}

std::string label_key(const std::map<std::string, std::string>& labels,
                      const std::vector<std::string>& skip) {
  std::string s;
  for (const auto& [k, v] : labels) {
    if (std::find(skip.begin(), skip.end(), k) != skip.end()) continue;
    s += (s.empty() ? "" : " ") + k + "=" + v;
  }
  return s;
}

bool label_matches(std::string_view csv_label, const std::map<std::string, std::string>& labels,
                   const std::string& run_id, const std::string& dir) {
  if (csv_label.find('=') == std::string_view::npos) {
    for (const auto& [k, v] : labels)
      if (v == csv_label) return true;
    std::string_view base = dir;
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    if (auto p = base.rfind('/'); p != std::string_view::npos) base.remove_prefix(p + 1);
    return csv_label == run_id || (!base.empty() && csv_label == base);
  }
  // Pairs separated by ';' or whitespace (a CSV field cannot hold a bare ',').
  std::size_t pos = 0;
  bool any = false;
  while (pos < csv_label.size()) {
    std::size_t end = csv_label.find_first_of("; ", pos);
    if (end == std::string_view::npos) end = csv_label.size();
    std::string_view pair = csv_label.substr(pos, end - pos);
    pos = end + 1;
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) return false;
    auto it = labels.find(std::string(pair.substr(0, eq)));
    if (it == labels.end() || it->second != pair.substr(eq + 1)) return false;
    any = true;
  }
  return any;
}

}  // namespace cgprof::analysis
