// What a send completes with: the store status the broker reported, the two message ids, the
// queue and offset it landed on (protocol.md §3.3.3, §5.3).
#pragma once

#include <corocket/error.hpp>
#include <corocket/route.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corocket {

/// How the broker stored the message. Every value means "stored on the master": the last three
/// only say that a synchronous flush or replication did not finish in time (protocol.md §2.2).
enum class send_status {
    send_ok,              ///< SUCCESS (0)
    flush_disk_timeout,   ///< FLUSH_DISK_TIMEOUT (10)
    flush_slave_timeout,  ///< FLUSH_SLAVE_TIMEOUT (12)
    slave_not_available,  ///< SLAVE_NOT_AVAILABLE (11)
};

/// "SEND_OK", "FLUSH_DISK_TIMEOUT", "FLUSH_SLAVE_TIMEOUT", "SLAVE_NOT_AVAILABLE" (Java's names).
std::string_view to_string(send_status) noexcept;

/// One SEND_BATCH_MESSAGE request of a batch send (a batch larger than the request size limit
/// is split into several requests, in order).
struct batch_part {
    send_status status = send_status::send_ok;
    message_queue queue;          ///< topic without namespace
    std::int64_t queue_offset = 0;  ///< offset of the part's first message; the others follow
    std::size_t first_index = 0;  ///< index of the part's first message in the caller's list
    std::size_t count = 0;        ///< messages in the part
};

struct send_result {
    /// For a split batch: the worst status of its parts.
    send_status status = send_status::send_ok;
    /// The client unique id (UNIQ_KEY, Java's "msgId"); for a batch the ids of all messages,
    /// comma-separated, in the caller's order.
    std::string msg_id;
    /// The broker's offset message id (§5.2); for a batch the ids of all messages, comma-separated.
    std::string offset_msg_id;
    /// Where it was stored (topic without namespace). For a split batch: the first part's queue.
    message_queue queue;
    /// Offset in the consume queue (of the first message for a batch). For a delayed message this
    /// is the offset in SCHEDULE_TOPIC_XXXX, for a half message the offset in the half queue.
    std::int64_t queue_offset = 0;
    /// Transaction id: the broker's `transactionId` (5.x) or else the UNIQ_KEY.
    std::string transaction_id;
    /// Region id the broker reported (`MSG_REGION`), and whether it wants tracing (`TRACE_ON`).
    std::string region_id;
    bool trace_on = true;
    /// Batch sends only: one entry per SEND_BATCH_MESSAGE request. When a later part fails, the
    /// operation completes with that error and this lists the parts that were stored.
    std::vector<batch_part> batch_parts;
    /// What went wrong with failed attempts: the broker's remark of the last failure and what the
    /// client knows (why validation refused the message, which brokers were tried...).
    corocket::diagnostics diag;
};

}  // namespace corocket
