// Messages: what the application sends (`message`, owning) and what it receives
// (`message_view`, borrowed from a `message_batch` that owns the raw bytes of a pull,
// query or view response body). Wire encodings live in lib/message/ (corocket::detail).
#pragma once

#include <corocket/error.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corocket {

/// Well-known message property names (protocol.md §4.2), spelled as on the wire.
namespace property_name {
inline constexpr std::string_view keys = "KEYS";
inline constexpr std::string_view tags = "TAGS";
inline constexpr std::string_view wait = "WAIT";
inline constexpr std::string_view delay = "DELAY";
inline constexpr std::string_view retry_topic = "RETRY_TOPIC";
inline constexpr std::string_view real_topic = "REAL_TOPIC";
inline constexpr std::string_view real_qid = "REAL_QID";
inline constexpr std::string_view tran_msg = "TRAN_MSG";
inline constexpr std::string_view pgroup = "PGROUP";
inline constexpr std::string_view min_offset = "MIN_OFFSET";
inline constexpr std::string_view max_offset = "MAX_OFFSET";
inline constexpr std::string_view buyer_id = "BUYER_ID";
inline constexpr std::string_view origin_message_id = "ORIGIN_MESSAGE_ID";
inline constexpr std::string_view transfer_flag = "TRANSFER_FLAG";
inline constexpr std::string_view correction_flag = "CORRECTION_FLAG";
inline constexpr std::string_view mq2_flag = "MQ2_FLAG";
inline constexpr std::string_view reconsume_time = "RECONSUME_TIME";
inline constexpr std::string_view msg_region = "MSG_REGION";
inline constexpr std::string_view trace_on = "TRACE_ON";
inline constexpr std::string_view uniq_key = "UNIQ_KEY";
inline constexpr std::string_view extend_uniq_info = "EXTEND_UNIQ_INFO";
inline constexpr std::string_view max_reconsume_times = "MAX_RECONSUME_TIMES";
inline constexpr std::string_view consume_start_time = "CONSUME_START_TIME";
inline constexpr std::string_view inner_num = "INNER_NUM";
inline constexpr std::string_view inner_base = "INNER_BASE";
inline constexpr std::string_view dup_info = "DUP_INFO";
inline constexpr std::string_view check_immunity_time = "CHECK_IMMUNITY_TIME_IN_SECONDS";
inline constexpr std::string_view tran_prepared_queue_offset = "TRAN_PREPARED_QUEUE_OFFSET";
inline constexpr std::string_view transaction_id = "__transactionId__";
inline constexpr std::string_view transaction_check_times = "TRANSACTION_CHECK_TIMES";
inline constexpr std::string_view instance_id = "INSTANCE_ID";
inline constexpr std::string_view correlation_id = "CORRELATION_ID";
inline constexpr std::string_view reply_to_client = "REPLY_TO_CLIENT";
inline constexpr std::string_view ttl = "TTL";
inline constexpr std::string_view arrive_time = "ARRIVE_TIME";
inline constexpr std::string_view push_reply_time = "PUSH_REPLY_TIME";
inline constexpr std::string_view cluster = "CLUSTER";
inline constexpr std::string_view msg_type = "MSG_TYPE";
inline constexpr std::string_view pop_ck = "POP_CK";
inline constexpr std::string_view pop_ck_offset = "POP_CK_OFFSET";
inline constexpr std::string_view first_pop_time = "1ST_POP_TIME";
inline constexpr std::string_view sharding_key = "__SHARDINGKEY";
inline constexpr std::string_view forward_queue_id = "PROPERTY_FORWARD_QUEUE_ID";
inline constexpr std::string_view redirect = "REDIRECT";
inline constexpr std::string_view inner_multi_dispatch = "INNER_MULTI_DISPATCH";
inline constexpr std::string_view inner_multi_queue_offset = "INNER_MULTI_QUEUE_OFFSET";
inline constexpr std::string_view trace_context = "TRACE_CONTEXT";
inline constexpr std::string_view timer_deliver_ms = "TIMER_DELIVER_MS";
inline constexpr std::string_view timer_delay_sec = "TIMER_DELAY_SEC";
inline constexpr std::string_view timer_delay_ms = "TIMER_DELAY_MS";
inline constexpr std::string_view timer_enqueue_ms = "TIMER_ENQUEUE_MS";
inline constexpr std::string_view timer_dequeue_ms = "TIMER_DEQUEUE_MS";
inline constexpr std::string_view timer_roll_times = "TIMER_ROLL_TIMES";
inline constexpr std::string_view timer_out_ms = "TIMER_OUT_MS";
inline constexpr std::string_view timer_del_uniqkey = "TIMER_DEL_UNIQKEY";
inline constexpr std::string_view timer_delay_level = "TIMER_DELAY_LEVEL";
inline constexpr std::string_view born_host = "__BORNHOST";
inline constexpr std::string_view born_timestamp = "BORN_TIMESTAMP";
inline constexpr std::string_view crc32 = "__CRC32#";
inline constexpr std::string_view dlq_origin_topic = "DLQ_ORIGIN_TOPIC";
inline constexpr std::string_view dlq_origin_message_id = "DLQ_ORIGIN_MESSAGE_ID";
inline constexpr std::string_view start_deliver_time = "__STARTDELIVERTIME";
/// Prefix of client-local properties that are never sent.
inline constexpr std::string_view transient_prefix = "__RMQ.TRANSIENT.";
}  // namespace property_name

