// SeccompPolicy -> classic BPF, through libseccomp, with runc's ENOSYS stub in front.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {
namespace {

std::uint32_t to_scmp(SeccompAction a, int err) {
  switch (a) {
    case SeccompAction::kAllow:
      return SCMP_ACT_ALLOW;
    case SeccompAction::kErrno:
      return SCMP_ACT_ERRNO(static_cast<std::uint32_t>(err));
    case SeccompAction::kKillThread:
      return SCMP_ACT_KILL_THREAD;
    case SeccompAction::kKillProcess:
      return SCMP_ACT_KILL_PROCESS;
    case SeccompAction::kTrap:
      return SCMP_ACT_TRAP;
    case SeccompAction::kLog:
      return SCMP_ACT_LOG;
  }
  return SCMP_ACT_KILL_PROCESS;
}

scmp_compare to_scmp(SeccompArg::Op op) {
  switch (op) {
    case SeccompArg::Op::kNotEqual:
      return SCMP_CMP_NE;
    case SeccompArg::Op::kLess:
      return SCMP_CMP_LT;
    case SeccompArg::Op::kLessEqual:
      return SCMP_CMP_LE;
    case SeccompArg::Op::kEqual:
      return SCMP_CMP_EQ;
    case SeccompArg::Op::kGreaterEqual:
      return SCMP_CMP_GE;
    case SeccompArg::Op::kGreater:
      return SCMP_CMP_GT;
    case SeccompArg::Op::kMaskedEqual:
      return SCMP_CMP_MASKED_EQ;
  }
  return SCMP_CMP_EQ;
}

struct FilterCtx {
  scmp_filter_ctx ctx;
  explicit FilterCtx(std::uint32_t def) : ctx(seccomp_init(def)) {
    if (!ctx) throw Error("seccomp_init failed");
  }
  ~FilterCtx() { seccomp_release(ctx); }
  FilterCtx(const FilterCtx&) = delete;
  FilterCtx& operator=(const FilterCtx&) = delete;
};

std::vector<std::uint32_t> arch_tokens(const SeccompPolicy& policy) {
  std::vector<std::uint32_t> out{seccomp_arch_native()};
  for (const auto& name : policy.arches) {
    std::uint32_t token = seccomp_arch_resolve_name(name.c_str());
    if (token == 0)
      throw Error("architecture \"" + name + "\": unknown to libseccomp (use names like x86_64, " +
                  "x86, x32, aarch64, arm)");
    if (std::find(out.begin(), out.end(), token) == out.end()) out.push_back(token);
  }
  return out;
}

// What the kernel reports in seccomp_data for an ABI: x32 shares x86_64's audit arch and is told
// apart by bit 30 of the syscall number (which libseccomp's x32 numbers include).
constexpr std::uint32_t kX32Bit = 0x40000000;
struct AbiRange {
  std::uint32_t audit_arch;
  std::uint32_t lowest_nr;
  std::uint32_t highest_known;  // above this (and within the ABI): ENOSYS
};

// runc's stub: per ABI, a syscall number above every name the policy lists gets ENOSYS, so a
// libc probing a syscall newer than this table (or than libseccomp) falls back instead of
// failing on EPERM. Everything else goes on to libseccomp's program, which follows the stub.
std::vector<sock_filter> enosys_stub(const SeccompPolicy& policy,
                                     const std::vector<std::uint32_t>& tokens) {
  std::map<std::uint32_t, std::vector<AbiRange>> by_audit_arch;
  bool have_x32 = false;
  for (std::uint32_t token : tokens) {
    AbiRange r{token, 0, 0};
    if (token == SCMP_ARCH_X32) {
      r = {SCMP_ARCH_X86_64, kX32Bit, kX32Bit};
      have_x32 = true;
    }
    for (const auto& rule : policy.rules)
      for (const auto& name : rule.names) {
        int nr = seccomp_syscall_resolve_name_arch(token, name.c_str());
        if (nr >= 0) r.highest_known = std::max(r.highest_known, static_cast<std::uint32_t>(nr));
      }
    by_audit_arch[r.audit_arch].push_back(r);
  }
  // Without x32 in the filter, its numbers are libseccomp's to refuse (as a bad architecture).
  if (!have_x32 && by_audit_arch.count(SCMP_ARCH_X86_64))
    by_audit_arch[SCMP_ARCH_X86_64].push_back({SCMP_ARCH_X86_64, kX32Bit, 0xffffffff});

  // Jumps go forward only; targets are patched once the layout is known.
  constexpr std::size_t kSkip = SIZE_MAX, kEnosys = SIZE_MAX - 1;
  struct Insn {
    sock_filter f;
    std::size_t jt = 0, jf = 0;  // label: kSkip, kEnosys, or an index; 0 = fall through
  };
  std::vector<Insn> prog;
  auto emit = [&](std::uint16_t code, std::uint32_t k, std::size_t jt = 0, std::size_t jf = 0) {
    prog.push_back({BPF_STMT(code, k), jt, jf});
    return prog.size() - 1;
  };
  emit(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch));
  for (auto& [audit_arch, ranges] : by_audit_arch) {
    std::sort(ranges.begin(), ranges.end(),
              [](const AbiRange& a, const AbiRange& b) { return a.lowest_nr > b.lowest_nr; });
    std::size_t arch_jump = emit(BPF_JMP | BPF_JEQ | BPF_K, audit_arch);
    emit(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr));
    for (const AbiRange& r : ranges) {
      std::size_t range_jump = 0;
      if (r.lowest_nr > 0) range_jump = emit(BPF_JMP | BPF_JGE | BPF_K, r.lowest_nr);
      emit(BPF_JMP | BPF_JGT | BPF_K, r.highest_known, kEnosys, kSkip);
      if (range_jump) prog[range_jump].jf = prog.size();
    }
    // Only reached with A = arch, when this arch did not match: try the next one.
    prog[arch_jump].jf = prog.size();
  }
  std::size_t skip = emit(BPF_JMP | BPF_JA, 1);
  std::size_t enosys = emit(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));

  std::vector<sock_filter> out;
  for (std::size_t i = 0; i < prog.size(); ++i) {
    sock_filter f = prog[i].f;
    auto offset = [&](std::size_t label) -> std::uint8_t {
      if (label == 0) return 0;
      std::size_t target = label == kSkip ? skip : label == kEnosys ? enosys : label;
      if (target <= i || target - i - 1 > 255) throw Error("seccomp ENOSYS stub: jump too far");
      return static_cast<std::uint8_t>(target - i - 1);
    };
    if (BPF_CLASS(f.code) == BPF_JMP && BPF_OP(f.code) != BPF_JA) {
      f.jt = offset(prog[i].jt);
      f.jf = offset(prog[i].jf);
    }
    out.push_back(f);
  }
  return out;
}

}  // namespace

