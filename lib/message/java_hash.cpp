// Java String.hashCode over UTF-16 code units, computed from UTF-8 (tag filter codes, §7.11).
#include "message/codec.hpp"

namespace corocket::detail {

namespace {

constexpr char32_t replacement_char = 0xFFFD;

// Decodes one code point from the front of `s` and removes what it consumed. Malformed
// input yields one U+FFFD per maximal ill-formed subpart (Unicode Table 3-7), which is
// what Java's UTF-8 decoder substitutes.
char32_t next_code_point(std::string_view& s) noexcept
{
    const auto lead = static_cast<unsigned char>(s[0]);
    if (lead < 0x80) {
        s.remove_prefix(1);
        return lead;
    }
    std::size_t len = 0;
    char32_t cp = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        len = 2, cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        len = 3, cp = lead & 0x0F;
        if (lead == 0xE0) lo = 0xA0;  // overlong
        if (lead == 0xED) hi = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        len = 4, cp = lead & 0x07;
        if (lead == 0xF0) lo = 0x90;  // overlong
        if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
        s.remove_prefix(1);
        return replacement_char;
    }
    std::size_t used = 1;
    for (; used < len && used < s.size(); ++used) {
        const auto c = static_cast<unsigned char>(s[used]);
        if (c < (used == 1 ? lo : 0x80) || c > (used == 1 ? hi : 0xBF)) break;
        cp = (cp << 6) | (c & 0x3F);
    }
    s.remove_prefix(used);
    return used == len ? cp : replacement_char;
}

}  // namespace

std::int32_t java_string_hash(std::string_view utf8) noexcept
{
    std::uint32_t h = 0;  // unsigned: Java's int arithmetic wraps
    auto add = [&h](char32_t unit) { h = h * 31 + static_cast<std::uint32_t>(unit); };
    while (!utf8.empty()) {
        const auto cp = next_code_point(utf8);
        if (cp >= 0x10000) {
            add(0xD800 + ((cp - 0x10000) >> 10));
            add(0xDC00 + ((cp - 0x10000) & 0x3FF));
        } else {
            add(cp);
        }
    }
    return static_cast<std::int32_t>(h);
}

}  // namespace corocket::detail