/// Whether `name` is reserved by RocketMQ (the ✓ entries of protocol.md §4.2): such names
/// may not be used as user properties.
bool is_reserved_property(std::string_view name) noexcept;

/// Message properties, ordered by name; heterogeneous lookup by string_view.
using properties = std::map<std::string, std::string, std::less<>>;

/// Message sysFlag bits (protocol.md §4.3.1).
namespace sys_flag {
inline constexpr std::int32_t compressed = 0x001;
inline constexpr std::int32_t multi_tags = 0x002;
inline constexpr std::int32_t transaction_mask = 0x00C;
inline constexpr std::int32_t transaction_not_type = 0x000;
inline constexpr std::int32_t transaction_prepared = 0x004;
inline constexpr std::int32_t transaction_commit = 0x008;
inline constexpr std::int32_t transaction_rollback = 0x00C;
inline constexpr std::int32_t born_host_v6 = 0x010;
inline constexpr std::int32_t store_host_v6 = 0x020;
inline constexpr std::int32_t need_unwrap = 0x040;
inline constexpr std::int32_t inner_batch = 0x080;
inline constexpr std::int32_t compression_type_mask = 0x700;
inline constexpr std::int32_t compression_zlib = 0x300;  ///< type 3; type 0 also means zlib
inline constexpr std::int32_t compression_lz4 = 0x100;
inline constexpr std::int32_t compression_zstd = 0x200;
}  // namespace sys_flag

/// Body compression algorithms: Java's CompressionType, whose value sysFlag carries in bits
/// 8–10 next to the COMPRESSED bit (protocol.md §4.3.1, §4.6). A stored type 0 means zlib
/// (older clients set no type).
enum class compression_type : std::int32_t {
    lz4 = 1,   ///< LZ4 frame format (lz4-java's LZ4FrameOutputStream: 4 MiB independent blocks)
    zstd = 2,  ///< a zstd frame (zstd-jni's ZstdOutputStream)
    zlib = 3,  ///< the zlib container (RFC 1950), what every client reads
};

/// "LZ4", "ZSTD", "ZLIB" (Java's names).
std::string_view to_string(compression_type t) noexcept;

