// `--label K=V`: what is accepted, and the one-line errors for what is not.
#include <gtest/gtest.h>

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"

using namespace cgprof;
using namespace cgprof::report;

namespace {

std::string error_of(const std::vector<std::string>& args) {
  try {
    parse_labels(args);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(LabelOption, ParsesKeyValuePairsSplittingAtTheFirstEquals) {
  auto l = parse_labels({"model=resnet18", "batch=4", "org.example/opt=a=b", "empty="});
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l.at("model"), "resnet18");
  EXPECT_EQ(l.at("batch"), "4");
  EXPECT_EQ(l.at("org.example/opt"), "a=b");
  EXPECT_EQ(l.at("empty"), "");
  EXPECT_TRUE(parse_labels({}).empty());
}

TEST(LabelOption, WithoutEqualsSaysTheExpectedForm) {
  EXPECT_EQ(error_of({"resnet18"}), "--label resnet18: expected KEY=VALUE like model=resnet18");
}

TEST(LabelOption, EmptyOrOddKeysAreRefused) {
  EXPECT_NE(error_of({"=x"}).find("--label =x: the key is empty"), std::string::npos);
  EXPECT_NE(error_of({"my model=x"}).find("key \"my model\" must be letters"), std::string::npos);
  EXPECT_NE(error_of({"a;b=x"}).find("key \"a;b\""), std::string::npos);
}

TEST(LabelOption, ValuesThatCalibrationCsvsCannotMatchAreRefused) {
  // label_matches() splits "k=v;k=v" at ';' and spaces: such a value could never be matched.
  EXPECT_NE(error_of({"model=a b"}).find("value \"a b\" must not contain spaces"),
            std::string::npos);
  EXPECT_NE(error_of({"model=a;b"}).find("';'"), std::string::npos);
  EXPECT_NE(error_of({"model=a\tb"}).find("control characters"), std::string::npos);
}

TEST(LabelOption, AKeyGivenTwiceIsAnError) {
  EXPECT_EQ(error_of({"model=a", "model=b"}),
            "--label model=b: key \"model\" is given twice; give each key once");
}

TEST(LabelOption, ExperimentLabelsFollowTheSameRules) {
  try {
    parse_experiment("[[workload]]\nname = \"w\"\nrootfs = \"r\"\nlabels = { model = \"a b\" }\n",
                     "x.toml");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.toml: line 4: workload.labels.model: value \"a b\""),
              std::string::npos)
        << e.what();
  }
}
