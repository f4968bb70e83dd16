#include "remoting/frame_reader.hpp"

#include "remoting/byte_order.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace corocket::remoting::detail {
namespace {

constexpr std::size_t length_word_size = 4;
constexpr std::uint32_t header_length_mask = 0x00FFFFFF;

}  // namespace

bool parse_frame_prefix(std::string_view bytes, std::size_t max_frame, frame_prefix& out, error_code& ec) noexcept
{
    ec = {};
    if (bytes.size() < length_word_size) return false;
    // The length word is a signed Java int counting everything after itself: at least the header word.
    auto length = static_cast<std::int32_t>(load_u32(bytes.data()));
    if (length < 4) {
        ec = client_errc::corrupt_frame;
        return false;
    }
    std::size_t frame_size = static_cast<std::size_t>(length) + length_word_size;
    if (frame_size > max_frame) {
        ec = client_errc::frame_too_large;
        return false;
    }
    if (bytes.size() < frame_prefix_size) return false;
    std::uint32_t word = load_u32(bytes.data() + length_word_size);
    std::uint32_t type = word >> 24;
    std::size_t header_size = word & header_length_mask;
    if (type > static_cast<std::uint32_t>(serialize_type::rocketmq) ||
        header_size > static_cast<std::size_t>(length) - 4) {
        ec = client_errc::corrupt_frame;
        return false;
    }
    out.frame_size = frame_size;
    out.type = static_cast<serialize_type>(type);
    out.header_size = header_size;
    return true;
}

frame_reader::frame_reader(std::size_t max_frame) : max_frame_(max_frame) {}

std::span<char> frame_reader::prepare(std::size_t n)
{
    if (begin_ == end_) {
        begin_ = end_ = 0;
    } else if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    std::size_t needed = end_ + n;
    if (needed > buf_.size()) {
        // Geometric growth, but not past what the largest legal frame plus this read can use.
        std::size_t useful = max_frame_ > SIZE_MAX - n ? SIZE_MAX : max_frame_ + n;
        std::size_t grown = std::min(buf_.size() * 2, useful);
        buf_.resize(std::max(needed, grown));
    }
    return {buf_.data() + end_, buf_.size() - end_};
}

void frame_reader::commit(std::size_t n) noexcept
{
    end_ = std::min(end_ + n, buf_.size());
}

std::optional<raw_frame> frame_reader::next(error_code& ec)
{
    if (error_) {
        ec = error_;
        return std::nullopt;
    }
    std::string_view unread(buf_.data() + begin_, end_ - begin_);
    frame_prefix prefix;
    if (!parse_frame_prefix(unread, max_frame_, prefix, ec)) {
        error_ = ec;
        return std::nullopt;
    }
    if (unread.size() < prefix.frame_size) return std::nullopt;
    begin_ += prefix.frame_size;
    return raw_frame{
        prefix.type,
        unread.substr(frame_prefix_size, prefix.header_size),
        unread.substr(frame_prefix_size + prefix.header_size, prefix.frame_size - frame_prefix_size - prefix.header_size),
    };
}

void frame_reader::reset() noexcept
{
    begin_ = end_ = 0;
    error_ = {};
}

}  // namespace corocket::remoting::detail
