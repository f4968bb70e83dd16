// Queue allocation strategies, each a faithful copy of the Java consumer's arithmetic: members of
// one group must all compute the same split or queues get double-consumed or orphaned.
#include <corocket/rebalance.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

namespace corocket {
namespace {

using queue_list = std::vector<message_queue>;
using client_list = std::vector<std::string>;

// AbstractAllocateMessageQueueStrategy.check: my index in cid_all, or nullopt when there is
// nothing to allocate (empty id or lists, or I am not a member yet).
std::optional<std::size_t> my_index(std::string_view my_client_id, const queue_list& mq_all,
                                    const client_list& cid_all)
{
    if (my_client_id.empty() || mq_all.empty() || cid_all.empty())
        return std::nullopt;
    auto it = std::find(cid_all.begin(), cid_all.end(), my_client_id);
    if (it == cid_all.end())
        return std::nullopt;
    return static_cast<std::size_t>(it - cid_all.begin());
}

queue_list averagely(std::string_view, std::string_view me, const queue_list& mq_all, const client_list& cid_all)
{
    const auto index = my_index(me, mq_all, cid_all);
    if (!index)
        return {};
    const std::size_t i = *index;
    const std::size_t n = mq_all.size();
    const std::size_t c = cid_all.size();
    const std::size_t mod = n % c;
    const bool extra = mod > 0 && i < mod;
    const std::size_t size = n <= c ? 1 : (extra ? n / c + 1 : n / c);
    const std::size_t start = extra ? i * size : i * size + mod;
    if (start >= n)
        return {};
    const std::size_t count = std::min(size, n - start);
    return queue_list(mq_all.begin() + static_cast<std::ptrdiff_t>(start),
                      mq_all.begin() + static_cast<std::ptrdiff_t>(start + count));
}

queue_list by_circle(std::string_view, std::string_view me, const queue_list& mq_all, const client_list& cid_all)
{
    const auto index = my_index(me, mq_all, cid_all);
    if (!index)
        return {};
    queue_list out;
    for (std::size_t k = *index; k < mq_all.size(); k += cid_all.size())
        out.push_back(mq_all[k]);
    return out;
}

// ---- consistent hash -------------------------------------------------------------------------

// Java's MD5Hash: the first four digest bytes as an unsigned big-endian number.
std::uint32_t md5_hash(std::string_view key)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(key.data(), key.size(), digest, &size, EVP_md5(), nullptr);
    return (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) | (std::uint32_t{digest[2]} << 8) |
           std::uint32_t{digest[3]};
}

// ConsistentHashRouter: hash → owning client id. A later virtual node with an equal hash
// replaces the earlier one, as TreeMap.put does.
class hash_ring {
public:
    hash_ring(const client_list& cid_all, int virtual_nodes)
    {
        for (const auto& cid : cid_all) {
            // Java numbers a node's replicas after the ones already on the ring (only matters
            // when cid_all repeats an id).
            const std::size_t existing = static_cast<std::size_t>(
                std::count_if(ring_.begin(), ring_.end(), [&](const auto& e) { return *e.second == cid; }));
            for (int r = 0; r < virtual_nodes; ++r)
                ring_[md5_hash(cid + "-" + std::to_string(existing + static_cast<std::size_t>(r)))] = &cid;
        }
    }

    const std::string* route(std::string_view key) const
    {
        if (ring_.empty())
            return nullptr;
        auto it = ring_.lower_bound(md5_hash(key));
        return it == ring_.end() ? ring_.begin()->second : it->second;
    }

private:
    std::map<std::uint32_t, const std::string*> ring_;
};

// ---- machine rooms ---------------------------------------------------------------------------

// Java's String.split("@"): trailing empty parts are dropped.
std::vector<std::string_view> java_split_at(std::string_view s)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        const auto at = s.find('@', start);
        parts.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
        if (at == std::string_view::npos)
            break;
        start = at + 1;
    }
    while (!parts.empty() && parts.back().empty())
        parts.pop_back();
    // "".split("@") is [""] in Java: a string without the separator is returned whole.
    if (parts.empty() && s.find('@') == std::string_view::npos)
        parts.push_back(s);
    return parts;
}

}  // namespace

