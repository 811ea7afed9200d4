// The filter a run installs: its own policy compiled now, or the default one compiled at build
// time for its capabilities when the build made it.
#include <seccomp.h>

#include "cgprof/sandbox.hpp"
#include "seccomp_precompiled.hpp"

namespace cgprof::sandbox {

std::span<const std::uint8_t> precompiled_default_seccomp(CapSet caps) {
  const CapSet key = caps & seccomp_policy_caps();
  for (std::size_t i = 0; i < kPrecompiledSeccompCount; ++i) {
    const PrecompiledSeccomp& p = kPrecompiledSeccomp[i];
    if (p.caps == key && p.native_arch == seccomp_arch_native()) return {p.bpf, p.size};
  }
  return {};
}

std::vector<std::uint8_t> compile_seccomp(const ProcessSpec& spec) {
  if (spec.seccomp) return compile_seccomp(*spec.seccomp);
  std::span<const std::uint8_t> pre = precompiled_default_seccomp(spec.capabilities);
  if (!pre.empty()) return {pre.begin(), pre.end()};
  return compile_seccomp(default_seccomp_policy(spec.capabilities));
}

}  // namespace cgprof::sandbox
