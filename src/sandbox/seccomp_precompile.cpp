// Build-time tool: compiles the default seccomp policy for the capability sets most runs use and
// writes them as a C++ table (seccomp_precompiled.hpp), so a run does not spend libseccomp's
// ~10 ms of CPU on it. Usage: seccomp-precompile OUTPUT.cpp
#include <linux/capability.h>
#include <seccomp.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "cgprof/error.hpp"
#include "cgprof/sandbox.hpp"

using namespace cgprof::sandbox;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: seccomp-precompile OUTPUT.cpp\n";
    return 2;
  }
  const CapSet relevant = seccomp_policy_caps();
  const CapSet sets[] = {
      default_capabilities(),                                  // docker's default set
      0,                                                       // --cap-drop ALL
      default_capabilities() | (CapSet{1} << CAP_SYS_PTRACE),  // debuggers and py-spy
      relevant,                                                // --cap-add ALL
  };
  std::ofstream out(argv[1]);
  out << "// Generated at build time by seccomp-precompile (src/sandbox/seccomp_precompile.cpp).\n"
      << "#include \"src/sandbox/seccomp_precompiled.hpp\"\n\n"
      << "namespace cgprof::sandbox {\n";
  std::size_t n = 0;
  try {
    for (CapSet caps : sets) {
      std::vector<std::uint8_t> bpf = compile_seccomp(default_seccomp_policy(caps));
      out << "static const std::uint8_t kBpf" << n++ << "[] = {";
      for (std::size_t i = 0; i < bpf.size(); ++i)
        out << (i % 16 ? "" : "\n   ") << ' ' << static_cast<unsigned>(bpf[i]) << ',';
      out << "\n};\n";
    }
  } catch (const cgprof::Error& e) {
    std::cerr << "seccomp-precompile: " << e.what() << "\n";
    return 1;
  }
  out << "const PrecompiledSeccomp kPrecompiledSeccomp[] = {\n";
  for (std::size_t i = 0; i < n; ++i)
    out << "    {" << seccomp_arch_native() << "u, 0x" << std::hex << (sets[i] & relevant)
        << std::dec << "u, kBpf" << i << ", sizeof kBpf" << i << "},\n";
  out << "};\nconst std::size_t kPrecompiledSeccompCount = " << n << ";\n\n"
      << "}  // namespace cgprof::sandbox\n";
  out.close();
  if (!out) {
    std::cerr << "seccomp-precompile: writing " << argv[1] << " failed\n";
    return 1;
  }
  return 0;
}
