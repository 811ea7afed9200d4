// The calibration CSV parser: accepted forms and one clear error per malformed line.
#include <gtest/gtest.h>

#include "cgprof/analysis.hpp"
#include "cgprof/error.hpp"

using namespace cgprof;
using namespace cgprof::analysis;

TEST(MeasurementsCsv, HeaderCommentsQuotesAndBlankLines) {
  auto m = parse_measurements_csv(
      "label,metric,value\r\n"
      "# copied from the Pi's perf output\n"
      "\n"
      "resnet18,wall_time,12.5\n"
      "\"model=vit;batch=4\", peak_memory , 1.5e9\n"
      "\"we said \"\"hi\"\"\",cpu_time,3\n",
      "device.csv");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].label, "resnet18");
  EXPECT_EQ(m[0].metric, "wall_time");
  EXPECT_EQ(m[0].value, 12.5);
  EXPECT_EQ(m[0].line, 4u);
  EXPECT_EQ(m[1].label, "model=vit;batch=4");
  EXPECT_EQ(m[1].metric, "peak_memory");
  EXPECT_EQ(m[1].value, 1.5e9);
  EXPECT_EQ(m[2].label, "we said \"hi\"");
}

TEST(MeasurementsCsv, NoHeaderIsFine) {
  EXPECT_EQ(parse_measurements_csv("a,wall_time,1\n", "x").size(), 1u);
}

namespace {
std::string error_of(const std::string& text) {
  try {
    parse_measurements_csv(text, "device.csv");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(MeasurementsCsv, ErrorsNameFileLineAndField) {
  EXPECT_EQ(error_of("label,metric,value\na,wall_time\n"),
            "device.csv: line 2: expected 3 fields \"label,metric,value\", got 2");
  EXPECT_NE(error_of("a,walltime,1\n").find("device.csv: line 1: unknown metric \"walltime\""),
            std::string::npos);
  EXPECT_EQ(error_of("a,wall_time,12s\n"),
            "device.csv: line 1: value: expected a number in the metric's unit (s), got \"12s\"");
  EXPECT_EQ(error_of(",wall_time,1\n"), "device.csv: line 1: empty label");
  EXPECT_EQ(error_of("\"a,wall_time,1\n"), "device.csv: line 1: unterminated double quote");
  EXPECT_NE(error_of("# only a comment\n").find("no measurements"), std::string::npos);
}
