#include <gtest/gtest.h>

#include "cgprof/phases.hpp"

namespace cgprof {
namespace {

TEST(EscapePhaseName, KeepsPrintableAsciiAndEscapesTheRest) {
  EXPECT_EQ(escape_phase_name("infer step"), "infer step");
  EXPECT_EQ(escape_phase_name("a\\b"), "a\\x5cb");
  EXPECT_EQ(escape_phase_name("a\tb\xff"), "a\\x09b\\xff");
}

TEST(EscapePhaseName, CutsLongNamesNeverInsideAnEscape) {
  bool cut = false;
  std::string name = escape_phase_name(std::string(63, 'a') + "\x01", &cut);
  EXPECT_TRUE(cut);
  EXPECT_EQ(name, std::string(63, 'a'));
  EXPECT_EQ(escape_phase_name(std::string(64, 'b'), &cut).size(), 64u);
  EXPECT_FALSE(cut);
}

TEST(MarkLog, InternsNamesAndReadsEndMarks) {
  MarkLog log;
  log.add_line(10, "load");
  log.add_line(20, " infer\r");
  log.add_line(30, "-");
  log.add_line(40, "infer");
  log.add_line(50, "");
  ASSERT_EQ(log.names().size(), 2u);
  EXPECT_EQ(log.names()[1], "infer");
  ASSERT_EQ(log.marks().size(), 4u);
  EXPECT_EQ(log.marks()[2].name, MarkLog::kEnd);
  EXPECT_EQ(log.marks()[3].name, 1u);
  EXPECT_EQ(log.received(), 4u);
}

TEST(MarkLog, NamesBeyondTheCapGoToTheOverflowBucket) {
  MarkLog log;
  for (size_t i = 0; i < kMaxPhaseNames + 5; ++i) log.add_line(i, "n" + std::to_string(i));
  EXPECT_EQ(log.names().size(), kMaxPhaseNames);
  EXPECT_EQ(log.overflow_marks(), 5u);
  EXPECT_EQ(log.marks().back().name, MarkLog::kOverflow);
  log.add_line(1, "n0");  // a known name still resolves
  EXPECT_EQ(log.marks().back().name, 0u);
}

TEST(MarkLog, CountsTruncatedLinesAndNames) {
  MarkLog log;
  log.add_line(1, std::string(100, 'x'));
  log.add_line(2, "short", true);
  EXPECT_EQ(log.truncated_names(), 2u);
  EXPECT_EQ(log.names()[0].size(), kMaxPhaseNameBytes);
}

TEST(MarkLog, DropsMarksBeyondTheCap) {
  MarkLog log;
  for (size_t i = 0; i < kMaxMarks + 3; ++i) log.add_line(i, "x");
  EXPECT_EQ(log.marks().size(), kMaxMarks);
  EXPECT_EQ(log.dropped(), 3u);
  EXPECT_EQ(log.received(), kMaxMarks + 3);
}

TEST(LineSplitter, SplitsAcrossChunksAndCutsLongLines) {
  LineSplitter s;
  std::vector<std::pair<std::string, bool>> lines;
  auto on = [&](std::string_view l, bool cut) { lines.emplace_back(std::string(l), cut); };
  s.feed("lo", on);
  s.feed("ad\ninf", on);
  s.feed("er\n" + std::string(kMaxMarkLineBytes + 10, 'z') + "\nlast", on);
  s.finish(on);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].first, "load");
  EXPECT_EQ(lines[1].first, "infer");
  EXPECT_EQ(lines[2].first.size(), kMaxMarkLineBytes);
  EXPECT_TRUE(lines[2].second);
  EXPECT_EQ(lines[3].first, "last");
}

TEST(PhaseOccurrences, ANameEndsThePreviousPhaseAndExitClosesTheLast) {
  MarkLog log;
  log.add_line(100, "load");
  log.add_line(400, "infer");
  log.add_line(600, "infer");
  log.add_line(800, "-");
  log.add_line(900, "-");  // nothing open: ignored
  log.add_line(950, "tail");
  log.add_line(2000, "late");  // read after the exit, written before it: at the exit
  auto occ = phase_occurrences(log, 1000);
  ASSERT_EQ(occ.size(), 5u);
  EXPECT_EQ(occ[0].start_ns, 100u);
  EXPECT_EQ(occ[0].end_ns, 400u);
  EXPECT_EQ(occ[2].start_ns, 600u);
  EXPECT_EQ(occ[2].end_ns, 800u);
  EXPECT_FALSE(occ[2].closed_at_exit);
  EXPECT_EQ(occ[3].end_ns, 1000u);
  EXPECT_FALSE(occ[3].closed_at_exit);  // ended by "late"
  EXPECT_EQ(occ[4].start_ns, 1000u);
  EXPECT_TRUE(occ[4].closed_at_exit);
}

}  // namespace
}  // namespace cgprof
