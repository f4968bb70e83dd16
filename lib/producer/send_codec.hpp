// The producer's sans-I/O core: preparing messages for the wire (validation, UNIQ_KEY,
// namespace, compression, sysFlag, batch encoding and splitting), building SEND_MESSAGE /
// SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE / END_TRANSACTION requests, reading send responses and
// CHECK_TRANSACTION_STATE requests, and the publish queues of a route (protocol.md §3.3, §3.10,
// §4.5, §4.6, §7.2–§7.4). Nothing here touches sockets, timers or executors.
#pragma once

#include <corocket/error.hpp>
#include <corocket/message.hpp>
#include <corocket/producer.hpp>
#include <corocket/remoting/command.hpp>
#include <corocket/route.hpp>
#include <corocket/send_result.hpp>
#include <corocket/transactional_producer.hpp>

#include "message/codec.hpp"
#include "message/ids.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::detail {

/// One request's worth of message, computed once and kept across retries.
struct prepared_send {
    std::string topic;       ///< as on the wire (namespaced)
    std::string body;        ///< compressed if sys_flag says so; a batch: the compact entries
    std::string properties;  ///< encoded properties string (§4.1)
    std::int32_t sys_flag = 0;
    std::int32_t flag = 0;
    std::int32_t reconsume_times = 0;
    std::optional<std::int32_t> max_reconsume_times;
    bool batch = false;
    /// UNIQ_KEY; for a batch the inner messages' ids joined by ','.
    std::string uniq_key;
    std::size_t first_index = 0;  ///< batches: index of the first message in the caller's list
    std::size_t message_count = 1;

    /// What this request holds in memory (the back-pressure unit).
    std::size_t wire_size() const noexcept { return body.size() + properties.size() + topic.size(); }
};

struct prepare_options {
    std::string_view name_space;
    std::size_t max_body_size = std::size_t{4} << 20;
    std::size_t compress_threshold = 4096;  ///< 0 = never
    int compress_level = 5;
    compression_type compression = compression_type::zlib;
    body_compressor* compressor = nullptr;  ///< reused across messages when set (one per producer)
};

inline prepare_options prepare_options_for(const producer_config& cfg, std::string_view name_space)
{
    return {name_space, cfg.max_message_size, cfg.compress_threshold, cfg.compress_level, cfg.compression};
}

/// client_errc::invalid_argument (`diag` says why) when the producer's compression level does
/// not suit its compression type (valid_compress_level).
error_code check_compression(const producer_config& cfg, diagnostics& diag);

/// Validates `msg` and fills `out`. Adds UNIQ_KEY (if absent) and INSTANCE_ID (with a namespace)
/// to `msg` itself, so the caller sees what was sent; the topic of `msg` stays unwrapped.
/// A body at or over the threshold is compressed with opts.compression, and sys_flag says so
/// as Java's does: COMPRESSED | type << 8 (0x301 zlib, seen in tests/wire/send_json.jsonl from
/// 4.9.8; 0x101 LZ4; 0x201 ZSTD). Java 4.x consumers before 4.9.8 only look at bit 0 and use zlib.
/// Errors: those of validate_message, compression_failed; `diag.client_message` names the problem.
error_code prepare_message(message& msg, const prepare_options& opts, uniq_id_generator& ids, prepared_send& out,
                           diagnostics& diag);

/// Validates a batch (same topic, same WAIT, no delay level, not a retry topic, each message
/// valid), gives each message a UNIQ_KEY, and encodes the compact entries (§4.5) into one or more
/// requests of at most `max_request_body` bytes each (a single larger entry forms its own
/// request). Errors: invalid_argument for an empty list or a rule broken (diag names the index).
error_code prepare_batch(std::span<message> msgs, const prepare_options& opts, std::size_t max_request_body,
                         uniq_id_generator& ids, std::vector<prepared_send>& out, diagnostics& diag);

/// Where one attempt goes.
struct send_target {
    std::string_view group;  ///< wire (namespaced) producer group
    std::string_view default_topic;
    int default_topic_queue_nums = 4;
    int queue_id = 0;
    std::string_view broker_name;
    std::int64_t born_timestamp_ms = 0;
};

/// SEND_MESSAGE (v1), SEND_MESSAGE_V2 (v2) or, for a batch, SEND_BATCH_MESSAGE (always the V2
/// keys, m=true). `body` is the request body (the caller copies or moves p.body in).
remoting::command make_send_request(const prepared_send& p, const send_target& target, send_header_version version,
                                    std::string body);

/// Reads a send response: codes 0/10/12/11 fill `out` (status, ids, queue, offset, transaction
/// id, region); any other code → broker_category() error with the remark in `diag`.
/// `user_topic` is the topic without namespace. client_errc::unexpected_response when a stored
/// response lacks `queueId` or `queueOffset`.
error_code parse_send_response(const remoting::command& resp, const prepared_send& p, std::string_view user_topic,
                               std::string_view broker_name, send_result& out, diagnostics& diag);

/// The publish queues of `route` for `topic` (§7.1).
std::vector<message_queue> publish_queues(const topic_route& route, std::string_view topic);

/// The publish queues for a topic the name server does not know, from the default topic's route
/// with every queue count clamped to min(default_queue_nums, readQueueNums) (§7.2 step 2).
std::vector<message_queue> default_topic_publish_queues(const topic_route& default_route, std::string_view topic,
                                                         int default_queue_nums);

/// Index chosen by Java's SelectMessageQueueByHash for `key` among `n` queues.
std::size_t hash_queue_index(std::string_view key, std::size_t n) noexcept;

/// commitOrRollback values of END_TRANSACTION (= the sysFlag transaction types).
std::int32_t commit_or_rollback(transaction_state s) noexcept;

struct end_transaction_args {
    std::string_view group;  ///< wire producer group
    std::int64_t tran_state_table_offset = 0;
    std::int64_t commit_log_offset = 0;
    transaction_state state = transaction_state::unknown;
    bool from_transaction_check = false;
    std::string_view msg_id;          ///< UNIQ_KEY
    std::string_view transaction_id;  ///< omitted when empty
    std::string_view topic;           ///< omitted when empty
    std::string_view broker_name;     ///< `bname`, omitted when empty
    std::string_view remark;          ///< omitted when empty
};

/// END_TRANSACTION (37); the caller sends it one-way.
remoting::command make_end_transaction_request(const end_transaction_args& args);

/// The header of a CHECK_TRANSACTION_STATE request (§3.15).
struct check_request {
    std::int64_t tran_state_table_offset = 0;
    std::int64_t commit_log_offset = 0;
    std::string msg_id;
    std::string transaction_id;
    std::string offset_msg_id;
    std::string topic;
    std::string broker_name;
};

/// client_errc::bad_header when tranStateTableOffset or commitLogOffset is missing or malformed.
error_code parse_check_request(const remoting::command& req, check_request& out);

}  // namespace corocket::detail
