// Capability sets: docker's default set, --cap-add/--cap-drop, names via libcap.
#include <sys/capability.h>

#include <algorithm>
#include <cctype>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {
namespace {

CapSet bit(cap_value_t c) {
  return CapSet{1} << c;
}

CapSet all_capabilities() {
  // CAP_LAST_CAP of the headers may be older than the kernel; the bounding set is what exists.
  cap_value_t last = CAP_LAST_CAP;
  int max = cap_max_bits();
  if (max > 0) last = max - 1;
  return last >= 63 ? ~CapSet{0} : (bit(last + 1) - 1);
}

CapSet one(const std::string& raw) {
  std::string name = raw;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name.rfind("cap_", 0) != 0) name = "cap_" + name;
  cap_value_t v;
  if (cap_from_name(name.c_str(), &v) != 0)
    throw Error("capability \"" + raw +
                "\": unknown (use names like NET_ADMIN or CAP_SYS_PTRACE, or ALL)");
  return bit(v);
}

bool is_all(const std::string& s) {
  return s.size() == 3 && std::toupper(s[0]) == 'A' && std::toupper(s[1]) == 'L' &&
         std::toupper(s[2]) == 'L';
}

}  // namespace

CapSet default_capabilities() {
  return bit(CAP_CHOWN) | bit(CAP_DAC_OVERRIDE) | bit(CAP_FSETID) | bit(CAP_FOWNER) |
         bit(CAP_MKNOD) | bit(CAP_NET_RAW) | bit(CAP_SETGID) | bit(CAP_SETUID) | bit(CAP_SETFCAP) |
         bit(CAP_SETPCAP) | bit(CAP_NET_BIND_SERVICE) | bit(CAP_SYS_CHROOT) | bit(CAP_KILL) |
         bit(CAP_AUDIT_WRITE);
}

CapSet resolve_capabilities(const std::vector<std::string>& add,
                            const std::vector<std::string>& drop) {
  bool add_all = std::any_of(add.begin(), add.end(), is_all);
  bool drop_all = std::any_of(drop.begin(), drop.end(), is_all);
  CapSet set = default_capabilities();
  if (add_all) {
    set = all_capabilities();
    for (const auto& d : drop)
      if (!is_all(d)) set &= ~one(d);
    return set;
  }
  if (drop_all) set = 0;
  for (const auto& d : drop)
    if (!is_all(d)) set &= ~one(d);
  for (const auto& a : add) set |= one(a);
  return set & all_capabilities();
}

std::string capability_names(CapSet set) {
  std::string out;
  for (int c = 0; c < 64; ++c) {
    if (!(set & bit(c))) continue;
    char* n = cap_to_name(c);
    std::string name = n ? n : std::to_string(c);
    cap_free(n);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

}  // namespace cgprof::sandbox
