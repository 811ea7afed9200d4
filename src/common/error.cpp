#include "cgprof/error.hpp"

#include <cerrno>
#include <cstring>

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

void throw_errno(std::string_view op, std::string_view path) {
  throw Error::from_errno(op, path, errno);
}

}  // namespace cgprof
