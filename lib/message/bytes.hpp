// Big-endian integer writing and a bounds-checked reader for the binary message formats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace corocket::detail {

template <class Int>
void put_be(std::string& out, Int value)
{
    using unsigned_type = std::make_unsigned_t<Int>;
    auto bits = static_cast<unsigned_type>(value);
    for (int shift = (sizeof(Int) - 1) * 8; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((bits >> shift) & 0xFF));
}

/// Reads big-endian fields from a byte range; every read fails (returns false / nullopt)
/// instead of running past the end, and a failed reader stays failed.
class byte_reader {
public:
    explicit byte_reader(std::string_view data) noexcept : data_(data) {}

    template <class Int>
    bool read(Int& value) noexcept
    {
        if (!ok_ || remaining() < sizeof(Int)) return fail();
        std::make_unsigned_t<Int> bits = 0;
        for (std::size_t i = 0; i < sizeof(Int); ++i)
            bits = static_cast<decltype(bits)>((bits << 8) | static_cast<unsigned char>(data_[pos_ + i]));
        value = static_cast<Int>(bits);
        pos_ += sizeof(Int);
        return true;
    }

    bool read_bytes(std::size_t n, std::string_view& out) noexcept
    {
        if (!ok_ || remaining() < n) return fail();
        out = data_.substr(pos_, n);
        pos_ += n;
        return true;
    }

    bool skip(std::size_t n) noexcept
    {
        std::string_view ignored;
        return read_bytes(n, ignored);
    }

    std::size_t position() const noexcept { return pos_; }
    std::size_t remaining() const noexcept { return data_.size() - pos_; }
    bool ok() const noexcept { return ok_; }

private:
    bool fail() noexcept
    {
        ok_ = false;
        return false;
    }

    std::string_view data_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

}  // namespace corocket::detail
