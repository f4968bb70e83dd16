// The algo tests use the shared wire-capture loader (tests/support/wire_captures.hpp).
#pragma once

#include "wire_captures.hpp"

namespace corocket::test {
inline const std::vector<wire_frame>& load_wire(const std::string& file) { return wire_frames(file); }
inline const std::vector<std::string>& wire_files() { return wire_file_names(); }
}  // namespace corocket::test
