// libFuzzer target for the pressure parser (include/cgprof/stat_parsers.hpp): arbitrary bytes
// must never crash it, read out of bounds or break its invariants.
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//     tests/fuzz/sampler_pressure_fuzz.cpp src/cgroup/stat_parsers.cpp src/common/units.cpp
//   ./a.out -max_total_time=60 tests/data/cgroupfs/
#include <cstddef>
#include <cstdint>

#include "cgprof/stat_parsers.hpp"

using namespace cgprof;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* d = reinterpret_cast<const char*>(data);
  Pressure s;
  bool ok = parse_pressure(d, size, &s);
  if (s.present > 3) __builtin_trap();
  (void)ok;
  return 0;
}
