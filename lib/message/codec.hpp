// Binary message encodings: the stored record (protocol.md §4.4), the compact batch entry
// (§4.5), body compression (zlib, LZ4, ZSTD: §4.6), the body CRC (§4.7) and Java's
// String.hashCode (§7.11).
#pragma once

#include <corocket/error.hpp>
#include <corocket/message.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::detail {

inline constexpr std::int32_t magic_v1 = static_cast<std::int32_t>(0xDAA320A7);
inline constexpr std::int32_t magic_v2 = static_cast<std::int32_t>(0xDAA320AB);
/// TOTALSIZE of a V1 record with IPv4 hosts and empty body, topic and properties.
inline constexpr std::size_t min_stored_record_size = 91;
/// Topics longer than this need the V2 record (2-byte topic length).
inline constexpr std::size_t max_v1_topic_length = 127;

enum class record_version : std::uint8_t { v1, v2 };

/// The fixed-size fields of a stored record (§4.4.1).
struct stored_fields {
    record_version version = record_version::v1;
    std::int32_t body_crc = 0;  ///< filled by decode; encode recomputes it from the body
    std::int32_t queue_id = 0;
    std::int32_t flag = 0;
    std::int64_t queue_offset = 0;
    std::int64_t commit_log_offset = 0;
    std::int32_t sys_flag = 0;  ///< encode forces the IPv6 bits to match the hosts
    std::int64_t born_timestamp = 0;
    host_address born_host;
    std::int64_t store_timestamp = 0;
    host_address store_host;
    std::int32_t reconsume_times = 0;
    std::int64_t prepared_transaction_offset = 0;

    friend bool operator==(const stored_fields&, const stored_fields&) = default;
};

/// An owning stored record with every field of §4.4.1.
struct stored_record : stored_fields {
    std::string body;        ///< as stored (compressed if sys_flag says so)
    std::string topic;
    std::string properties;  ///< the encoded properties string (§4.1)

    friend bool operator==(const stored_record&, const stored_record&) = default;
};

/// A stored record borrowed from its bytes.
struct stored_record_view : stored_fields {
    std::string_view body;
    std::string_view topic;
    std::string_view properties;
};

/// Size the record will have once encoded.
std::size_t stored_size(const stored_record& rec) noexcept;

/// Append the record to `out`: TOTALSIZE and body CRC computed, IPv6 sysflag bits set from
/// the hosts, V2 magic when `rec.version` is v2 or the topic is longer than 127 bytes.
/// Precondition: topic and properties are at most 32767 bytes (validate first).
void encode_stored(const stored_record& rec, std::string& out);

/// Decode exactly one record (`one_record.size()` must equal its TOTALSIZE).
/// client_errc::bad_message on any inconsistency.
error_code decode_stored(std::string_view one_record, stored_record& out);
/// The same, borrowing body, topic and properties from `one_record`.
error_code decode_stored(std::string_view one_record, stored_record_view& out);

/// The fields at fixed positions (up to the born timestamp) of a record whose rest may be
/// corrupt, to name it in logs. Precondition: at least min_stored_record_size bytes.
void decode_leading_fields(std::string_view one_record, stored_fields& out) noexcept;

/// Split a body of back-to-back records into record slices by TOTALSIZE (§4.4.3 step 1).
/// client_errc::bad_message when a size is below the minimum or runs past the end; the records
/// before it are in `out` then.
error_code split_stored_records(std::string_view body, std::vector<std::string_view>& out);

/// One message of a SEND_BATCH_MESSAGE body (§4.5), borrowed from the body.
struct batch_entry {
    std::int32_t flag = 0;
    std::string_view body;
    std::string_view properties;
};

/// TOTALSIZE of the compact entry for this body and properties.
constexpr std::size_t batch_entry_size(std::size_t body_len, std::size_t props_len) noexcept
{
    return 22 + body_len + props_len;
}

/// Append one compact entry (magic 0, CRC 0) to `out`.
void encode_batch_entry(std::int32_t flag, std::string_view body, std::string_view properties, std::string& out);

/// Decode a whole batch body; client_errc::bad_message if an entry is inconsistent.
error_code decode_batch(std::string_view body, std::vector<batch_entry>& out);

/// zlib container (RFC 1950) compression at `level` (-1..9); replaces `out`.
error_code zlib_compress(std::string_view in, int level, std::string& out);

/// The same compression through one deflate stream kept across calls. deflateInit allocates and
/// clears about 256 KiB of state, which costs more than compressing a 4 KiB body, so a producer
/// keeps one of these and only resets it per message. Not shared between threads.
class zlib_deflater {
public:
    zlib_deflater();
    ~zlib_deflater();
    zlib_deflater(const zlib_deflater&) = delete;
    zlib_deflater& operator=(const zlib_deflater&) = delete;

