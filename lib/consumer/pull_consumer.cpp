// The public pull API: forwards to pull_core coroutines run as children of the client.
#include <corocket/pull_consumer.hpp>

#include "consumer/pull_core.hpp"

#include <corocket/remoting/codes.hpp>

namespace corocket {

pull_consumer::pull_consumer(client& c, pull_consumer_config config)
    : core_(std::make_shared<detail::pull_core>(c.impl(), std::move(config)))
{
}

pull_consumer::~pull_consumer() = default;

const pull_consumer_config& pull_consumer::config() const noexcept { return core_->config(); }

void pull_consumer::pull_impl(const std::shared_ptr<detail::pull_core>& core, message_queue q, std::int64_t offset,
                              int max, subscription_data filter, pull_handler h)
{
    auto opts = core->default_pull_options();
    opts.max_messages = max;
    core->client().launch(core->pull(std::move(q), offset, std::move(filter), opts), std::move(h));
}

void pull_consumer::queues_impl(const std::shared_ptr<detail::pull_core>& core, std::string topic, queues_handler h)
{
    core->client().launch(core->fetch_queues(std::move(topic), false), std::move(h));
}

void pull_consumer::offset_impl(const std::shared_ptr<detail::pull_core>& core, offset_query what,
                                message_queue q, std::int64_t arg, offset_handler h)
{
    namespace rq = remoting::request_code;
    switch (what) {
    case offset_query::committed: core->client().launch(core->query_offset(std::move(q)), std::move(h)); return;
    case offset_query::by_timestamp:
        core->client().launch(core->queue_offset(rq::search_offset_by_timestamp, std::move(q), arg), std::move(h));
        return;
    case offset_query::min:
        core->client().launch(core->queue_offset(rq::get_min_offset, std::move(q), 0), std::move(h));
        return;
    case offset_query::max:
        core->client().launch(core->queue_offset(rq::get_max_offset, std::move(q), 0), std::move(h));
        return;
    }
}

void pull_consumer::commit_impl(const std::shared_ptr<detail::pull_core>& core, message_queue q,
                                std::int64_t offset, done_handler h)
{
    core->client().launch(core->commit_offset(std::move(q), offset), std::move(h));
}

}  // namespace corocket
