// The embedded broker's message store (sans-I/O apart from the optional commit-log file): an
// append-only commit log of encoded stored records, consume queues (queue offset → record,
// tag hash code, store time) and a key index, with the put/get rules of 4.9.8's
// DefaultMessageStore / CommitLog.
#pragma once

#include "message/codec.hpp"
#include "testing/java_properties.hpp"

#include <corocket/message.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corocket::testing::detail {

inline constexpr std::string_view schedule_topic = "SCHEDULE_TOPIC_XXXX";
inline constexpr std::string_view timer_topic = "rmq_sys_wheel_timer";
inline constexpr std::string_view half_topic = "RMQ_SYS_TRANS_HALF_TOPIC";
inline constexpr std::string_view op_half_topic = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
inline constexpr std::string_view check_max_topic = "TRANS_CHECK_MAX_TIME_TOPIC";

/// MessageExtBrokerInner: a message on its way into the store. `properties_string` is what gets
/// written; `properties` is the live map (the two differ on purpose in several Java paths).
struct inner_message {
    std::string topic;
    std::int32_t queue_id = 0;
    std::string body;
    std::int32_t flag = 0;
    java_properties properties;
    std::string properties_string;
    std::int32_t sys_flag = 0;
    std::int64_t born_timestamp = 0;
    host_address born_host;
    host_address store_host;
    std::int32_t reconsume_times = 0;
    std::int64_t prepared_transaction_offset = 0;

    /// MessageExt.getDelayTimeLevel: the DELAY property, 0 when absent or unparsable.
    int delay_level() const noexcept;
    /// setPropertiesString(messageProperties2String(properties)).
    void sync_properties_string() { properties_string = properties.to_string(); }
};

/// PutMessageStatus; service_not_available is what any put on a slave gets.
enum class put_status { ok, message_illegal, properties_size_exceeded, timer_illegal, service_not_available };

struct put_result {
    /// A failed put with this status.
    static put_result failure(put_status s)
    {
        put_result r;
        r.status = s;
        return r;
    }

    put_status status = put_status::ok;
    std::int64_t phys_offset = 0;
    std::int64_t queue_offset = 0;  ///< logical offset in the queue actually written
    std::int64_t store_timestamp = 0;
    std::int32_t size = 0;
    std::string msg_id;             ///< offset message id
    std::string topic;              ///< topic actually written (schedule/timer topics included)
    std::int32_t queue_id = 0;
};

/// GetMessageStatus of the Java store.
enum class get_status {
    found,
    no_matched_message,
    message_was_removing,
    offset_found_null,
    offset_overflow_badly,
    offset_overflow_one,
    offset_too_small,
    no_matched_logic_queue,
    no_message_in_queue,
};
const char* to_string(get_status) noexcept;

struct get_result {
    get_status status = get_status::no_message_in_queue;
    std::int64_t next_begin_offset = 0;
    std::int64_t min_offset = 0;
    std::int64_t max_offset = 0;
    bool suggest_pulling_from_slave = false;
    std::string body;  ///< the records found, back to back
    int message_count = 0;
};

/// One consume-queue entry.
struct cq_entry {
    std::int64_t phys_offset = 0;
    std::int32_t size = 0;
    std::int64_t tags_code = 0;
    std::int64_t store_timestamp = 0;
};

struct store_config {
    host_address store_host;
    std::string cluster_name;
    std::size_t max_message_size = 4 * 1024 * 1024;
    std::uint64_t memory_bytes = 0;
    std::vector<std::int64_t> delay_level_ms;  ///< index 0 = level 1
    bool timer_wheel_enable = false;
    std::int64_t timer_precision_ms = 1000;
    std::int64_t timer_max_delay_sec = 259200;
    std::string commit_log_path;  ///< empty = memory only
};

/// Filter used by get(): consume-queue stage (tag hash code) then commit-log stage (properties).
struct message_filter {
    std::function<bool(std::int64_t tags_code)> by_tags_code;
    std::function<bool(std::string_view properties_string)> by_properties;
};

class message_store {
public:
    explicit message_store(store_config cfg);
    ~message_store();
    message_store(const message_store&) = delete;
    message_store& operator=(const message_store&) = delete;

