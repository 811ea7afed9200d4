#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "cgprof/device.hpp"
#include "cgprof/sys.hpp"
#include "test_util.hpp"

namespace cgprof {
namespace {

using test::error_of;
using test::TempDir;
using ::testing::HasSubstr;

constexpr const char* kProfile =
    "# The reasoning behind this profile, which must survive.\n"
    "name = \"cal\"\n"
    "description = \"calibration test\"\n"
    "\n"
    "[cpu]\n"
    "cores = 4\n"
    "speed = 0.25  # why 0.25\n"
    "\n"
    "[calibration.wall_time_s]\n"
    "slope = 2.0\n"
    "intercept = 0.5\n"
    "\n"
    "[memory]\n"
    "limit = \"1GiB\"\n";

CalibrationFit fit(double slope, double intercept, double r2, double sd, unsigned points) {
  CalibrationFit f;
  f.slope = slope;
  f.intercept = intercept;
  f.r2 = r2;
  f.residual_stddev = sd;
  f.points = points;
  return f;
}

TEST(CalibrationWrite, RoundTripKeepsCommentsAndOtherMetrics) {
  TempDir dir;
  std::string path = dir.write("cal.toml", kProfile);
  ::chmod(path.c_str(), 0640);
  write_profile_calibration(path, {{"peak_memory_bytes", fit(1.1, 1e6, 0.99, 12.5, 8)},
                                   {"cpu time.s", fit(3.25, -0.125, 0.875, 0.5, 5)}});
  DeviceProfile p = load_device_profile(path);
  ASSERT_EQ(p.calibration.size(), 3u);
  EXPECT_DOUBLE_EQ(p.calibration.at("wall_time_s").slope, 2.0) << "kept";
  const CalibrationFit& mem = p.calibration.at("peak_memory_bytes");
  EXPECT_DOUBLE_EQ(mem.slope, 1.1);
  EXPECT_DOUBLE_EQ(mem.intercept, 1e6);
  EXPECT_DOUBLE_EQ(mem.r2, 0.99);
  EXPECT_DOUBLE_EQ(mem.residual_stddev, 12.5);
  EXPECT_EQ(mem.points, 8u);
  EXPECT_DOUBLE_EQ(p.calibration.at("cpu time.s").intercept, -0.125) << "quoted key";
  EXPECT_EQ(p.limits.memory_max, 1u << 30) << "a table after the calibration is kept";
  EXPECT_DOUBLE_EQ(p.limits.core_speed, 0.25);

  std::string text = read_file(path);
  EXPECT_THAT(text, HasSubstr("# The reasoning behind this profile, which must survive.\n"));
  EXPECT_THAT(text, HasSubstr("speed = 0.25  # why 0.25\n"));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u) << "the file keeps its mode";
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1)
      << "no temporary file left behind";
}

TEST(CalibrationWrite, UpdatingTwiceIsStable) {
  TempDir dir;
  std::string path = dir.write("cal.toml", kProfile);
  write_profile_calibration(path, {{"wall_time_s", fit(1.5, 0.1, 0.9, 0.2, 4)}});
  std::string once = read_file(path);
  write_profile_calibration(path, {{"wall_time_s", fit(1.5, 0.1, 0.9, 0.2, 4)}});
  EXPECT_EQ(read_file(path), once);
  EXPECT_DOUBLE_EQ(load_device_profile(path).calibration.at("wall_time_s").slope, 1.5);
}

TEST(CalibrationWrite, ReplaceAllDropsOtherMetrics) {
  TempDir dir;
  std::string path = dir.write("cal.toml", kProfile);
  write_profile_calibration(path, {{"new_metric", fit(1, 0, 1, 0, 2)}}, true);
  auto cal = load_device_profile(path).calibration;
  ASSERT_EQ(cal.size(), 1u);
  EXPECT_EQ(cal.count("new_metric"), 1u);
  write_profile_calibration(path, {}, true);
  EXPECT_TRUE(load_device_profile(path).calibration.empty());
  EXPECT_THAT(read_file(path), ::testing::Not(HasSubstr("calibrate")));
}

