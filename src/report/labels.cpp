// Labels (`cgprof run --label K=V`, an experiment's `labels = {...}`): one spelling that every
// consumer can match: compare --by KEY, calibration CSV labels "k=v;k=v", index.csv columns.
#include <map>

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"

namespace cgprof::report {
namespace {

bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == '/';
}

}  // namespace

std::string label_problem(std::string_view key, std::string_view value) {
  if (key.empty()) return "the key is empty; expected KEY=VALUE like model=resnet18";
  for (char c : key)
    if (!key_char(c))
      return "key \"" + std::string(key) +
             "\" must be letters, digits, '_', '-', '.' or '/' (it names a label to group by)";
  for (char c : value)
    if (c == ';' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return "value \"" + std::string(value) +
             "\" must not contain spaces, control characters or ';' (calibration CSVs match "
             "labels as k=v;k=v)";
  return "";
}

std::pair<std::string, std::string> parse_label(std::string_view arg) {
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos)
    throw Error("--label " + std::string(arg) + ": expected KEY=VALUE like model=resnet18");
  std::string key(arg.substr(0, eq)), value(arg.substr(eq + 1));
  if (std::string why = label_problem(key, value); !why.empty())
    throw Error("--label " + std::string(arg) + ": " + why);
  return {std::move(key), std::move(value)};
}

std::map<std::string, std::string> parse_labels(const std::vector<std::string>& args) {
  std::map<std::string, std::string> out;
  for (const auto& a : args) {
    auto [key, value] = parse_label(a);
    if (!out.emplace(key, value).second)
      throw Error("--label " + a + ": key \"" + key + "\" is given twice; give each key once");
  }
  return out;
}

}  // namespace cgprof::report
