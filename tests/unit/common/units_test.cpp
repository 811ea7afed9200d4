#include "cgprof/units.hpp"

#include <gtest/gtest.h>

namespace cgprof {
namespace {

TEST(ParseSize, BareNumberIsBytes) { EXPECT_EQ(parse_size("4096"), 4096u); }
TEST(ParseSize, BinaryUnits) {
  EXPECT_EQ(parse_size("4GiB"), 4ull << 30);
  EXPECT_EQ(parse_size("512MiB"), 512ull << 20);
  EXPECT_EQ(parse_size("1.5KiB"), 1536u);
}
TEST(ParseSize, SingleLettersAreBinaryLikeDocker) {
  EXPECT_EQ(parse_size("64m"), 64ull << 20);
  EXPECT_EQ(parse_size("2g"), 2ull << 30);
  EXPECT_EQ(parse_size("10k"), 10240u);
}
TEST(ParseSize, DecimalUnits) {
  EXPECT_EQ(parse_size("45MB"), 45000000u);
  EXPECT_EQ(parse_size("1GB"), 1000000000u);
}
TEST(ParseSize, CaseInsensitiveAndSpaces) { EXPECT_EQ(parse_size(" 2 gib "), 2ull << 30); }
TEST(ParseSize, RejectsGarbage) {
  EXPECT_FALSE(parse_size(""));
  EXPECT_FALSE(parse_size("GiB"));
  EXPECT_FALSE(parse_size("-1"));
  EXPECT_FALSE(parse_size("4 parsecs"));
  EXPECT_FALSE(parse_size("1.2.3"));
}
TEST(ParseSize, RejectsValuesAboveInt64InsteadOfRounding) {
  EXPECT_FALSE(parse_size("10000000000000000000"));  // > 2^63: was rounded to 2^63
  EXPECT_FALSE(parse_size("99999999999999999999999"));
  EXPECT_FALSE(parse_size("8388608t"));  // 2^63 bytes exactly
  EXPECT_EQ(parse_size("9223372036854775807"), 9223372036854775807ull);
  EXPECT_EQ(parse_size("8388607t"), 8388607ull << 40);
}
TEST(ParseSize, IntegersAreExactBeyondDoublePrecision) {
  EXPECT_EQ(parse_size("9007199254740993"), 9007199254740993ull);  // 2^53 + 1
}
TEST(ParseDuration, RejectsOverflow) {
  EXPECT_FALSE(parse_duration_us("9999999999999999h"));
  EXPECT_EQ(parse_duration_us("1.5s"), 1500000u);
}
TEST(ParseRate, AcceptsPerSecondSuffix) {
  EXPECT_EQ(parse_rate("45MB/s"), 45000000u);
  EXPECT_EQ(parse_rate("10m"), 10ull << 20);
  EXPECT_FALSE(parse_rate("10m/h"));
}
TEST(ParseDuration, Units) {
  EXPECT_EQ(parse_duration_us("100ms"), 100000u);
  EXPECT_EQ(parse_duration_us("2s"), 2000000u);
  EXPECT_EQ(parse_duration_us("250"), 250u);
  EXPECT_EQ(parse_duration_us("1500ns"), 2u);  // rounded to the nearest microsecond
  EXPECT_FALSE(parse_duration_us("fast"));
}
TEST(ParseDecimal, RejectsUnits) {
  EXPECT_DOUBLE_EQ(*parse_decimal("0.5"), 0.5);
  EXPECT_FALSE(parse_decimal("0.5x"));
}
TEST(FormatSize, PicksBinaryUnit) {
  EXPECT_EQ(format_size(17), "17 B");
  EXPECT_EQ(format_size(1536), "1.50 KiB");
  EXPECT_EQ(format_size(64ull << 20), "64.0 MiB");
}
TEST(ParseU32, WholeDigitStringsUpToTheBound) {
  EXPECT_EQ(parse_u32("0"), 0u);
  EXPECT_EQ(parse_u32("4294967295"), 4294967295u);
  EXPECT_FALSE(parse_u32("4294967296"));
  EXPECT_FALSE(parse_u32("99999999999999999999"));  // saturating parse_u64, still refused
  EXPECT_FALSE(parse_u32("00000000001"));           // more than 10 digits
  EXPECT_EQ(parse_u32("4294967294", 0xFFFFFFFEu), 4294967294u);
  EXPECT_FALSE(parse_u32("4294967295", 0xFFFFFFFEu));
  for (const char* bad : {"", " 1", "1 ", "+1", "-1", "1a", "0x10"})
    EXPECT_FALSE(parse_u32(bad)) << bad;
}

TEST(ParseU64, StopsAtNonDigitAndSaturates) {
  const char s[] = "12345 rest";
  uint64_t v = 0;
  const char* p = parse_u64(s, s + sizeof s - 1, &v);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(v, 12345u);
  EXPECT_EQ(*p, ' ');
  const char big[] = "99999999999999999999999";
  ASSERT_NE(parse_u64(big, big + sizeof big - 1, &v), nullptr);
  EXPECT_EQ(v, UINT64_MAX);
  const char none[] = "x1";
  EXPECT_EQ(parse_u64(none, none + 2, &v), nullptr);
}

}  // namespace
}  // namespace cgprof
