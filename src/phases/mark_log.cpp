// Marks as received: escaping and interning of names, the bounds, and marks -> occurrences.
#include <algorithm>
#include <cstdio>

#include "cgprof/phases.hpp"

namespace cgprof {

std::string escape_phase_name(std::string_view raw, bool* truncated) {
  std::string out;
  bool cut = false;
  for (unsigned char c : raw) {
    char piece[5];
    size_t n = 1;
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      piece[0] = static_cast<char>(c);
    } else {
      std::snprintf(piece, sizeof piece, "\\x%02x", c);
      n = 4;
    }
    if (out.size() + n > kMaxPhaseNameBytes) {
      cut = true;
      break;
    }
    out.append(piece, n);
  }
  if (truncated) *truncated = cut;
  return out;
}

namespace {

std::string_view trimmed(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

void MarkLog::add_line(uint64_t t_ns, std::string_view line, bool line_truncated) {
  line = trimmed(line);
  if (line.empty()) return;
  ++received_;
  if (marks_.size() >= kMaxMarks) {
    ++dropped_;
    return;
  }
  if (line == "-") {
    marks_.push_back({t_ns, kEnd});
    return;
  }
  bool cut = false;
  std::string name = escape_phase_name(line, &cut);
  if (cut || line_truncated) ++truncated_;
  uint32_t id;
  if (auto it = ids_.find(name); it != ids_.end()) {
    id = it->second;
  } else if (names_.size() < kMaxPhaseNames) {
    id = static_cast<uint32_t>(names_.size());
    ids_.emplace(name, id);
    names_.push_back(std::move(name));
  } else {
    id = kOverflow;
    ++overflow_marks_;
  }
  marks_.push_back({t_ns, id});
}

std::vector<PhaseOccurrence> phase_occurrences(const MarkLog& log, uint64_t exit_ns) {
  std::vector<PhaseOccurrence> out;
  bool open = false;
  PhaseOccurrence cur;
  for (const MarkLog::Mark& mark : log.marks()) {
    // Stamped after the exit only because cgprof read it late (it was written before): at exit.
    const MarkLog::Mark m{std::min(mark.t_ns, exit_ns), mark.name};
    if (open) {
      cur.end_ns = m.t_ns;
      out.push_back(cur);
      open = false;
    }
    if (m.name == MarkLog::kEnd) continue;
    cur = PhaseOccurrence{};
    cur.name = m.name;
    cur.start_ns = m.t_ns;
    open = true;
  }
  if (open) {
    cur.end_ns = exit_ns;
    cur.closed_at_exit = true;
    out.push_back(cur);
  }
  return out;
}

}  // namespace cgprof
