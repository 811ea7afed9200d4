// Parsing of docker-spelled options into spec pieces: -v, -e, --env-file.
#include <cctype>
#include <cstdlib>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {
namespace {

bool valid_env_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (c == '\0' || c == '=') return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Volume parse_volume(std::string_view arg) {
  auto bad = [&](const std::string& why) {
    return Error("volume \"" + std::string(arg) + "\": " + why +
                 " (expected HOST:CONTAINER[:ro], e.g. -v ./models:/models:ro)");
  };
  Volume v;
  size_t first = arg.find(':');
  if (first == std::string_view::npos) throw bad("missing ':CONTAINER'");
  v.host_path = arg.substr(0, first);
  std::string_view rest = arg.substr(first + 1);
  size_t second = rest.find(':');
  if (second != std::string_view::npos) {
    std::string_view mode = rest.substr(second + 1);
    rest = rest.substr(0, second);
    // docker accepts a comma list of options; we honour ro/rw and refuse the rest loudly.
    while (!mode.empty()) {
      size_t comma = mode.find(',');
      std::string_view opt = mode.substr(0, comma);
      if (opt == "ro") {
        v.read_only = true;
      } else if (opt == "rw") {
        v.read_only = false;
      } else {
        throw bad("unsupported option \"" + std::string(opt) + "\" (only ro and rw)");
      }
      if (comma == std::string_view::npos) break;
      mode.remove_prefix(comma + 1);
    }
  }
  v.container_path = rest;
  if (v.host_path.empty()) throw bad("empty host path");
  if (v.container_path.empty() || v.container_path[0] != '/')
    throw bad("the container path must be absolute");
  // Lexically clean ("//", ".", "..") before judging where it lands; symlinks inside the
  // rootfs are checked again where the mount is made (rootfs_setup.cpp).
  std::vector<std::string_view> parts;
  for (std::string_view rest = v.container_path; !rest.empty();) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  if (parts.empty()) throw bad("cannot mount over the container's /");
  for (const char* kernel : {"proc", "sys", "dev"})
    if (parts.front() == kernel)
      throw bad(std::string("cannot mount onto /") + kernel +
                " or beneath it: the container's kernel file systems are set up by cgprof (as "
                "runc refuses them)");
  return v;
}

std::string hostname_problem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > 64) return "is longer than 64 characters";
  size_t label_start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      const std::string_view label = name.substr(label_start, i - label_start);
      if (label.empty()) return "has an empty label (two dots, or a dot at either end)";
      if (label.front() == '-' || label.back() == '-')
        return "has a label that starts or ends with '-'";
      label_start = i + 1;
      continue;
    }
    const char c = name[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return "may hold only letters, digits, '-', '_' and '.'";
  }
  return "";
}

std::optional<std::string> parse_env_arg(std::string_view arg) {
  size_t eq = arg.find('=');
  std::string_view name = arg.substr(0, eq);
  if (!valid_env_name(name))
    throw Error("environment variable \"" + std::string(arg) +
                "\": expected NAME=VALUE or NAME (to pass the host's value)");
  if (eq != std::string_view::npos) return std::string(arg);
  const char* host = std::getenv(std::string(name).c_str());
  if (!host) return std::nullopt;
  return std::string(name) + "=" + host;
}

std::vector<std::string> parse_env_file(std::string_view content, std::string_view path) {
  std::vector<std::string> out;
  int line_no = 0;
  while (!content.empty()) {
    ++line_no;
    size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content = nl == std::string_view::npos ? std::string_view{} : content.substr(nl + 1);
    std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    // docker keeps the value verbatim after '=' (no quote processing); only the name is trimmed.
    size_t eq = line.find('=');
    std::string_view name = trim(line.substr(0, eq));
    if (!valid_env_name(name) || name.find(' ') != std::string_view::npos)
      throw Error("env file " + std::string(path) + ": line " + std::to_string(line_no) +
                  ": expected NAME=VALUE or NAME, got \"" + std::string(t) + "\"");
    std::string item = std::string(name);
    if (eq != std::string_view::npos) {
      item += '=';
      std::string_view value = line.substr(eq + 1);
      if (!value.empty() && value.back() == '\r') value.remove_suffix(1);
      item += value;
      out.push_back(std::move(item));
    } else if (auto v = parse_env_arg(name)) {
      out.push_back(std::move(*v));
    }
  }
  return out;
}

void set_env(std::vector<std::string>& env, std::string_view assignment) {
  size_t eq = assignment.find('=');
  std::string_view key = assignment.substr(0, eq);
  for (auto& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      e = assignment;
      return;
    }
  }
  env.emplace_back(assignment);
}

const std::string* find_env(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& e : env)
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return &e;
  return nullptr;
}

}  // namespace cgprof::sandbox
