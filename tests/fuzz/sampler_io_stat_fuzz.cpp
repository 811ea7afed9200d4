// libFuzzer target for the io.stat parser (include/cgprof/stat_parsers.hpp): arbitrary bytes
// must never crash it, read out of bounds or break its invariants.
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//     tests/fuzz/sampler_io_stat_fuzz.cpp src/cgroup/stat_parsers.cpp src/common/units.cpp
//   ./a.out -max_total_time=60 tests/data/cgroupfs/
#include <cstddef>
#include <cstdint>

#include "cgprof/stat_parsers.hpp"

using namespace cgprof;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* d = reinterpret_cast<const char*>(data);
  IoStat s;
  bool ok = parse_io_stat(d, size, &s);
  if (s.device_count > kMaxIoDevices) __builtin_trap();
  (void)ok;
  return 0;
}
