// Where `--device NAME` looks for profiles, and the listing behind `cgprof devices`.
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "cgprof/device.hpp"
#include "cgprof/error.hpp"
#include "cgprof_config.h"

namespace cgprof {
namespace {

namespace fs = std::filesystem;

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string executable_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string exe(buf, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

// The *.toml files of one directory, sorted, so listings and lookups are reproducible.
std::vector<std::string> profile_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    std::error_code ec2;
    if (p.extension() == ".toml" && entry.is_regular_file(ec2)) files.push_back(p.string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool answers_to(const DeviceProfile& p, const std::string& name) {
  return p.name == name || std::find(p.aliases.begin(), p.aliases.end(), name) != p.aliases.end();
}

}  // namespace

bool is_device_file_argument(std::string_view arg) {
  return arg.find('/') != std::string_view::npos ||
         (arg.size() > 5 && arg.substr(arg.size() - 5) == ".toml");
}

std::vector<DeviceSearchDir> device_search_dirs() {
  std::vector<DeviceSearchDir> candidates;
  if (const char* env = std::getenv("CGPROF_DEVICES_PATH")) {
    std::string_view rest = env;
    while (!rest.empty()) {
      size_t colon = rest.find(':');
      std::string_view item = rest.substr(0, colon);
      if (!item.empty()) candidates.push_back({std::string(item), "CGPROF_DEVICES_PATH"});
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    candidates.push_back({std::string(xdg) + "/cgprof/devices", "user"});
  else if (const char* home = std::getenv("HOME"); home && *home)
    candidates.push_back({std::string(home) + "/.config/cgprof/devices", "user"});
  candidates.push_back({std::string(CGPROF_DATADIR) + "/devices", "installed"});
  if (std::string exe = executable_dir(); !exe.empty())
    candidates.push_back({exe + "/../share/cgprof/devices", "installed"});
  candidates.push_back({std::string(CGPROF_SOURCE_DIR) + "/configs/devices", "source tree"});

  std::vector<DeviceSearchDir> dirs;
  std::set<std::string> seen;
  for (auto& c : candidates) {
    if (!is_dir(c.path)) continue;
    std::error_code ec;
    fs::path canonical = fs::canonical(c.path, ec);
    if (!seen.insert(ec ? c.path : canonical.string()).second) continue;
    if (!ec) c.path = canonical.string();
    dirs.push_back(std::move(c));
  }
  return dirs;
}

std::vector<DeviceListing> list_device_profiles(const std::vector<DeviceSearchDir>& dirs) {
  std::vector<DeviceListing> out;
  std::set<std::string> names;
  for (const DeviceSearchDir& dir : dirs) {
    for (const std::string& file : profile_files(dir.path)) {
      DeviceListing item;
      item.path = file;
      item.origin = dir.origin;
      std::string name = fs::path(file).stem().string();
      try {
        item.profile = load_device_profile(file);
        item.profile->origin = dir.origin;
        name = item.profile->name;
      } catch (const Error& e) {
        item.error = e.message();
      }
      item.shadowed = !names.insert(name).second;
      out.push_back(std::move(item));
    }
  }
  return out;
}

DeviceProfile find_device_profile(const std::string& name_or_file,
                                  const std::vector<DeviceSearchDir>& dirs) {
  if (name_or_file.empty()) throw Error("--device: expected a profile name or a .toml file");
  if (is_device_file_argument(name_or_file)) return load_device_profile(name_or_file);
  for (const DeviceSearchDir& dir : dirs) {
    // A file named after the profile wins, and a broken one is reported, not skipped.
    std::string direct = dir.path + "/" + name_or_file + ".toml";
    if (is_file(direct)) {
      DeviceProfile p = load_device_profile(direct);
      p.origin = dir.origin;
      return p;
    }
    for (const std::string& file : profile_files(dir.path)) {
      try {
        DeviceProfile p = load_device_profile(file);
        if (!answers_to(p, name_or_file)) continue;
        p.origin = dir.origin;
        return p;
      } catch (const Error&) {
        // Broken files are shown by `cgprof devices`; they cannot match a name here.
      }
    }
  }
  if (name_or_file == "host") return host_device_profile();

  std::set<std::string> available;
  for (const DeviceListing& item : list_device_profiles(dirs))
    if (item.profile) available.insert(item.profile->name);
  std::string msg = "device profile \"" + name_or_file + "\" not found; available: ";
  if (available.empty()) {
    msg += "none";
  } else {
    bool first = true;
    for (const std::string& n : available) {
      msg += (first ? "" : ", ") + n;
      first = false;
    }
  }
  msg += " (give a .toml file, or add a directory to CGPROF_DEVICES_PATH)";
  throw Error(msg);
}

}  // namespace cgprof
