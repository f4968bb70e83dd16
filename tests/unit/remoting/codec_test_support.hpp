// The codec tests use the shared wire-capture loader (tests/support/wire_captures.hpp).
#pragma once

#include "wire_captures.hpp"

namespace corocket::remoting::test {
using corocket::test::all_wire_frames;
using corocket::test::concatenated;
using corocket::test::wire_file_names;
using corocket::test::wire_frame;
using corocket::test::wire_frames;
inline std::string from_hex(std::string_view hex) { return corocket::test::unhex(hex); }
}  // namespace corocket::remoting::test
