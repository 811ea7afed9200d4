// Parsing and printing of sizes, rates and durations as users write them:
// "4GiB", "512m" (docker: binary), "45MB/s", "100ms", "1.5".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cgprof {

// Bytes. Accepts an integer or decimal number with an optional unit: B, k/K/KB/KiB, m/M/MB/MiB,
// g/G/GB/GiB, t/T/TB/TiB (case-insensitive). Decimal for "kB/MB/GB/TB", binary for "KiB/MiB/..."
// and for the single letters, as docker does ("64m" = 64 MiB). nullopt if malformed, negative or
// above 2^63-1 bytes (never rounded or wrapped: integers are scaled exactly).
std::optional<uint64_t> parse_size(std::string_view text);

// Bytes per second: a size with an optional "/s" suffix ("45MB/s", "10m").
std::optional<uint64_t> parse_rate(std::string_view text);

// Microseconds: a number with unit ns/us/ms/s/m/h; a bare number is microseconds. nullopt if
// malformed or above 2^63-1 microseconds.
std::optional<uint64_t> parse_duration_us(std::string_view text);

// Non-negative decimal ("0.5", "2"). nullopt if malformed.
std::optional<double> parse_decimal(std::string_view text);

// "1.5 GiB", "512 KiB", "17 B".
std::string format_size(uint64_t bytes);

// Parses an unsigned decimal integer from [p, end) without allocation; returns the
// position after the digits, or nullptr if there were none. Overflow saturates.
const char* parse_u64(const char* p, const char* end, uint64_t* out);

// A whole string of decimal digits (no sign, no spaces, at most 10 digits) whose value is at
// most `max`: user and group ids, /etc/subuid ranges. nullopt otherwise.
std::optional<uint32_t> parse_u32(std::string_view text, uint32_t max = 0xFFFFFFFFu);

}  // namespace cgprof
