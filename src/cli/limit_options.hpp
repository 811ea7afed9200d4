// The resource options shared by every command that runs or shows a device (docker spellings):
// --device NAME|FILE, --cpus, --cpuset-cpus, --cpu-period, --memory, --memory-swap,
// --pids-limit, --device-{read,write}-{bps,iops}. The values are parsed by merge_overrides.
#pragma once

#include <CLI/CLI.hpp>

#include "cgprof/device.hpp"

namespace cgprof::cli {

// Adds the options to `cmd`; `o` must outlive parsing. with_device=false leaves out --device
// (for commands that take the device as a positional argument).
void add_limit_options(CLI::App* cmd, LimitOverrides& o, bool with_device = true);

}  // namespace cgprof::cli
