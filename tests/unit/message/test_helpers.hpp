// Helpers shared by the message tests: hex conversion and the wire-capture loader.
#pragma once

#include "wire_captures.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace corocket::test {

inline std::uint32_t be32(std::string_view bytes, std::size_t at)
{
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(bytes.at(at + i));
    return v;
}

/// Every captured frame (in file order) for which `keep(annot)` holds.
template <class Pred>
std::vector<wire_frame> load_wire_frames(Pred keep)
{
    std::vector<wire_frame> out;
    for (const wire_frame* f : select_wire_frames(keep))
        out.push_back(*f);
    return out;
}

}  // namespace corocket::test
