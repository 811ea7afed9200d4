// docker's seccomp profile JSON (the common subset) -> SeccompPolicy. Unknown fields and
// actions are refused rather than ignored: a profile that silently loses a rule is worse than
// one that does not load.
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/utsname.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {
namespace {

using nlohmann::json;

struct Ctx {
  std::string path;
  [[noreturn]] void fail(const std::string& where, const std::string& why) const {
    throw Error("seccomp profile " + path + ": " + where + ": " + why);
  }
};

SeccompAction parse_action(const Ctx& c, const std::string& where, const json& v) {
  if (!v.is_string()) c.fail(where, "expected a string like \"SCMP_ACT_ERRNO\"");
  std::string s = v.get<std::string>();
  if (s == "SCMP_ACT_ALLOW") return SeccompAction::kAllow;
  if (s == "SCMP_ACT_ERRNO") return SeccompAction::kErrno;
  if (s == "SCMP_ACT_KILL" || s == "SCMP_ACT_KILL_THREAD") return SeccompAction::kKillThread;
  if (s == "SCMP_ACT_KILL_PROCESS") return SeccompAction::kKillProcess;
  if (s == "SCMP_ACT_TRAP") return SeccompAction::kTrap;
  if (s == "SCMP_ACT_LOG") return SeccompAction::kLog;
  c.fail(where, "unsupported action \"" + s +
                    "\" (supported: SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, "
                    "SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_LOG)");
}

SeccompArg::Op parse_op(const Ctx& c, const std::string& where, const json& v) {
  if (!v.is_string()) c.fail(where, "expected a string like \"SCMP_CMP_EQ\"");
  std::string s = v.get<std::string>();
  using Op = SeccompArg::Op;
  if (s == "SCMP_CMP_NE") return Op::kNotEqual;
  if (s == "SCMP_CMP_LT") return Op::kLess;
  if (s == "SCMP_CMP_LE") return Op::kLessEqual;
  if (s == "SCMP_CMP_EQ") return Op::kEqual;
  if (s == "SCMP_CMP_GE") return Op::kGreaterEqual;
  if (s == "SCMP_CMP_GT") return Op::kGreater;
  if (s == "SCMP_CMP_MASKED_EQ") return Op::kMaskedEqual;
  c.fail(where, "unknown op \"" + s + "\"");
}

std::uint64_t parse_u64_field(const Ctx& c, const std::string& where, const json& v) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    c.fail(where, "expected a non-negative integer");
  return v.get<std::uint64_t>();
}

int parse_errno_field(const Ctx& c, const std::string& where, const json& v) {
  std::uint64_t e = parse_u64_field(c, where, v);
  if (e > 4095) c.fail(where, "errno must be 0..4095");
  return static_cast<int>(e);
}

std::string native_arch() {
  utsname u{};
  uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (m == "i686" || m == "i386") return "x86";
  return m;
}

bool kernel_at_least(const std::string& want) {
  utsname u{};
  uname(&u);
  unsigned a = 0, b = 0, x = 0, y = 0;
  std::sscanf(u.release, "%u.%u", &a, &b);
  std::sscanf(want.c_str(), "%u.%u", &x, &y);
  return a != x ? a > x : b >= y;
}

bool has_cap(CapSet caps, const std::string& name) {
  std::string n = name;
  for (auto& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  cap_value_t v;
  if (cap_from_name(n.c_str(), &v) != 0) return false;
  return (caps >> v) & 1;
}

void check_keys(const Ctx& c, const std::string& where, const json& obj,
                std::initializer_list<const char*> allowed) {
  if (!obj.is_object()) c.fail(where, "expected an object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok |= it.key() == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      c.fail(where, "unknown field \"" + it.key() + "\" (known: " + list + ")");
    }
  }
}

