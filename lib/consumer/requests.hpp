// Sans-I/O codecs of the consumer's requests and responses (protocol.md §3.4–§3.9, §3.11, §6.4,
// §6.5): build commands, read answers. No sockets, timers or executors here.
#pragma once

#include <corocket/error.hpp>
#include <corocket/filter.hpp>
#include <corocket/logger.hpp>
#include <corocket/pull_consumer.hpp>
#include <corocket/remoting/command.hpp>
#include <corocket/route.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::detail {

/// Pull sysFlag bits (§4.3.2).
namespace pull_flag {
inline constexpr int commit_offset = 0x01;
inline constexpr int suspend = 0x02;
inline constexpr int subscription = 0x04;
inline constexpr int class_filter = 0x08;
inline constexpr int lite_pull = 0x10;
}  // namespace pull_flag

/// Everything a PULL_MESSAGE header carries; names as on the wire (namespaced).
struct pull_request_fields {
    std::string group;
    message_queue queue;
    std::int64_t queue_offset = 0;
    int max_messages = 32;
    int sys_flag = 0;
    std::int64_t commit_offset = 0;
    std::int64_t suspend_timeout_ms = 0;
    std::string subscription = "*";
    std::string expression_type = "TAG";
    std::int64_t sub_version = 0;
    int max_bytes = 0;  ///< 0 = not sent
    bool lite_code = false;
};

/// PULL_MESSAGE (11), or LITE_PULL_MESSAGE (361) when lite_code.
remoting::command make_pull_request(const pull_request_fields& f);

/// Reads a pull answer into `out` (status, offsets, body decoded by message_batch::decode_lenient;
/// every message kept, undecodable ones too). Codes 0/19/20/21 are results; any other code is
/// returned as a broker_category() error. The body is moved out of `resp`.
error_code parse_pull_response(remoting::command& resp, pull_result& out);

/// Logs (warn) what a consumer skips of `batch` because it cannot be decoded: each undecodable
/// record with the queue (topic, broker, id), its offset, msgId and cause, and the bytes that
/// could not be split into records (from the offset after the last record; the pull began at
/// `pulled_offset`). Call before present_pulled, which drops those records.
void warn_undecodable(const logger& log, const message_queue& user_queue, std::int64_t pulled_offset,
                      const message_batch& batch);

/// Java's post-processing of pulled messages (§4.4.3 step 7): broker name, queue id and
/// offsetDelta from the request; retry-topic messages presented under their RETRY_TOPIC; the
/// namespace stripped; messages whose tag is not subscribed dropped (`filter` as on the wire).
/// Undecodable records are dropped too and counted in r.undecodable (unparsed bytes count once).
/// `user_queue` is the pulled queue without namespace.
void present_pulled(pull_result& r, const message_queue& user_queue, const subscription_data& filter,
                    std::string_view name_space, std::string_view retry_topic, std::int64_t offset_delta);

/// `topic` without the namespace, as a view into `topic` when the namespace is a plain prefix.
std::string_view strip_namespace_view(std::string_view name_space, std::string_view topic) noexcept;

/// QUERY_CONSUMER_OFFSET (14).
remoting::command make_query_offset_request(std::string_view group, const message_queue& wire_queue);
/// UPDATE_CONSUMER_OFFSET (15).
remoting::command make_update_offset_request(std::string_view group, const message_queue& wire_queue,
                                             std::int64_t offset);
/// SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX_OFFSET (30), GET_MIN_OFFSET (31).
remoting::command make_queue_offset_request(int code, const message_queue& wire_queue, std::int64_t timestamp_ms = 0);

/// The `offset` of an offset answer. For QUERY_CONSUMER_OFFSET, QUERY_NOT_FOUND gives -1.
/// Other codes → broker error; a missing/garbled `offset` → client_errc::unexpected_response.
error_code parse_offset_response(const remoting::command& resp, bool not_found_is_minus_one, std::int64_t& out);

/// GET_CONSUMER_LIST_BY_GROUP (38) and its body `{"consumerIdList":[...]}` (§6.5).
remoting::command make_consumer_list_request(std::string_view group);
error_code parse_consumer_list(std::string_view body, std::vector<std::string>& out);

/// CONSUMER_SEND_MSG_BACK (36) (§3.9).
struct send_back_fields {
    std::int64_t commit_log_offset = 0;
    std::string group;
    int delay_level = 0;
    std::string origin_msg_id;
    std::string origin_topic;
    int max_reconsume_times = 16;
    std::string broker_name;
};
remoting::command make_send_back_request(const send_back_fields& f);

/// The fallback of a failed send-back (§7.9): a SEND_MESSAGE_V2 of a copy of `m` to the group's
/// retry topic (queue `queue_id`), with every original property, ORIGIN_MESSAGE_ID (kept if
/// set), RETRY_TOPIC = the topic as consumed (`wire_topic`), DELAY = 3 + reconsume times (none
/// for a dead letter), no TRAN_MSG, and the reconsume count and its maximum in header fields j
/// and l.
struct retry_resend_fields {
    std::string_view wire_retry_topic;
    std::string_view wire_topic;
    int queue_id = 0;
    int reconsume_times = 0;  ///< what the copy carries (the broker moves it to the DLQ at the max)
    int max_reconsume_times = 16;
    std::int64_t born_timestamp_ms = 0;
    /// The broker diverts the copy to %DLQ% (orderly: the count reached the maximum): no DELAY.
    /// Brokers mean to store a dead letter at once (4.9.7 clears its level, 5.x sets it to -1),
    /// but 4.9.7 then copies the request's properties over it, so a DELAY sent along parks the
    /// copy in SCHEDULE_TOPIC_XXXX for that level (level 5: a minute) before the DLQ has it.
    bool dead_letter = false;
};
remoting::command make_retry_resend_request(const message_view& m, const retry_resend_fields& f);

/// LOCK_BATCH_MQ (41) / UNLOCK_BATCH_MQ (42) bodies (§6.4) and the lock answer.
std::string lock_batch_body(std::string_view group, std::string_view client_id,
                            const std::vector<message_queue>& wire_queues);
error_code parse_lock_batch_response(std::string_view body, std::vector<message_queue>& locked);

/// A MessageQueue JSON object ({"brokerName":..,"queueId":..,"topic":..}) read back.
error_code parse_message_queue_json(std::string_view json, message_queue& out);

}  // namespace corocket::detail
