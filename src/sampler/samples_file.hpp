// Private to the sampler: encoding of the samples.bin header.
#pragma once

#include <cstdint>
#include <string>

namespace cgprof::detail {

std::string encode_samples_header(unsigned groups, double rate_hz, uint64_t mono_ns,
                                  uint64_t real_ns);

}  // namespace cgprof::detail