/// A message to send (owning). Keys, tags, delay etc. are stored as properties; the
/// accessors are conveniences over `properties()`.
class message {
public:
    /// An empty message with `WAIT=true` (as Java's Message constructor does).
    message();
    message(std::string topic, std::string body);

    const std::string& topic() const noexcept { return topic_; }
    void set_topic(std::string topic) { topic_ = std::move(topic); }

    const std::string& body() const noexcept { return body_; }
    void set_body(std::string body) { body_ = std::move(body); }

    /// The application flag (send header `flag`).
    std::int32_t flag() const noexcept { return flag_; }
    void set_flag(std::int32_t flag) noexcept { flag_ = flag; }

    /// The tag (`TAGS`), empty when none. Setting an empty tag removes it.
    std::string_view tags() const noexcept;
    void set_tags(std::string tags);

    /// The business keys (`KEYS`, space-separated on the wire); empty parts are dropped.
    std::vector<std::string> keys() const;
    /// Replace the keys; an empty list removes `KEYS`.
    void set_keys(const std::vector<std::string>& keys);
    /// Replace the keys with a single key.
    void set_key(std::string key);

    /// Delay level (`DELAY`), 0 when absent or unparsable. Level <= 0 removes the property.
    int delay_level() const noexcept;
    void set_delay_level(int level);

    /// Absolute delivery time (`TIMER_DELIVER_MS`, 5.x brokers), epoch ms; nullopt when absent.
    std::optional<std::int64_t> delivery_time_ms() const noexcept;
    void set_delivery_time(std::chrono::system_clock::time_point when);

    /// Sharding (FIFO) key (`__SHARDINGKEY`), empty when none. Empty removes it.
    std::string_view sharding_key() const noexcept;
    void set_sharding_key(std::string key);

    /// Whether the broker should wait for flush/replication before answering (`WAIT`).
    bool wait_store_ok() const noexcept;
    void set_wait_store_ok(bool wait);

    /// Set a user property. No validation here: see detail::validate_message (run by the
    /// producer), which refuses reserved names and separator bytes.
    void set_property(std::string name, std::string value);
    std::optional<std::string_view> property(std::string_view name) const noexcept;
    void erase_property(std::string_view name);

    const corocket::properties& properties() const& noexcept { return properties_; }
    /// Raw access for the library (system properties such as UNIQ_KEY); bypasses the
    /// reserved-name bookkeeping of set_property().
    corocket::properties& properties_mut() noexcept { return properties_; }

    /// The first reserved name passed to set_property(), empty if none (used by validation).
    const std::string& reserved_user_property() const noexcept { return reserved_user_property_; }

private:
    std::string topic_;
    std::string body_;
    std::int32_t flag_ = 0;
    corocket::properties properties_;
    std::string reserved_user_property_;
};

/// A host address as it appears in stored records and message ids.
struct host_address {
    std::array<std::uint8_t, 16> ip{};  ///< IPv4 uses ip[0..3]
    bool v6 = false;
    std::uint16_t port = 0;

    /// The address bytes actually used: 4 (IPv4) or 16 (IPv6).
    std::span<const std::uint8_t> ip_bytes() const noexcept
    {
        return {ip.data(), v6 ? std::size_t{16} : std::size_t{4}};
    }
    /// "a.b.c.d" or the RFC 5952 IPv6 text (no brackets, no port).
    std::string ip_string() const;
    /// "a.b.c.d:port" or "[v6]:port".
    std::string to_string() const;
    /// Parse "a.b.c.d:port" or "[v6]:port"; nullopt when malformed.
    static std::optional<host_address> parse(std::string_view text);
    /// An address from 4 or 16 raw bytes; nullopt for any other size.
    static std::optional<host_address> from_bytes(std::span<const std::uint8_t> bytes, std::uint16_t port);

    friend bool operator==(const host_address&, const host_address&) = default;
};

class message_batch;

