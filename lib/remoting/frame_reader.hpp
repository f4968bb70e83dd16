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

class frame_reader {
public:
    /// Default maximum: the broker's frameMaxLength, 16 MiB (including the 4-byte length prefix).
    static constexpr std::size_t default_max_frame = 16 * 1024 * 1024;

    explicit frame_reader(std::size_t max_frame = default_max_frame);

    /// A writable region of at least `n` bytes at the end of the unread data. Compacts the buffer
    /// first, so frames returned earlier become invalid.
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
    void reset() noexcept;

private:
    std::vector<char> buf_;
    std::size_t begin_ = 0;  // first unread byte
    std::size_t end_ = 0;    // one past the last committed byte
    std::size_t max_frame_;
    error_code error_;
};

}  // namespace corocket::remoting::detail
