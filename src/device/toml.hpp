// toml++ as this project includes it. The top meson.build picks the mode: the shared Debian
// library normally, header-only for -Dstatic=true (Debian ships no libtomlplusplus.a).
#pragma once

#include <toml++/toml.h>
