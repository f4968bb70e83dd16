// 5.x MQFaultStrategy / TopicPublishInfo queue selection (protocol.md §7.2).
#include "routing/queue_selection.hpp"

#include <array>
#include <random>

namespace corocket::detail {
namespace {

struct isolation_step {
    std::chrono::milliseconds latency;
    std::chrono::milliseconds isolation;
};

// The 5.x latencyMax / notAvailableDuration tables.
constexpr std::array<isolation_step, 7> isolation_table{{
    {std::chrono::milliseconds{50}, std::chrono::milliseconds{0}},
    {std::chrono::milliseconds{100}, std::chrono::milliseconds{0}},
    {std::chrono::milliseconds{550}, std::chrono::milliseconds{2000}},
    {std::chrono::milliseconds{1800}, std::chrono::milliseconds{5000}},
    {std::chrono::milliseconds{3000}, std::chrono::milliseconds{6000}},
    {std::chrono::milliseconds{5000}, std::chrono::milliseconds{10000}},
    {std::chrono::milliseconds{15000}, std::chrono::milliseconds{30000}},
}};

std::uint32_t random_start()
{
    thread_local std::mt19937 engine{std::random_device{}()};
    return static_cast<std::uint32_t>(engine());
}

}  // namespace

std::chrono::milliseconds latency_fault_table::isolation_for(std::chrono::milliseconds latency) noexcept
{
    for (auto it = isolation_table.rbegin(); it != isolation_table.rend(); ++it) {
        if (latency >= it->latency)
            return it->isolation;
    }
    return std::chrono::milliseconds{0};
}

void latency_fault_table::update(std::string_view broker, std::chrono::milliseconds latency, bool failed,
                                 time_point now)
{
    const auto until = now + isolation_for(failed ? failure_penalty : latency);
    auto it = not_available_until_.find(broker);
    if (it == not_available_until_.end())
        not_available_until_.emplace(std::string(broker), until);
    else
        it->second = until;
}

bool latency_fault_table::is_available(std::string_view broker, time_point now) const
{
    auto it = not_available_until_.find(broker);
    return it == not_available_until_.end() || now >= it->second;
}

void latency_fault_table::remove(std::string_view broker)
{
    auto it = not_available_until_.find(broker);
    if (it != not_available_until_.end())
        not_available_until_.erase(it);
}

queue_picker::queue_picker() : counter_(random_start()) {}

void queue_picker::reset()
{
    counter_ = random_start();
}

// ThreadLocalIndex.incrementAndGet & 0x7FFFFFFF, modulo the list size.
std::size_t queue_picker::next_index(std::size_t size) noexcept
{
    ++counter_;
    return static_cast<std::size_t>(counter_ & 0x7FFFFFFFu) % size;
}

std::optional<message_queue> queue_picker::pick(const std::vector<message_queue>& publish_queues,
                                                std::string_view last_broker, const latency_fault_table* faults,
                                                latency_fault_table::time_point now)
{
    if (publish_queues.empty())
        return std::nullopt;
    const auto not_last = [&](const message_queue& mq) { return last_broker.empty() || mq.broker_name != last_broker; };
    // One full turn per pass, as TopicPublishInfo.selectOneMessageQueue(filters...) does.
    const auto turn = [&](auto accept) -> const message_queue* {
        for (std::size_t i = 0; i < publish_queues.size(); ++i) {
            const auto& mq = publish_queues[next_index(publish_queues.size())];
            if (accept(mq))
                return &mq;
        }
        return nullptr;
    };
    const message_queue* chosen = nullptr;
    if (faults)
        chosen = turn([&](const message_queue& mq) { return not_last(mq) && faults->is_available(mq.broker_name, now); });
    if (!chosen)
        chosen = turn(not_last);
    if (!chosen)
        chosen = &publish_queues[next_index(publish_queues.size())];
    return *chosen;
}

}  // namespace corocket::detail