TEST(CalibrationWrite, ProfileWithoutCalibrationGainsOne) {
  TempDir dir;
  std::string path = dir.write("plain.toml", "name = \"p\"\ndescription = \"d\"\n");
  write_profile_calibration(path, {{"wall_time_s", fit(2, 1, 0.5, 0.1, 3)}});
  EXPECT_EQ(load_device_profile(path).calibration.at("wall_time_s").points, 3u);
}

TEST(CalibrationWrite, RefusesBrokenOrMissingFilesAndDottedCalibration) {
  TempDir dir;
  std::string broken = dir.write("broken.toml", "name = \"p\"\n");
  EXPECT_THAT(error_of([&] { write_profile_calibration(broken, {}); }),
              HasSubstr("description: required key is missing"));
  EXPECT_THAT(error_of([&] { write_profile_calibration(dir.path() + "/none.toml", {}); }),
              HasSubstr("none.toml"));
  std::string dotted =
      dir.write("dotted.toml",
                "name = \"p\"\ndescription = \"d\"\ncalibration.w = {slope = 1, intercept = 0}\n");
  std::string before = read_file(dotted);
  EXPECT_THAT(error_of([&] {
                write_profile_calibration(dotted, {{"x", fit(1, 0, 1, 0, 2)}});
              }),
              HasSubstr("dotted.toml"));
  EXPECT_EQ(read_file(dotted), before) << "the file is left untouched";
}

TEST(CalibrationWrite, PredictionIntervalTermsRoundTrip) {
  TempDir dir;
  std::string path = dir.write("cal.toml", kProfile);
  CalibrationFit f = fit(1.25, 0.5, 0.9, 0.1, 6);
  f.x_mean = 3.5;
  f.x_sxx = 17.5;
  write_profile_calibration(path, {{"wall_time_s", f}});
  EXPECT_EQ(load_device_profile(path).calibration.at("wall_time_s"), f);
  EXPECT_THAT(error_of([] {
                parse_device_profile(
                    "name = \"p\"\ndescription = \"d\"\n[calibration.w]\n"
                    "slope = 1\nintercept = 0\nx_sxx = -1\n",
                    "n.toml");
              }),
              HasSubstr("line 6: calibration.w.x_sxx: expected a sum of squares >= 0, got -1"));
}

TEST(CoreSpeedWrite, RewritesOnlyTheSpeedAndKeepsItsComment) {
  TempDir dir;
  std::string path = dir.write("cal.toml", kProfile);
  write_profile_core_speed(path, 0.3125);
  DeviceProfile p = load_device_profile(path);
  EXPECT_DOUBLE_EQ(p.limits.core_speed, 0.3125);
  EXPECT_EQ(p.limits.cores, 4u);
  EXPECT_EQ(p.calibration.size(), 1u);
  std::string expected = kProfile;
  expected.replace(expected.find("speed = 0.25  # why 0.25"), 24, "speed = 0.3125  # why 0.25");
  EXPECT_EQ(read_file(path), expected);
}

TEST(CoreSpeedWrite, RefusesProfilesWithoutACpuSpeedAndBadValues) {
  TempDir dir;
  std::string host = dir.write("host.toml", "name = \"h\"\ndescription = \"d\"\n");
  EXPECT_THAT(error_of([&] { write_profile_core_speed(host, 0.5); }),
              HasSubstr("has no [cpu] cores and speed"));
  std::string path = dir.write("cal.toml", kProfile);
  EXPECT_THAT(error_of([&] { write_profile_core_speed(path, 0); }),
              HasSubstr("is not a speed factor"));
  std::string dotted =
      dir.write("dotted.toml", "name = \"p\"\ndescription = \"d\"\ncpu = {cores = 2, speed = 1}\n");
  EXPECT_THAT(error_of([&] { write_profile_core_speed(dotted, 0.5); }),
              HasSubstr("edit it by hand"));
  EXPECT_EQ(read_file(dotted), "name = \"p\"\ndescription = \"d\"\ncpu = {cores = 2, speed = 1}\n");
}

}  // namespace
}  // namespace cgprof
