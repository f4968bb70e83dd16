// Client-side queue allocation strategies (protocol.md §7.7), bit-compatible with the Java
// consumer's so that corocket and Java consumers can share a group.
#pragma once

#include <corocket/route.hpp>

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace corocket {

/// Returns the queues `my_client_id` owns. `mq_all` and `cid_all` must be sorted (message_queue
/// order; byte order). Every strategy but allocate_by_config returns an empty list when
/// my_client_id is empty, either list is empty, or cid_all does not contain my_client_id.
using allocate_strategy = std::function<std::vector<message_queue>(
    std::string_view group, std::string_view my_client_id, const std::vector<message_queue>& mq_all,
    const std::vector<std::string>& cid_all)>;

/// "AVG" (Java's default): contiguous blocks; the first n mod c consumers get one more queue.
allocate_strategy allocate_averagely();

/// "AVG_BY_CIRCLE": round robin, queue k to consumer k mod c.
allocate_strategy allocate_averagely_by_circle();

/// "CONSISTENT_HASH": MD5 ring with `virtual_nodes` nodes per consumer (Java's default 10).
/// Throws std::invalid_argument if virtual_nodes < 0 (as Java's constructor does).
allocate_strategy allocate_consistent_hash(int virtual_nodes = 10);

/// "MACHINE_ROOM": only queues on brokers named "<idc>@<name>" with idc in `idcs`, spread as
/// AVG-like blocks with the remainder dealt out one by one.
allocate_strategy allocate_by_machine_room(std::set<std::string> idcs);

/// "MACHINE_ROOM_NEARBY": queues in my machine room are shared by the consumers of my room with
/// `inner`; queues in rooms without any consumer are shared by all consumers with `inner`.
/// Throws std::invalid_argument when a resolver returns an empty room (as Java does; the
/// rebalance should keep its current assignment for that round).
allocate_strategy allocate_machine_room_nearby(
    allocate_strategy inner, std::function<std::string(const message_queue&)> mq_room,
    std::function<std::string(std::string_view cid)> client_room);

/// "CONFIG": always the configured queues, whatever the membership.
allocate_strategy allocate_by_config(std::vector<message_queue> queues);

}  // namespace corocket