allocate_strategy allocate_averagely()
{
    return averagely;
}

allocate_strategy allocate_averagely_by_circle()
{
    return by_circle;
}

allocate_strategy allocate_consistent_hash(int virtual_nodes)
{
    if (virtual_nodes < 0)
        throw std::invalid_argument("illegal virtual node count: " + std::to_string(virtual_nodes));
    return [virtual_nodes](std::string_view, std::string_view me, const queue_list& mq_all,
                           const client_list& cid_all) -> queue_list {
        if (!my_index(me, mq_all, cid_all))
            return {};
        const hash_ring ring(cid_all, virtual_nodes);
        queue_list out;
        for (const auto& mq : mq_all) {
            const auto* owner = ring.route(mq.to_string());
            if (owner && *owner == me)
                out.push_back(mq);
        }
        return out;
    };
}

allocate_strategy allocate_by_machine_room(std::set<std::string> idcs)
{
    return [idcs = std::move(idcs)](std::string_view, std::string_view me, const queue_list& mq_all,
                                    const client_list& cid_all) -> queue_list {
        const auto index = my_index(me, mq_all, cid_all);
        if (!index)
            return {};
        queue_list pre;
        for (const auto& mq : mq_all) {
            const auto parts = java_split_at(mq.broker_name);
            if (parts.size() == 2 && idcs.contains(std::string(parts[0])))
                pre.push_back(mq);
        }
        const std::size_t c = cid_all.size();
        const std::size_t mod = pre.size() / c;
        const std::size_t rem = pre.size() % c;
        const std::size_t start = mod * *index;
        queue_list out(pre.begin() + static_cast<std::ptrdiff_t>(start),
                       pre.begin() + static_cast<std::ptrdiff_t>(start + mod));
        if (rem > *index)
            out.push_back(pre[*index + mod * c]);
        return out;
    };
}

allocate_strategy allocate_machine_room_nearby(allocate_strategy inner,
                                               std::function<std::string(const message_queue&)> mq_room,
                                               std::function<std::string(std::string_view cid)> client_room)
{
    return [inner = std::move(inner), mq_room = std::move(mq_room), client_room = std::move(client_room)](
               std::string_view group, std::string_view me, const queue_list& mq_all,
               const client_list& cid_all) -> queue_list {
        if (!my_index(me, mq_all, cid_all))
            return {};
        // Rooms in sorted order (Java uses TreeMaps), members in input order.
        std::map<std::string, queue_list> room_queues;
        for (const auto& mq : mq_all) {
            auto room = mq_room(mq);
            if (room.empty())
                throw std::invalid_argument("machine room is empty for " + mq.to_string());
            room_queues[std::move(room)].push_back(mq);
        }
        std::map<std::string, client_list> room_clients;
        for (const auto& cid : cid_all) {
            auto room = client_room(cid);
            if (room.empty())
                throw std::invalid_argument("machine room is empty for consumer " + cid);
            room_clients[std::move(room)].push_back(cid);
        }
        queue_list out;
        const auto my_room = client_room(me);
        if (auto it = room_queues.find(my_room); it != room_queues.end()) {
            out = inner(group, me, it->second, room_clients[my_room]);
            room_queues.erase(it);
        }
        // Rooms without any live consumer are shared by everyone.
        for (const auto& [room, queues] : room_queues) {
            if (!room_clients.contains(room)) {
                auto mine = inner(group, me, queues, cid_all);
                out.insert(out.end(), mine.begin(), mine.end());
            }
        }
        return out;
    };
}

allocate_strategy allocate_by_config(std::vector<message_queue> queues)
{
    return [queues = std::move(queues)](std::string_view, std::string_view, const queue_list&,
                                        const client_list&) { return queues; };
}

}  // namespace corocket
