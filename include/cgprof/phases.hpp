// Phases: named spans of a run marked by the workload, and what the run used in each.
//
// Marks arrive as text lines, either written by the workload to $CGPROF_MARK (a FIFO that cgprof
// serves, bind-mounted read-only at /dev/cgprof-mark in the container) or taken from its output
// lines matching --mark-regex. `NAME` starts phase NAME (ending the current one), `-` ends the
// current phase. Each mark is timestamped on receipt with CLOCK_MONOTONIC, the clock of the
// samples, so phases can be attributed from any sample stream (whatever cgroup backend produced
// it): phase attribution takes marks and Samples, nothing else.
//
// Everything is bounded: a flood of marks, huge lines or many distinct names cost at most
// kMaxMarks * 16 bytes plus kMaxPhaseNames short strings; what does not fit is counted.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cgprof/sampler.hpp"

namespace cgprof {

inline constexpr size_t kMaxPhaseNames = 1000;        // distinct names; later ones: overflow
inline constexpr size_t kMaxPhaseNameBytes = 64;      // after escaping; longer ones are cut
inline constexpr size_t kMaxMarks = size_t{1} << 20;  // marks kept; later ones are dropped
inline constexpr size_t kMaxMarkLineBytes = 4096;     // bytes of a line looked at
inline constexpr const char* kMarkContainerPath = "/dev/cgprof-mark";  // sandbox kMarkDevPath
inline constexpr const char* kOverflowPhaseName = "(other names)";

// Bytes outside printable ASCII and '\' become \xHH; the result is cut to kMaxPhaseNameBytes
// (never inside an escape). Sets *truncated when it was cut.
std::string escape_phase_name(std::string_view raw, bool* truncated = nullptr);

// Marks as received, with names interned. Not thread-safe (one reader thread owns it).
class MarkLog {
 public:
  static constexpr uint32_t kEnd = 0xffffffffu;       // the "-" mark
  static constexpr uint32_t kOverflow = 0xfffffffeu;  // a name beyond kMaxPhaseNames
  struct Mark {
    uint64_t t_ns;
    uint32_t name;  // index into names(), kEnd or kOverflow
  };

  // One mark line (without its newline; trailing '\r' and surrounding blanks are ignored; an
  // empty line is no mark). "-" ends the current phase, anything else starts a phase.
  void add_line(uint64_t t_ns, std::string_view line, bool line_truncated = false);

  const std::vector<Mark>& marks() const { return marks_; }
  const std::vector<std::string>& names() const { return names_; }
  uint64_t received() const { return received_; }
  uint64_t dropped() const { return dropped_; }                // beyond kMaxMarks
  uint64_t truncated_names() const { return truncated_; }      // lines or names cut
  uint64_t overflow_marks() const { return overflow_marks_; }  // names beyond kMaxPhaseNames

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<Mark> marks_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> ids_;
  uint64_t received_ = 0, dropped_ = 0, truncated_ = 0, overflow_marks_ = 0;
};

// Splits a byte stream into lines, keeping at most kMaxMarkLineBytes of each; calls
// on_line(line, truncated) per complete line. Memory: one fixed buffer.
class LineSplitter {
 public:
  template <class F>
  void feed(std::string_view chunk, F&& on_line) {
    for (char c : chunk) {
      if (c == '\n') {
        on_line(std::string_view(buf_), cut_);
        buf_.clear();
        cut_ = false;
      } else if (buf_.size() < kMaxMarkLineBytes) {
        buf_.push_back(c);
      } else {
        cut_ = true;
      }
    }
  }
  // A last line without a newline (at the end of the stream).
  template <class F>
  void finish(F&& on_line) {
    if (!buf_.empty()) on_line(std::string_view(buf_), cut_);
    buf_.clear();
    cut_ = false;
  }

 private:
  std::string buf_;
  bool cut_ = false;
};

// One span of a phase. Times are CLOCK_MONOTONIC ns.
struct PhaseOccurrence {
  uint32_t name = 0;  // index into the names, or MarkLog::kOverflow
  uint64_t start_ns = 0, end_ns = 0;
  bool closed_at_exit = false;  // still open when the workload exited
  // From samples (nullopt when no sample stream had the counter).
  std::optional<double> cpu_seconds, throttled_seconds;
  std::optional<uint64_t> memory_peak_bytes, io_read_bytes, io_write_bytes;
};

// Marks -> time-ordered, non-overlapping occurrences. A phase open at `exit_ns` is closed there
// and flagged; a mark stamped after exit_ns (read late: it was written before) counts at exit_ns.
std::vector<PhaseOccurrence> phase_occurrences(const MarkLog& log, uint64_t exit_ns);

// Fills the counters of each occurrence from a time-ordered sample stream: cumulative counters
// (CPU, throttled time, I/O bytes) are interpolated linearly at the occurrence's ends; the peak
// memory is the largest memory_current sampled inside it (or the last one before it). Call
// add() for every sample in order, then finish().
class PhaseAttributor {
 public:
  explicit PhaseAttributor(std::vector<PhaseOccurrence>& occurrences);
  void add(const Sample& s);
  void finish();

