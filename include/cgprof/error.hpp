// One error type for all of cgprof: what failed, where, and why, gaining context on the way up.
#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace cgprof {

// Exit codes follow docker/podman.
inline constexpr int kExitCgprofFailed = 125;
inline constexpr int kExitCannotExecute = 126;
inline constexpr int kExitNotFound = 127;

class Error : public std::exception {
 public:
  explicit Error(std::string message, int exit_code = kExitCgprofFailed, int sys_errno = 0)
      : message_(std::move(message)), exit_code_(exit_code), sys_errno_(sys_errno) {}

  // "OP PATH: strerror" — e.g. "openat2 usr/bin/x: No such file or directory".
  static Error from_errno(std::string_view op, std::string_view path, int err);

  // Prepends one clause: "applying layer 2/3: " + message.
  Error& context(std::string_view clause);

  const char* what() const noexcept override { return message_.c_str(); }
  const std::string& message() const { return message_; }
  int exit_code() const { return exit_code_; }
  int sys_errno() const { return sys_errno_; }

 private:
  std::string message_;
  int exit_code_;
  int sys_errno_;
};

// Throws Error::from_errno(op, path, errno).
[[noreturn]] void throw_errno(std::string_view op, std::string_view path = {});

// Control characters (C0, DEL) written as \n, \t, \r, \e or \xHH (other bytes unchanged), so a
// value from a file, an image or an argument cannot break a one-line message or a text table,
// or send escape sequences to a terminal. UTF-8 text passes unchanged.
std::string escape_control(std::string_view s);

// What cgprof prints for an exception that ends a command: the message (escaped, one line,
// without the "cgprof: " prefix) and the exit code. cgprof::Error keeps its own exit code;
// std::filesystem errors become "PATH: OPERATION: REASON"; std::bad_alloc "out of memory"; any
// other exception "internal error: ...". Always 125 unless the Error says otherwise.
struct ErrorLine {
  std::string message;
  int exit_code = kExitCgprofFailed;
};
ErrorLine describe_exception(const std::exception& e);

// Runs f(); an Error thrown by it gains `clause` as context and is rethrown.
template <class F>
decltype(auto) with_context(std::string_view clause, F&& f) {
  try {
    return f();
  } catch (Error& e) {
    e.context(clause);
    throw;
  }
}

}  // namespace cgprof