/// One received/stored message, borrowed: every string_view points into the message_batch
/// it came from and is valid while that batch lives (moving the batch keeps them valid).
class message_view {
public:
    using property_list = std::vector<std::pair<std::string_view, std::string_view>>;

    std::string_view topic() const noexcept { return topic_; }
    /// The body, already inflated if it was stored compressed.
    std::string_view body() const noexcept { return body_; }
    std::int32_t flag() const noexcept { return flag_; }
    std::int32_t queue_id() const noexcept { return queue_id_; }
    std::int64_t queue_offset() const noexcept { return queue_offset_; }
    std::int64_t commit_log_offset() const noexcept { return commit_log_offset_; }
    /// sysFlag with the COMPRESSED bit cleared once the body was inflated.
    std::int32_t sys_flag() const noexcept { return sys_flag_; }
    /// sysFlag exactly as stored.
    std::int32_t stored_sys_flag() const noexcept { return stored_sys_flag_; }
    std::int64_t born_timestamp() const noexcept { return born_timestamp_; }
    const host_address& born_host() const noexcept { return born_host_; }
    std::int64_t store_timestamp() const noexcept { return store_timestamp_; }
    const host_address& store_host() const noexcept { return store_host_; }
    std::int32_t reconsume_times() const noexcept { return reconsume_times_; }
    std::int64_t prepared_transaction_offset() const noexcept { return prepared_transaction_offset_; }
    std::int32_t body_crc() const noexcept { return body_crc_; }
    /// TOTALSIZE of the stored record.
    std::int32_t store_size() const noexcept { return static_cast<std::int32_t>(raw_record_.size()); }
    /// The whole stored record, byte for byte (body still compressed if it was).
    std::string_view raw_record() const noexcept { return raw_record_; }
    /// The properties string as stored.
    std::string_view properties_string() const noexcept { return properties_string_; }

    std::optional<std::string_view> property(std::string_view name) const noexcept;
    /// Parsed properties in wire order; a later duplicate overrides an earlier one in property().
    const property_list& properties() const noexcept { return properties_; }
    /// `TAGS`, empty when none.
    std::string_view tags() const noexcept;
    /// `KEYS` split on spaces (empty parts dropped).
    std::vector<std::string_view> keys() const;
    /// The id applications see: `UNIQ_KEY` if present, else the offset message id.
    std::string_view msg_id() const noexcept;
    /// The offset message id computed from the store host and the commit-log offset (§5.2).
    const std::string& offset_msg_id() const noexcept { return offset_msg_id_; }

    /// An owning copy (topic, body, flag, properties) that can be sent again.
    message to_message() const;

    /// Whether the record could not be decoded: its compressed body does not inflate (corrupt,
    /// or a compression type this client does not know), or its fields are inconsistent. Only
    /// message_batch::decode_lenient keeps such views. Then body() is the body as stored (still
    /// compressed; empty when the fields could not be read), sys_flag() keeps the COMPRESSED bit,
    /// and of a malformed record only the fixed fields up to the born timestamp (queue id, flag,
    /// offsets, sysFlag, body CRC) and raw_record() are known.
    ///
    /// The consumers (push, lite pull, the pull API, CONSUME_MESSAGE_DIRECTLY) never hand such a
    /// view to the application. As Java's MessageDecoder drops a record it cannot decode, they
    /// skip it: it is logged (warn: topic, queue, offset, msgId, cause), counted
    /// (pull_result::undecodable, subscription_stats::undecodable), and the queue's offset moves
    /// past it, so it is committed. (Java also drops every later record of the same pull; the
    /// good ones are delivered here.) CONSUME_MESSAGE_DIRECTLY answers SYSTEM_ERROR with the cause.
    bool undecodable() const noexcept { return static_cast<bool>(decode_error_); }
    /// client_errc::compression_failed (body) or bad_message (fields); empty when decodable.
    error_code decode_error() const noexcept { return decode_error_; }
    /// The cause in words, for logs ("LZ4 body does not inflate: ERROR_frameType_unknown",
    /// "unknown compression type 4"); empty when decodable.
    const std::string& decode_failure() const noexcept { return decode_failure_; }

