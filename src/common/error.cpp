#include "cgprof/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>

namespace cgprof {

Error Error::from_errno(std::string_view op, std::string_view path, int err) {
  std::string msg(op);
  if (!path.empty()) {
    msg += ' ';
    msg += path;
  }
  msg += ": ";
  msg += std::strerror(err);
  return Error(std::move(msg), kExitCgprofFailed, err);
}

Error& Error::context(std::string_view clause) {
  std::string msg(clause);
  msg += ": ";
  msg += message_;
  message_ = std::move(msg);
  return *this;
}

std::string escape_control(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case 0x1b: out += "\\e"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out;
}

namespace {

// "filesystem error: cannot create directories: Permission denied [/a] [/b]" ->
// "/a: cannot create directories: Permission denied (and /b)".
std::string filesystem_message(const std::filesystem::filesystem_error& e) {
  std::string what = e.what();
  constexpr std::string_view kPrefix = "filesystem error: ";
  if (what.rfind(kPrefix, 0) == 0) what.erase(0, kPrefix.size());
  const std::string p1 = e.path1().string(), p2 = e.path2().string();
  for (const std::string& p : {p2, p1}) {
    const std::string tail = " [" + p + "]";
    if (!p.empty() && what.size() >= tail.size() &&
        what.compare(what.size() - tail.size(), tail.size(), tail) == 0)
      what.erase(what.size() - tail.size());
  }
  std::string msg = p1.empty() ? what : p1 + ": " + what;
  if (!p2.empty()) msg += " (and " + p2 + ")";
  return msg;
}

}  // namespace

ErrorLine describe_exception(const std::exception& e) {
  if (const auto* err = dynamic_cast<const Error*>(&e))
    return {escape_control(err->message()), err->exit_code()};
  if (const auto* fe = dynamic_cast<const std::filesystem::filesystem_error*>(&e))
    return {escape_control(filesystem_message(*fe)), kExitCgprofFailed};
  if (dynamic_cast<const std::bad_alloc*>(&e)) return {"out of memory", kExitCgprofFailed};
  return {"internal error: " + escape_control(e.what()), kExitCgprofFailed};
}

void throw_errno(std::string_view op, std::string_view path) {
  throw Error::from_errno(op, path, errno);
}

}  // namespace cgprof