std::vector<std::string> string_list(const Ctx& c, const std::string& where, const json& v) {
  if (!v.is_array()) c.fail(where, "expected an array of strings");
  std::vector<std::string> out;
  for (const auto& s : v) {
    if (!s.is_string()) c.fail(where, "expected an array of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

// includes/excludes: {caps: [...], arches: [...], minKernel: "x.y"}.
struct Filter {
  std::vector<std::string> caps, arches;
  std::string min_kernel;
};
Filter parse_filter(const Ctx& c, const std::string& where, const json& v) {
  check_keys(c, where, v, {"caps", "arches", "minKernel"});
  Filter f;
  if (v.contains("caps")) f.caps = string_list(c, where + ".caps", v["caps"]);
  if (v.contains("arches")) f.arches = string_list(c, where + ".arches", v["arches"]);
  if (v.contains("minKernel")) {
    if (!v["minKernel"].is_string()) c.fail(where + ".minKernel", "expected \"X.Y\"");
    f.min_kernel = v["minKernel"].get<std::string>();
  }
  return f;
}

// "SCMP_ARCH_X86_64" -> "x86_64", libseccomp's name, checked to be one it knows.
std::string arch_name(const Ctx& c, const std::string& where, const json& v) {
  if (!v.is_string()) c.fail(where, "expected a string like \"SCMP_ARCH_X86_64\"");
  std::string s = v.get<std::string>();
  if (s.rfind("SCMP_ARCH_", 0) == 0) s = s.substr(10);
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (seccomp_arch_resolve_name(s.c_str()) == 0)
    c.fail(where, "unknown architecture \"" + v.get<std::string>() + "\"");
  return s;
}

// docker: "architectures" as listed; "archMap": the entry of the native architecture and its
// subArchitectures. Neither: the native one only.
std::vector<std::string> parse_arches(const Ctx& c, const json& doc) {
  std::vector<std::string> out;
  if (doc.contains("architectures") && !doc["architectures"].is_null()) {
    if (!doc["architectures"].is_array()) c.fail("architectures", "expected an array");
    for (size_t i = 0; i < doc["architectures"].size(); ++i)
      out.push_back(
          arch_name(c, "architectures[" + std::to_string(i) + "]", doc["architectures"][i]));
  }
  if (doc.contains("archMap") && !doc["archMap"].is_null()) {
    const json& map = doc["archMap"];
    if (!map.is_array()) c.fail("archMap", "expected an array");
    for (size_t i = 0; i < map.size(); ++i) {
      const std::string where = "archMap[" + std::to_string(i) + "]";
      check_keys(c, where, map[i], {"architecture", "subArchitectures"});
      if (!map[i].contains("architecture")) c.fail(where + ".architecture", "missing");
      std::string arch = arch_name(c, where + ".architecture", map[i]["architecture"]);
      if (seccomp_arch_resolve_name(arch.c_str()) != seccomp_arch_native()) continue;
      out.push_back(arch);
      const json& subs = map[i].value("subArchitectures", json());
      if (subs.is_null()) continue;
      if (!subs.is_array()) c.fail(where + ".subArchitectures", "expected an array");
      for (size_t j = 0; j < subs.size(); ++j)
        out.push_back(
            arch_name(c, where + ".subArchitectures[" + std::to_string(j) + "]", subs[j]));
    }
  }
  return out;
}

}  // namespace

SeccompPolicy parse_seccomp_profile(std::string_view text, std::string_view path, CapSet caps) {
  Ctx c{std::string(path)};
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    c.fail("JSON", e.what());
  }
  check_keys(c, "top level", doc,
             {"defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls", "flags",
              "comment"});
  if (doc.contains("flags") && !(doc["flags"].is_array() && doc["flags"].empty()) &&
      !doc["flags"].is_null())
    c.fail("flags", "filter flags are not supported; remove the field");
  if (!doc.contains("defaultAction")) c.fail("defaultAction", "missing");
  SeccompPolicy p;
  p.default_action = parse_action(c, "defaultAction", doc["defaultAction"]);
  p.default_errno = EPERM;
  if (doc.contains("defaultErrnoRet"))
    p.default_errno = parse_errno_field(c, "defaultErrnoRet", doc["defaultErrnoRet"]);
  p.arches = parse_arches(c, doc);
  const std::string arch = native_arch();
  if (doc.contains("syscalls")) {
    const json& calls = doc["syscalls"];
    if (!calls.is_array()) c.fail("syscalls", "expected an array");
    for (size_t i = 0; i < calls.size(); ++i) {
      const std::string where = "syscalls[" + std::to_string(i) + "]";
      const json& e = calls[i];
      check_keys(
          c, where, e,
          {"names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes"});
      SeccompRule r;
      if (e.contains("names")) r.names = string_list(c, where + ".names", e["names"]);
      if (e.contains("name")) {
        if (!e["name"].is_string()) c.fail(where + ".name", "expected a string");
        r.names.push_back(e["name"].get<std::string>());
      }
      if (r.names.empty()) c.fail(where, "needs \"names\"");
      if (!e.contains("action")) c.fail(where + ".action", "missing");
      r.action = parse_action(c, where + ".action", e["action"]);
      r.errno_ret = EPERM;
      if (e.contains("errnoRet")) r.errno_ret = parse_errno_field(c, where, e["errnoRet"]);
      if (e.contains("args") && !e["args"].is_null()) {
        if (!e["args"].is_array()) c.fail(where + ".args", "expected an array");
        for (size_t j = 0; j < e["args"].size(); ++j) {
          const std::string aw = where + ".args[" + std::to_string(j) + "]";
          const json& a = e["args"][j];
          check_keys(c, aw, a, {"index", "value", "valueTwo", "op"});
          SeccompArg arg;
          if (!a.contains("index") || !a.contains("op")) c.fail(aw, "needs index and op");
          arg.index = static_cast<unsigned>(parse_u64_field(c, aw + ".index", a["index"]));
          if (arg.index > 5) c.fail(aw + ".index", "must be 0..5");
          if (a.contains("value")) arg.value = parse_u64_field(c, aw + ".value", a["value"]);
          if (a.contains("valueTwo"))
            arg.value_two = parse_u64_field(c, aw + ".valueTwo", a["valueTwo"]);
          arg.op = parse_op(c, aw + ".op", a["op"]);
          r.args.push_back(arg);
        }
      }
      bool applies = true;
      if (e.contains("includes")) {
        Filter f = parse_filter(c, where + ".includes", e["includes"]);
        if (!f.arches.empty()) {
          bool any = false;
          for (const auto& a : f.arches) any |= a == arch;
          applies &= any;
        }
        for (const auto& cap : f.caps) applies &= has_cap(caps, cap);  // all of them, as docker
        if (!f.min_kernel.empty()) applies &= kernel_at_least(f.min_kernel);
      }
      if (e.contains("excludes")) {
        Filter f = parse_filter(c, where + ".excludes", e["excludes"]);
        for (const auto& a : f.arches) applies &= a != arch;
        for (const auto& cap : f.caps) applies &= !has_cap(caps, cap);
        if (!f.min_kernel.empty()) applies &= !kernel_at_least(f.min_kernel);
      }
      if (applies) p.rules.push_back(std::move(r));
    }
  }
  return p;
}

}  // namespace cgprof::sandbox
