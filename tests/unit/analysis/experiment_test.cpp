// Experiment files: parsing with line-numbered errors, the planned matrix and its command lines,
// resume state of run directories, and the index.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cgprof/error.hpp"
#include "cgprof/report.hpp"

namespace fs = std::filesystem;
using namespace cgprof;
using namespace cgprof::report;

namespace {

constexpr const char* kMatrix = R"(name = "models"
repeat = 2
warmup = 1
devices = ["rpi4", "../devices/my pi.toml"]
run_args = ["--rate", "500"]

[[workload]]
name = "resnet18"
image = "images/torch:latest"
command = ["python3", "/infer.py", "--model", "resnet18"]
labels = { model = "resnet18", batch = 4 }

[[workload]]
name = "burn"
rootfs = "rootfs/busybox"
command = ["cpu-burn", "2"]
)";

std::string error_of(const std::string& text) {
  try {
    parse_experiment(text, "exp/matrix.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Experiment, ParsesMatrix) {
  auto e = parse_experiment(kMatrix, "exp/matrix.toml");
  EXPECT_EQ(e.name, "models");
  EXPECT_EQ(e.base_dir, "exp");
  EXPECT_EQ(e.output, "matrix-results");
  EXPECT_EQ(e.repeat, 2u);
  EXPECT_EQ(e.warmup, 1u);
  ASSERT_EQ(e.workloads.size(), 2u);
  EXPECT_EQ(e.workloads[0].labels.at("batch"), "4");
  EXPECT_EQ(e.workloads[0].labels.at("workload"), "resnet18");
  EXPECT_EQ(e.workloads[1].rootfs, "rootfs/busybox");
}

TEST(Experiment, PlanIsTheMatrixOfIndependentCommandLines) {
  auto e = parse_experiment(kMatrix, "exp/matrix.toml");
  auto plan = plan_experiment(e, "/out", "/usr/bin/cgprof");
  ASSERT_EQ(plan.size(), 2u * 2u * 3u);
  EXPECT_EQ(plan[0].id, "resnet18/rpi4/warmup-001");
  EXPECT_TRUE(plan[0].warmup);
  EXPECT_EQ(plan[1].id, "resnet18/rpi4/run-001");
  EXPECT_EQ(plan[2].id, "resnet18/rpi4/run-002");
  EXPECT_EQ(plan[3].id, "resnet18/my_pi/warmup-001");
  EXPECT_EQ(plan[11].id, "burn/my_pi/run-002");
  EXPECT_EQ(shell_join(plan[1].argv),
            "/usr/bin/cgprof run --device rpi4 --output /out/resnet18/rpi4/run-001 --label "
            "batch=4 --label model=resnet18 --label workload=resnet18 --rate 500 "
            "images/torch:latest -- python3 /infer.py --model resnet18");
  EXPECT_EQ(shell_join(plan[11].argv),
            "/usr/bin/cgprof run --device '../devices/my pi.toml' --output "
            "/out/burn/my_pi/run-002 --label workload=burn --rate 500 --rootfs rootfs/busybox -- "
            "cpu-burn 2");
}

TEST(Experiment, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("repeat = 0\n[[workload]]\nname = \"a\"\nrootfs = \"r\"\n"),
            "exp/matrix.toml: line 1: repeat: expected an integer from 1 to 10000");
  EXPECT_EQ(error_of("repeat = 2\n"),
            "exp/matrix.toml: line 1: workload: expected one or more [[workload]] tables with "
            "name, image or rootfs, and command");
  EXPECT_EQ(error_of("[[workload]]\nname = \"a\"\n"),
            "exp/matrix.toml: line 1: workload a: give exactly one of image = \"REF\" or rootfs = "
            "\"DIR\"");
  EXPECT_EQ(error_of("[[workload]]\nname = \"a/b\"\nrootfs = \"r\"\n"),
            "exp/matrix.toml: line 2: workload.name: \"a/b\" must be letters, digits, '-', '_' or "
            "'.' (it names a directory)");
  EXPECT_EQ(error_of("repeats = 2\n"),
            "exp/matrix.toml: line 1: repeats: unknown key; expected one of: name, output, "
            "repeat, warmup, devices, run_args, workload, slurm");
  EXPECT_NE(error_of("repeat = \n").find("exp/matrix.toml: line 1: "), std::string::npos);
}

TEST(Experiment, DeviceFileNamesNeverBecomeDotDirectories) {
  auto e = parse_experiment(
      "devices = [\"...toml\", \"..toml\", \".hidden.toml\"]\n"
      "[[workload]]\nname = \"a\"\nrootfs = \"r\"\n",
      "exp/matrix.toml");
  auto plan = plan_experiment(e, "/out", "cgprof");
  ASSERT_EQ(plan.size(), 3u);
  for (const auto& p : plan) {
    for (const auto& part : fs::path(p.id)) {
      EXPECT_NE(part, "..") << p.id;
      EXPECT_NE(part, ".") << p.id;
      EXPECT_NE(part.string().front(), '.') << p.id;
    }
  }
  EXPECT_EQ(plan[0].id, "a/_./run-001");  // "...toml": stem ".."
}

TEST(Experiment, DevicesWithTheSameResultDirectoryAreRefused) {
  EXPECT_EQ(error_of("devices = [\"a/pi.toml\", \"b/pi.toml\"]\n"
                     "[[workload]]\nname = \"a\"\nrootfs = \"r\"\n"),
            "exp/matrix.toml: line 1: devices: \"b/pi.toml\" is listed twice, or another entry has "
            "the same result directory \"pi\" (rename one of the files)");
}

TEST(Experiment, RunDirStateDecidesResume) {
  char t[] = "/tmp/cgprof-exp-XXXXXX";
  const std::string root = mkdtemp(t);
  EXPECT_FALSE(inspect_run_dir(root + "/nothing").exists);
  fs::create_directories(root + "/torn");
  auto torn = inspect_run_dir(root + "/torn");  // killed before run.json: redo
  EXPECT_TRUE(torn.exists);
  EXPECT_FALSE(torn.complete);
  RunResult r = new_run_result();
  r.exit.status = 3;
  write_run_json(r, root + "/failed");
  auto failed = inspect_run_dir(root + "/failed");  // the workload failed: complete, not rerun
  EXPECT_TRUE(failed.complete);
  EXPECT_EQ(failed.exit_status, 3);
  r.exit.status = 130;
  r.exit.interrupted = true;
  write_run_json(r, root + "/interrupted");
  EXPECT_FALSE(inspect_run_dir(root + "/interrupted").complete);

  auto e = parse_experiment("[[workload]]\nname = \"w\"\nrootfs = \"r\"\n", "x.toml");
  auto plan = plan_experiment(e, root, "cgprof");
  ASSERT_EQ(plan.size(), 1u);
  std::vector<RunDirState> states{failed};
  auto idx = nlohmann::json::parse(experiment_index_json(e, plan, states));
  EXPECT_EQ(idx["schema"], "cgprof.experiment/1");
  EXPECT_EQ(idx["planned"], 1);
  EXPECT_EQ(idx["complete"], 1);
  EXPECT_EQ(idx["runs"][0]["state"], "failed");
  EXPECT_EQ(idx["runs"][0]["dir"], "w/host/run-001");
  EXPECT_EQ(idx["runs"][0]["command_line"],
            "cgprof run --output " + root + "/w/host/run-001 --label workload=w --rootfs r");
  std::string csv = experiment_index_csv(plan, {RunDirState{}});
  EXPECT_EQ(csv.substr(0, csv.find('\n')).substr(0, 57),
            "id,dir,workload,device,repeat,warmup,state,exit_status,la");
  EXPECT_NE(csv.find("\nw/host/run-001,w/host/run-001,w,host,1,false,pending,"), std::string::npos);
  fs::remove_all(root);
}

TEST(Experiment, SlurmTableGivesSbatchOptions) {
  auto e = parse_experiment(std::string(kMatrix) + R"(
[slurm]
partition = "cpu"
time = "00:20:00"
cpus_per_task = 2
mem = "4G"
exclusive = true
max_parallel = 8
sbatch_args = ["--account=ml"]
)",
                            "exp/matrix.toml");
  EXPECT_EQ(e.slurm.partition, "cpu");
  EXPECT_EQ(e.slurm.time, "00:20:00");
  EXPECT_EQ(e.slurm.cpus_per_task, 2u);
  EXPECT_EQ(e.slurm.mem, "4G");
  EXPECT_EQ(e.slurm.exclusive, true);
  EXPECT_EQ(e.slurm.max_parallel, 8u);
  EXPECT_EQ(e.slurm.sbatch_args, std::vector<std::string>{"--account=ml"});
  EXPECT_FALSE(parse_experiment(kMatrix, "m.toml").slurm.exclusive.has_value());
  EXPECT_NE(error_of(std::string(kMatrix) + "[slurm]\nnodes = 2\n").find("slurm.nodes: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kMatrix) + "[slurm]\nexclusive = \"yes\"\n")
                .find("line 18: slurm.exclusive: expected true or false"),
            std::string::npos)
      << error_of(std::string(kMatrix) + "[slurm]\nexclusive = \"yes\"\n");
}