std::vector<std::uint8_t> compile_seccomp(const SeccompPolicy& policy) {
  if (policy.unconfined) return {};
  const std::uint32_t def = to_scmp(policy.default_action, policy.default_errno);
  FilterCtx f(def);
  // The filter is installed after no_new_privs by the container's init; libseccomp must not
  // try to set NNP or sync threads on its own.
  seccomp_attr_set(f.ctx, SCMP_FLTATR_CTL_NNP, 0);
  const std::vector<std::uint32_t> tokens = arch_tokens(policy);
  for (std::uint32_t token : tokens) {
    int rc = seccomp_arch_add(f.ctx, token);
    if (rc < 0 && rc != -EEXIST)
      throw Error("seccomp architecture " + std::to_string(token) + ": " + strerror(-rc));
  }
  for (const auto& rule : policy.rules) {
    std::uint32_t act = to_scmp(rule.action, rule.errno_ret);
    if (act == def && rule.args.empty()) continue;  // libseccomp refuses no-op rules
    std::vector<scmp_arg_cmp> cmps;
    for (const auto& a : rule.args) {
      scmp_arg_cmp c{};
      c.arg = a.index;
      c.op = to_scmp(a.op);
      c.datum_a = a.value;
      c.datum_b = a.value_two;
      cmps.push_back(c);
    }
    for (const auto& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      // Unknown to libseccomp: skipped, as docker does. A name only some ABIs have resolves to
      // a negative pseudo-number that libseccomp applies to just those.
      if (nr == __NR_SCMP_ERROR) continue;
      int rc = seccomp_rule_add_array(f.ctx, act, nr, static_cast<unsigned>(cmps.size()),
                                      cmps.empty() ? nullptr : cmps.data());
      if (rc == -EACCES || rc == -EEXIST) continue;  // same action as default / duplicate
      if (rc < 0)
        throw Error("seccomp rule for " + name + ": " + std::string(strerror(-rc)) +
                    " (check its action and args)");
    }
  }
  // libseccomp 2.5 can only export to an fd; a memfd keeps this in memory.
  UniqueFd mem(::memfd_create("cgprof-seccomp", MFD_CLOEXEC));
  if (!mem) throw_errno("memfd_create", "seccomp");
  int rc = seccomp_export_bpf(f.ctx, mem.get());
  if (rc < 0) throw Error(std::string("seccomp_export_bpf: ") + strerror(-rc));
  std::string bytes = pread_all(mem.get());
  std::vector<sock_filter> stub;
  if (policy.default_action != SeccompAction::kAllow &&
      policy.default_action != SeccompAction::kLog)
    stub = enosys_stub(policy, tokens);
  std::vector<std::uint8_t> out(stub.size() * sizeof(sock_filter) + bytes.size());
  std::memcpy(out.data(), stub.data(), stub.size() * sizeof(sock_filter));
  std::memcpy(out.data() + stub.size() * sizeof(sock_filter), bytes.data(), bytes.size());
  return out;
}

}  // namespace cgprof::sandbox
