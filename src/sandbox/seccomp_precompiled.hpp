// The default seccomp filters compiled at build time (seccomp_precompile.cpp writes the table).
#pragma once

#include <cstddef>
#include <cstdint>

#include "cgprof/sandbox.hpp"

namespace cgprof::sandbox {

struct PrecompiledSeccomp {
  std::uint32_t native_arch;  // libseccomp's token of the machine it was compiled for
  CapSet caps;                // capabilities it was compiled for, & seccomp_policy_caps()
  const std::uint8_t* bpf;
  std::size_t size;
};
extern const PrecompiledSeccomp kPrecompiledSeccomp[];
extern const std::size_t kPrecompiledSeccompCount;

}  // namespace cgprof::sandbox
