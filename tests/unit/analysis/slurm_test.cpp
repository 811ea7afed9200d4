// Experiments as Slurm job arrays: task lists, the sbatch script, the submission record, squeue
// and sacct output, and the state of every run (src/report/slurm.cpp).
#include "cgprof/slurm.hpp"

#include <gtest/gtest.h>

#include "cgprof/error.hpp"

namespace cgprof::report {
namespace {

TEST(SlurmTaskList, RangesAndSinglesRoundTrip) {
  EXPECT_EQ(format_task_list({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
  EXPECT_EQ(format_task_list({3, 1, 2, 2}), "1-3");
  EXPECT_EQ(format_task_list({}), "");
  EXPECT_EQ(parse_task_list("0-2,5,7-8", "x"), (std::vector<std::size_t>{0, 1, 2, 5, 7, 8}));
  EXPECT_EQ(parse_task_list("4-5%2", "x"), (std::vector<std::size_t>{4, 5}));
}

TEST(SlurmTaskList, MalformedNamesWhere) {
  for (const char* bad : {"", "a", "3-1", "1-", "-2", "1,,2", "1 2"}) {
    try {
      parse_task_list(bad, "subs.tsv: line 3");
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("subs.tsv: line 3"), std::string::npos) << e.what();
    }
  }
}

SlurmScriptInput input() {
  SlurmScriptInput in;
  in.name = "models on boards";
  in.experiment_file = "/data/exp/models.toml";
  in.output_dir = "/data/exp/models-results";
  in.cgprof = "/opt/cgprof's/bin/cgprof";
  in.tasks = {0, 1, 2, 3, 6};
  return in;
}

TEST(SlurmScript, OneTaskPerRunRunningItsIndex) {
  const std::string s = slurm_array_script(input());
  EXPECT_EQ(s.rfind("#!/bin/bash\n", 0), 0u);
  EXPECT_NE(s.find("#SBATCH --job-name=cgprof-models_on_boards\n"), std::string::npos) << s;
  EXPECT_NE(s.find("#SBATCH --array=0-3,6\n"), std::string::npos) << s;
  EXPECT_NE(s.find("#SBATCH --output=/data/exp/models-results/slurm/logs/%A_%a.out\n"),
            std::string::npos);
  EXPECT_NE(s.find("exec '/opt/cgprof'\\''s/bin/cgprof' experiment '/data/exp/models.toml' "
                   "--output '/data/exp/models-results' --task \"$SLURM_ARRAY_TASK_ID\"\n"),
            std::string::npos)
      << s;
  // Nothing asked, nothing set: the cluster's defaults apply.
  for (const char* o : {"--partition", "--time", "--mem", "--cpus-per-task", "--exclusive"})
    EXPECT_EQ(s.find(o), std::string::npos) << o;
}

TEST(SlurmScript, OptionsBecomeDirectives) {
  SlurmScriptInput in = input();
  in.options.partition = "cpu";
  in.options.time = "00:30:00";
  in.options.mem = "8G";
  in.options.cpus_per_task = 4;
  in.options.max_parallel = 2;
  in.options.exclusive = true;
  in.options.sbatch_args = {"--account=ml", "--constraint=skylake"};
  const std::string s = slurm_array_script(in);
  for (const char* line :
       {"#SBATCH --array=0-3,6%2\n", "#SBATCH --partition=cpu\n", "#SBATCH --time=00:30:00\n",
        "#SBATCH --mem=8G\n", "#SBATCH --cpus-per-task=4\n", "#SBATCH --exclusive\n",
        "#SBATCH --account=ml\n", "#SBATCH --constraint=skylake\n"})
    EXPECT_NE(s.find(line), std::string::npos) << line << " in\n" << s;
  // Every directive comes before the first command (sbatch stops reading them there).
  EXPECT_LT(s.rfind("#SBATCH"), s.find("\nexec "));
}

TEST(SlurmScript, NewlineInAnOptionRefused) {
  SlurmScriptInput in = input();
  in.options.partition = "cpu\nrm -rf /";
  EXPECT_THROW(slurm_array_script(in), Error);
}

TEST(SlurmSubmissions, RecordRoundTrips) {
  const std::string text = submission_line({"123", {0, 1, 2, 5}}, "2026-12-07T22:00:00Z") +
                           submission_line({"130", {2}}, "2026-12-07T23:00:00Z");
  EXPECT_EQ(text, "123\t0-2,5\t2026-12-07T22:00:00Z\n130\t2\t2026-12-07T23:00:00Z\n");
  const auto subs = parse_submissions(text, "s.tsv");
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_EQ(subs[0].job_id, "123");
  EXPECT_EQ(subs[0].tasks, (std::vector<std::size_t>{0, 1, 2, 5}));
  EXPECT_EQ(subs[1].tasks, (std::vector<std::size_t>{2}));
  EXPECT_THROW(parse_submissions("abc\t1\n", "s.tsv"), Error);
}

TEST(SlurmQueue, SqueueAndSacctLines) {
  const auto q = parse_squeue("  123 0 RUNNING\n123 4 PENDING\n99 N/A RUNNING\n\n");
  ASSERT_EQ(q.size(), 2u);  // 99 is not an array task
  EXPECT_EQ(q[1].job_id, "123");
  EXPECT_EQ(q[1].task, 4u);
  EXPECT_EQ(q[1].state, "PENDING");
  const auto a =
      parse_sacct("123_1|TIMEOUT\n123_2|CANCELLED by 0\n123_[5-7]|PENDING\n124|FAILED\n");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].task, 1u);
  EXPECT_EQ(a[0].state, "TIMEOUT");
  EXPECT_EQ(a[1].state, "CANCELLED");
}

RunDirState dir(bool complete, int exit_status = 0) {
  RunDirState s;
  s.complete = complete;
  s.exists = complete;
  s.exit_status = exit_status;
  return s;
}

TEST(SlurmConfig, MaxArraySizeFromScontrol) {
  const char* config =
      "Configuration data as of 2026-12-08T01:00:00\n"
      "MailProg                = /bin/mail\n"
      "MaxArraySize            = 1001\n"
      "MaxJobCount             = 10000\n";
  EXPECT_EQ(parse_max_array_size(config), std::optional<std::size_t>(1001));
  EXPECT_EQ(parse_max_array_size("MaxArraySize=4\n"), std::optional<std::size_t>(4));
  EXPECT_FALSE(parse_max_array_size("MaxJobCount = 10000\n"));
  EXPECT_FALSE(parse_max_array_size("MaxArraySize = many\n"));
}

TEST(SlurmStatus, EveryStateFromDirectoryQueueAndAccounting) {
  // 0 done, 1 done with exit 3, 2 running, 3 pending, 4 left the queue (sacct: TIMEOUT),
  // 5 left the queue (no accounting), 6 never submitted, 7 resubmitted in job 130 and running.
  const std::vector<RunDirState> dirs = {dir(true),  dir(true, 3), dir(false), dir(false),
                                         dir(false), dir(false),   dir(false), dir(false)};
  const std::vector<SlurmSubmission> subs = {{"123", {0, 1, 2, 3, 4, 5, 7}}, {"130", {7}}};
  const std::vector<SlurmTaskState> queue = {
      {"123", 2, "RUNNING"}, {"123", 3, "PENDING"}, {"130", 7, "RUNNING"}, {"123", 7, "RUNNING"}};
  const auto c = experiment_cell_status(dirs, subs, queue, {{"123", 4, "TIMEOUT"}});
  const std::vector<CellState> want = {CellState::done,    CellState::done,   CellState::running,
                                       CellState::pending, CellState::failed, CellState::failed,
                                       CellState::missing, CellState::running};
  ASSERT_EQ(c.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(cell_state_name(c[i].state), std::string(cell_state_name(want[i]))) << "run " << i;
  EXPECT_EQ(c[4].slurm_state, "TIMEOUT");
  EXPECT_EQ(c[5].slurm_state, "");
  EXPECT_EQ(c[7].job_id, "130");
}

TEST(SlurmStatus, WithoutSqueueSubmittedRunsAreNotCalledFailed) {
  const auto c = experiment_cell_status({dir(false), dir(false)}, {{"123", {0}}}, std::nullopt, {});
  EXPECT_EQ(c[0].state, CellState::submitted);
  EXPECT_EQ(c[1].state, CellState::missing);
}

}  // namespace
}  // namespace cgprof::report