    /// Replays the commit log file (if configured) to rebuild queues and index. Returns false if
    /// the file exists but is corrupt (the intact prefix is kept).
    bool load();

    /// CommitLog.putMessage: the delay-level (and, if enabled, timer) transformation, then the
    /// append and dispatch. `now_ms` becomes the store timestamp.
    put_result put(inner_message msg, std::int64_t now_ms);

    /// Appends an already transformed record as is (no delay handling): batches use it.
    put_result append(inner_message msg, std::int64_t now_ms);

    /// The raw record starting at `phys_offset`, or nullptr if no record starts there.
    const std::string* record_at(std::int64_t phys_offset) const noexcept;
    /// Decoded record at `phys_offset`.
    bool decode_at(std::int64_t phys_offset, corocket::detail::stored_record& out) const;

    /// DefaultMessageStore.getMessage.
    get_result get(std::string_view topic, int queue_id, std::int64_t offset, int max_msg_nums,
                   const message_filter& filter) const;

    std::int64_t max_offset(std::string_view topic, int queue_id) const noexcept;
    std::int64_t min_offset(std::string_view topic, int queue_id) const noexcept;
    /// ConsumeQueue.getOffsetInQueueByTime (nearest store time).
    std::int64_t offset_by_time(std::string_view topic, int queue_id, std::int64_t timestamp) const;
    /// Store time of the first message, -1 for an empty queue.
    std::int64_t earliest_store_time(std::string_view topic, int queue_id) const;
    /// Whether the record at queue offset `offset` is "on disk" (outside memory_bytes).
    bool in_disk_by_consume_offset(std::string_view topic, int queue_id, std::int64_t offset) const;
    /// The consume queue, or nullptr.
    const std::vector<cq_entry>* queue(std::string_view topic, int queue_id) const noexcept;

    /// Index lookup: physical offsets (ascending) of messages of `topic` with this key or
    /// UNIQ_KEY, stored within [begin, end], at most max_num.
    std::vector<std::int64_t> query(std::string_view topic, std::string_view key, int max_num, std::int64_t begin,
                                    std::int64_t end) const;
    std::int64_t index_last_update_timestamp() const noexcept { return index_last_ts_; }
    std::int64_t index_last_update_phyoffset() const noexcept { return index_last_phy_; }

    std::int64_t max_phys_offset() const noexcept { return next_phys_; }
    const store_config& config() const noexcept { return cfg_; }
    /// Delivery time of a delay level for a message stored at `store_ts`.
    std::int64_t deliver_timestamp(int level, std::int64_t store_ts) const noexcept;
    int max_delay_level() const noexcept { return static_cast<int>(cfg_.delay_level_ms.size()); }

private:
    using queue_key = std::pair<std::string, int>;
    /// Orders (topic, queue id) keys and lets (string_view, int) look them up.
    struct queue_less {
        using is_transparent = void;
        template <class A, class B>
        bool operator()(const A& a, const B& b) const noexcept
        {
            const std::string_view at(a.first), bt(b.first);
            return at < bt || (at == bt && a.second < b.second);
        }
    };

    put_result write(inner_message& msg, std::int64_t now_ms);
    put_result transform_timer(inner_message& msg, std::int64_t now_ms) const;
    void dispatch(std::string bytes, std::int64_t phys, bool persist);
    std::int64_t memory_limit() const noexcept;
    std::vector<cq_entry>& queue_mut(std::string_view topic, int queue_id);

    store_config cfg_;
    std::vector<std::string> records_;
    std::map<std::int64_t, std::size_t> by_phys_;  // physical offset → index in records_
    std::map<queue_key, std::vector<cq_entry>, queue_less> queues_;
    std::map<std::string, std::vector<std::int64_t>, std::less<>> index_;  // "topic#key" → phys offsets
    std::int64_t next_phys_ = 0;
    std::int64_t index_last_ts_ = 0;
    std::int64_t index_last_phy_ = 0;
    std::FILE* file_ = nullptr;
};

/// The TAGS hash code a consume queue stores for these properties (0 without TAGS).
std::int64_t tags_code_of(const java_properties& props) noexcept;

}  // namespace corocket::testing::detail
