// Big-endian (network order) integer loads and stores for the remoting wire format.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace corocket::remoting::detail {

inline std::uint32_t load_u32(const char* p) noexcept
{
    unsigned char b[4];
    std::memcpy(b, p, 4);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

inline std::uint16_t load_u16(const char* p) noexcept
{
    unsigned char b[2];
    std::memcpy(b, p, 2);
    return static_cast<std::uint16_t>((b[0] << 8) | b[1]);
}

inline void store_u32(char* p, std::uint32_t v) noexcept
{
    const unsigned char b[4] = {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
                                static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
    std::memcpy(p, b, 4);
}

inline void store_u16(char* p, std::uint16_t v) noexcept
{
    const unsigned char b[2] = {static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
    std::memcpy(p, b, 2);
}

inline void append_u32(std::string& out, std::uint32_t v)
{
    char b[4];
    store_u32(b, v);
    out.append(b, 4);
}

inline void append_u16(std::string& out, std::uint16_t v)
{
    char b[2];
    store_u16(b, v);
    out.append(b, 2);
}

}  // namespace corocket::remoting::detail