    error_code compress(std::string_view in, int level, std::string& out);

private:
    struct stream;
    std::unique_ptr<stream> stream_;
};

/// Whether `level` is one `type` accepts: zlib -1..9 (-1 = zlib's default), zstd
/// ZSTD_minCLevel()..ZSTD_maxCLevel() (0 = zstd's default); LZ4 takes any level and ignores it,
/// as Java's Lz4Compressor does (lz4-java's fast compressor has none).
bool valid_compress_level(compression_type type, int level) noexcept;
/// The accepted levels in words, for diagnostics ("-1..9").
std::string compress_level_range(compression_type type);

/// LZ4 frames as Java's Lz4Compressor writes them (see body_compressor), through one context
/// kept across calls. Not shared between threads.
class lz4_compressor {
public:
    lz4_compressor();
    ~lz4_compressor();
    lz4_compressor(const lz4_compressor&) = delete;
    lz4_compressor& operator=(const lz4_compressor&) = delete;

    error_code compress(std::string_view in, std::string& out);

private:
    struct context;
    std::unique_ptr<context> context_;
};

/// zstd frames as Java's ZstdCompressor writes them (see body_compressor), through one context
/// kept across calls. Not shared between threads.
class zstd_compressor {
public:
    zstd_compressor();
    ~zstd_compressor();
    zstd_compressor(const zstd_compressor&) = delete;
    zstd_compressor& operator=(const zstd_compressor&) = delete;

    error_code compress(std::string_view in, int level, std::string& out);

private:
    struct context;
    std::unique_ptr<context> context_;
};

/// Compresses bodies exactly as Java's Compressor of each type does, byte for byte (checked
/// against rocketmq-common 4.9.8 with lz4-java 1.8.0 and zstd-jni 1.5.2-2):
/// - ZLIB: Deflater(level) into DeflaterOutputStream, i.e. the zlib container;
/// - LZ4: LZ4FrameOutputStream's defaults: an LZ4 frame of independent 4 MiB blocks, no content
///   size, no checksums, blocks by LZ4's fast (acceleration 1) compressor; no level;
/// - ZSTD: ZstdOutputStream(level): write, flush, close — a frame without content size or
///   checksum whose data ends with a flush and an empty last block.
/// Each context is made on first use and kept. Not shared between threads.
class body_compressor {
public:
    /// Replaces `out`. client_errc::invalid_argument for a level valid_compress_level refuses,
    /// compression_failed when the library fails.
    error_code compress(compression_type type, std::string_view in, int level, std::string& out);

private:
    zlib_deflater zlib_;
    lz4_compressor lz4_;
    zstd_compressor zstd_;
};

/// client_errc::compression_failed, with `text` (static) in `why` if given.
inline error_code compression_failed(std::string_view text, std::string_view* why) noexcept
{
    if (why) *why = text;
    return make_error_code(client_errc::compression_failed);
}

/// The sysFlag bits of a body compressed with `type`: COMPRESSED plus the type (0x101, 0x201, 0x301).
constexpr std::int32_t compressed_sys_flag(compression_type type) noexcept
{
    return sys_flag::compressed | (static_cast<std::int32_t>(type) << 8);
}

/// The compression type a stored sysFlag names (0 and 3 = zlib); nullopt for 4..7, which no
/// client defines. Looks at the type bits only, not at COMPRESSED.
std::optional<compression_type> compression_of(std::int32_t sys_flag) noexcept;

/// Inflate a zlib stream into `out` (replaced). client_errc::compression_failed when the data
/// is not a complete zlib stream or inflates to more than `max_out` bytes; `why` (if given) is
/// then set to a static text saying which.
error_code zlib_inflate(std::string_view in, std::size_t max_out, std::string& out, std::string_view* why = nullptr);
/// The same for one or more LZ4 frames (what Java's LZ4FrameInputStream reads).
error_code lz4_frame_decompress(std::string_view in, std::size_t max_out, std::string& out,
                                std::string_view* why = nullptr);
/// The same for one or more zstd frames (what Java's ZstdInputStream reads).
error_code zstd_decompress(std::string_view in, std::size_t max_out, std::string& out, std::string_view* why = nullptr);

/// Inflate `body` according to a stored sysFlag's compression type bits. Errors as above, and
/// compression_failed for an unknown type.
error_code inflate_body(std::string_view body, std::int32_t sys_flag, std::size_t max_out, std::string& out,
                        std::string_view* why = nullptr);

/// CRC-32 (zlib's) of the body with the top bit cleared, as the broker stores it.
std::int32_t body_crc(std::string_view body) noexcept;

/// Java String.hashCode of the UTF-16 form of `utf8` (malformed UTF-8 counts as U+FFFD,
/// as Java's decoder replaces it).
std::int32_t java_string_hash(std::string_view utf8) noexcept;

}  // namespace corocket::detail
