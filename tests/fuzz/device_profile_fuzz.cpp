// libFuzzer target for the device-profile parser (parse_device_profile, src/device): arbitrary
// text must be accepted as a valid profile or rejected with one line naming the file, never crash.
// tests/fuzz/run_fuzz.sh builds and runs it (toml++ header-only, so it is instrumented too).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cgprof/device.hpp"
#include "cgprof/error.hpp"

using namespace cgprof;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string source = "fuzz.toml";
  try {
    DeviceProfile p = parse_device_profile(text, source);
    if (p.name.empty() || p.source != source) {
      std::fprintf(stderr, "accepted a profile without a name or source\n");
      std::abort();
    }
  } catch (const Error& e) {
    const std::string& m = e.message();
    if (m.find(source) == std::string::npos) {
      std::fprintf(stderr, "error does not name the file: %s\n", m.c_str());
      std::abort();
    }
  }
  return 0;
}
