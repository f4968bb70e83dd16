// Sans-I/O frame reader: bytes in, whole frames out. One contiguous, growable buffer with a
// hard maximum; frames handed out borrow from it and stay valid until the next prepare().
#pragma once

#include <corocket/error.hpp>
#include <corocket/remoting/command.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace corocket::remoting::detail {

/// One frame as it sits in the buffer, split but not decoded.
struct raw_frame {
    serialize_type type;
    std::string_view header;  ///< the serialized header bytes
    std::string_view body;    ///< the body bytes (may be empty)
};

/// Size of the frame prefix: the length word and the header word.
inline constexpr std::size_t frame_prefix_size = 8;

/// What the 8-byte prefix of a frame says.
struct frame_prefix {
    std::size_t frame_size = 0;   ///< the whole frame, length word included
    serialize_type type = serialize_type::json;
    std::size_t header_size = 0;  ///< bytes of serialized header after the prefix
};

/// Checks the start of a frame in `bytes` (which may hold less than a prefix) against the
/// framing rules: length word >= 4 (it counts the header word), length + 4 <= `max_frame`,
/// serialize type 0 or 1, header length <= length - 4. Each rule is checked as soon as the bytes it
/// needs are there, so a bad length fails before the header word arrives. Returns true with `out`
/// filled once the whole prefix is present and valid; false with `ec` clear when more bytes are
/// needed; false with `ec` set (client_errc::frame_too_large or corrupt_frame) on a violation.
bool parse_frame_prefix(std::string_view bytes, std::size_t max_frame, frame_prefix& out, error_code& ec) noexcept;

class frame_reader {
public:
    /// Default maximum: the broker's frameMaxLength, 16 MiB (including the 4-byte length prefix).
    static constexpr std::size_t default_max_frame = 16 * 1024 * 1024;

    explicit frame_reader(std::size_t max_frame = default_max_frame);

    /// A writable region of at least `n` bytes at the end of the unread data. Compacts the buffer
    /// first (moves the unread bytes to the front), so frames returned earlier become invalid.
    /// When next() is drained before each prepare() (the read loop does that), the buffer holds
    /// at most one partial frame plus `n` bytes, i.e. at most max_frame + n, whatever the peer sends.
    std::span<char> prepare(std::size_t n);
    /// Marks `n` bytes of the last prepare() region as filled.
    void commit(std::size_t n) noexcept;

    /// The next whole frame, or nullopt when more bytes are needed or on error. Errors are
    /// sticky: after a corrupt length (negative, shorter than the header word, above the maximum,
    /// header length beyond the frame, unknown serialize type) every call returns nullopt and sets
    /// `ec` to the same error (client_errc::frame_too_large or client_errc::corrupt_frame).
    std::optional<raw_frame> next(error_code& ec);

    /// The sticky error, if any.
    error_code error() const noexcept { return error_; }
    /// Bytes received but not yet returned as frames.
    std::size_t buffered() const noexcept { return end_ - begin_; }
    /// Bytes currently allocated for the buffer (it grows geometrically and is never shrunk, so
    /// steady-state reading allocates nothing).
    std::size_t capacity() const noexcept { return buf_.size(); }
    std::size_t max_frame() const noexcept { return max_frame_; }
    /// Drops buffered bytes and the sticky error; keeps the allocated buffer.
    void reset() noexcept;

private:
    std::vector<char> buf_;
    std::size_t begin_ = 0;  // first unread byte
    std::size_t end_ = 0;    // one past the last committed byte
    std::size_t max_frame_;
    error_code error_;
};

}  // namespace corocket::remoting::detail
