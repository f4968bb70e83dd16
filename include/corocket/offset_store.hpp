// Consumer offsets: the offset table JSON of protocol.md §6.8/§6.10 (fastjson object keys), the
// local offset file of broadcasting consumers (§7.8), and the per-queue in-flight tracker that
// decides what may be committed (§7.6 step 6: the lowest offset not yet successfully consumed).
#pragma once

#include <corocket/error.hpp>
#include <corocket/route.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace corocket {

using offset_table = std::map<message_queue, std::int64_t>;

/// `{"offsetTable":{<MessageQueue>:offset,...}}` with MessageQueue objects as keys, as fastjson
/// writes it (and Java reads it back).
std::string offset_table_json(const offset_table& table);

/// Reads an offset table in any of the shapes Java tools write: object keys (fastjson), an
/// array of [key, value] pairs (gson), or an array of MessageQueue objects with an `offset`
/// field (the "for C" ResetOffsetBody). Errors: client_errc::bad_body.
error_code parse_offset_table_json(std::string_view json, offset_table& out);

/// The broadcasting consumer's offsets on local disk: `<dir>/<client id>/<group>/offsets.json`.
/// Saving writes a temporary file and renames it over the old one (after copying the old one
/// to `offsets.json.bak`), so a crash never leaves a torn file; loading falls back to the
/// backup when the main file is unreadable.
class local_offset_file {
public:
    explicit local_offset_file(std::filesystem::path path) : path_(std::move(path)) {}

    /// `<dir>/<client_id>/<group>/offsets.json`; `dir` empty = `$HOME/.rocketmq_offsets`.
    static std::filesystem::path default_path(std::string_view dir, std::string_view client_id, std::string_view group);

    const std::filesystem::path& path() const noexcept { return path_; }

    /// Missing file → empty table and success. Unparsable file and backup → client_errc::bad_body.
    error_code load(offset_table& out) const;
    /// Writes the table (creating directories). Errors come from the file system.
    error_code save(const offset_table& table) const;

private:
    std::filesystem::path path_;
};

/// One queue's messages between pull and successful consumption, keyed by queue offset.
/// Sans-I/O. The committable offset never passes a message still in flight (or failed and not
/// yet sent back), and never moves backwards except through reset().
class offset_tracker {
public:
    /// Start over at `next_offset` (nothing in flight).
    void reset(std::int64_t next_offset) noexcept;
    /// A pulled message enters the cache.
    void add(std::int64_t offset, std::size_t bytes);
    /// A message is done (consumed, or handed to the broker's retry topic). Unknown offsets are ignored.
    void remove(std::int64_t offset) noexcept;
    /// The queue advanced without messages (NO_NEW_MSG / NO_MATCHED_MSG): counts only when empty.
    void skip_to(std::int64_t next_offset) noexcept;

    /// Lowest offset still in flight, or one past the highest offset ever added (or the reset /
    /// skip position, whichever is higher) when nothing is in flight.
    std::int64_t committable() const noexcept;
    std::size_t count() const noexcept { return inflight_.size(); }
    std::size_t bytes() const noexcept { return bytes_; }
    /// Highest minus lowest cached offset (0 when fewer than two).
    std::int64_t span() const noexcept;
    /// Smallest/largest cached offsets (-1 when empty).
    std::int64_t min_cached() const noexcept { return inflight_.empty() ? -1 : inflight_.begin()->first; }
    std::int64_t max_cached() const noexcept { return inflight_.empty() ? -1 : inflight_.rbegin()->first; }

private:
    std::map<std::int64_t, std::size_t> inflight_;
    std::int64_t next_ = 0;  ///< one past everything seen
    std::size_t bytes_ = 0;
};

}  // namespace corocket