 private:
  struct Counter;
  std::vector<PhaseOccurrence>& occ_;
  size_t next_ = 0;       // next boundary: occurrence index
  bool next_end_ = false;  // which end of it
  Sample prev_{};
  bool have_prev_ = false;
  // Counter values interpolated at the current occurrence's start.
  double start_cpu_ = 0, start_thr_ = 0, start_rd_ = 0, start_wr_ = 0;
  bool start_cpu_ok_ = false, start_io_ok_ = false;
  uint64_t last_mem_ = 0;
  bool have_last_mem_ = false;
  std::optional<uint64_t> cur_peak_;
};

struct Distribution {
  double min = 0, mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0, stddev = 0;
};
// Percentiles by linear interpolation between order statistics; sample stddev (0 for one value).
// Sorts `values`. Empty: all zero.
Distribution distribution_of(std::vector<double>& values);

struct PhaseStats {
  std::string name;
  bool overflow = false;  // the bucket of names beyond kMaxPhaseNames
  uint64_t count = 0;
  uint64_t closed_at_exit = 0;  // occurrences closed at the workload's exit
  double wall_seconds = 0;      // total
  std::optional<double> cpu_seconds, throttled_seconds;
  std::optional<uint64_t> memory_peak_bytes, io_read_bytes, io_write_bytes;
  Distribution wall;                // per occurrence, seconds
  std::optional<Distribution> cpu;  // per occurrence, CPU seconds
};

struct PhasesResult {
  std::string channel;       // where marks were served in the container ("" = no FIFO)
  std::string mark_regex;    // --mark-regex ("" = none)
  std::string attribution;   // "samples" (counters from the sample stream) or "none"
  uint64_t origin_ns = 0;    // CLOCK_MONOTONIC of time 0 in phases.csv (the workload's exec)
  uint64_t marks = 0, dropped_marks = 0, truncated_names = 0, overflow_marks = 0;
  std::string occurrences_file;  // "phases.csv" when written
  std::vector<PhaseStats> phases;  // in order of first occurrence; the overflow bucket last
};

// Per-name statistics of attributed occurrences.
PhasesResult summarize_phases(const MarkLog& log, const std::vector<PhaseOccurrence>& occ);

// ---- phases.csv (docs/run-json.md): one line per occurrence ----
// phase,start_s,end_s,wall_s,cpu_s,closed_at_exit  (times in seconds since origin_ns)
std::string phase_occurrences_csv(const std::vector<PhaseOccurrence>& occ,
                                  const std::vector<std::string>& names, uint64_t origin_ns);
struct PhaseSpan {
  std::string name;
  double start_s = 0, end_s = 0;
  std::optional<double> cpu_s;
  bool closed_at_exit = false;
};
// Throws Error naming `source` and the line on a malformed file.
std::vector<PhaseSpan> parse_phase_occurrences_csv(std::string_view text,
                                                   const std::string& source);

// ---- the mark channel of a run ----
struct MarkServerOptions {
  bool fifo = true;        // serve $CGPROF_MARK
  std::string mark_regex;  // marks from stdout/stderr lines (first capture group = name)
};

// Serves the marks of one run: a FIFO in a private directory on the host (bind-mounted
// read-only into the container at kMarkContainerPath), and with --mark-regex two pipes that
// stand in for the workload's stdout and stderr, copied through unchanged. One thread reads all
// of them; it never writes to the FIFO, so the workload never waits for cgprof. The destructor
// stops the thread and removes the FIFO and its directory.
class MarkServer {
 public:
  // Throws Error for a bad regex (naming --mark-regex) or when the FIFO cannot be made.
  explicit MarkServer(const MarkServerOptions& opts);
  ~MarkServer();
  MarkServer(const MarkServer&) = delete;
  MarkServer& operator=(const MarkServer&) = delete;

  const std::string& fifo_host_path() const;  // "" when no FIFO
  int stdout_fd() const;  // write ends for the container (-1 without --mark-regex)
  int stderr_fd() const;
  // Starts the reader thread; call before the workload starts.
  void start();
  // Closes cgprof's copies of the container's output pipes (after the container started), so
  // the pipes end when the workload's processes are gone.
  void release_container_ends();
  // Reads what is left (the workload has exited) and stops. Idempotent.
  void stop();
  const MarkLog& log() const;  // valid after stop()
  const MarkServerOptions& options() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Occurrences of a run, attributed from DIR/SAMPLES (when `samples_path` is not empty) and
// summarized; writes DIR/phases.csv. `exit_ns` closes an open phase; `origin_ns` is time 0.
PhasesResult record_phases(const MarkServer& server, uint64_t origin_ns, uint64_t exit_ns,
                           const std::string& dir, const std::string& samples_path);

}  // namespace cgprof