    // The consumer layer adjusts these after a pull (queue id/broker from the request,
    // offsetDelta, retry topic presentation, namespace stripping): the new topic must
    // outlive the view (a view into the same batch, or a string with a longer lifetime).
    void set_topic(std::string_view topic) noexcept { topic_ = topic; }
    void set_queue_id(std::int32_t queue_id) noexcept { queue_id_ = queue_id; }
    void set_queue_offset(std::int64_t offset) noexcept { queue_offset_ = offset; }

    /// Name of the broker the message was pulled from (set by the consumer layer).
    std::string broker_name;

private:
    friend class message_batch;

    std::string_view raw_record_;
    std::string_view topic_;
    std::string_view body_;
    std::string_view properties_string_;
    std::int32_t flag_ = 0;
    std::int32_t queue_id_ = 0;
    std::int64_t queue_offset_ = 0;
    std::int64_t commit_log_offset_ = 0;
    std::int32_t sys_flag_ = 0;
    std::int32_t stored_sys_flag_ = 0;
    std::int64_t born_timestamp_ = 0;
    host_address born_host_;
    std::int64_t store_timestamp_ = 0;
    host_address store_host_;
    std::int32_t reconsume_times_ = 0;
    std::int64_t prepared_transaction_offset_ = 0;
    std::int32_t body_crc_ = 0;
    property_list properties_;
    std::string offset_msg_id_;
    error_code decode_error_;
    std::string decode_failure_;
};

/// Owns the raw bytes of a pull/query/view/check-back body (N stored records back to back)
/// and the inflated bodies of compressed records. Move-only.
class message_batch {
public:
    /// Largest inflated body accepted (protects against zip bombs): 64 MiB.
    static constexpr std::size_t max_inflated_body = std::size_t{64} << 20;

    message_batch() = default;
    message_batch(message_batch&&) noexcept = default;
    message_batch& operator=(message_batch&&) noexcept = default;
    message_batch(const message_batch&) = delete;
    message_batch& operator=(const message_batch&) = delete;
    ~message_batch() = default;

    /// Decode every record of `body_bytes` (protocol.md §4.4.3), all or nothing. On error `out`
    /// is left empty and the error is client_errc::bad_message (malformed record, unknown magic)
    /// or client_errc::compression_failed (bad or unsupported compressed body).
    static error_code decode(std::string body_bytes, message_batch& out);

    /// Decode for consumers: each record on its own, so one bad record costs only itself. A
    /// record that cannot be decoded stays in the batch as an undecodable() view. Bytes that
    /// cannot be split into records at all (a TOTALSIZE below the minimum or past the end) end
    /// the batch: nothing after them can be located; unparsed_bytes() counts them.
    static message_batch decode_lenient(std::string body_bytes);

    /// Bytes at the end of the body that decode_lenient could not split into records.
    std::size_t unparsed_bytes() const noexcept { return unparsed_bytes_; }

    std::span<const message_view> messages() const noexcept { return messages_; }
    /// Mutable access for the consumer layer (broker_name, queue id, topic adjustments).
    std::span<message_view> messages_mut() noexcept { return messages_; }
    std::size_t size() const noexcept { return messages_.size(); }
    bool empty() const noexcept { return messages_.empty(); }

private:
    message_view decode_one(std::string_view record);
    /// Replaces the view's body with its inflated form, or marks it undecodable.
    void inflate(message_view& view);

    // Held behind pointers so that the views stay valid when the batch is moved.
    std::unique_ptr<std::string> raw_;
    std::vector<std::unique_ptr<std::string>> inflated_;
    std::vector<message_view> messages_;
    std::size_t unparsed_bytes_ = 0;
};

}  // namespace corocket
