// Creating a topic on a real cluster, for tests and examples that need a topic with a given
// number of queues before anything is sent (a real broker auto-creates a topic only on its first
// send, with the producer's default queue count). Test tooling, not part of the client API.
#pragma once

#include <corocket/client.hpp>
#include <corocket/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <string>

namespace corocket::testing {

namespace detail {
void create_topic_impl(client& c, std::string topic, int queues,
                       boost::asio::any_completion_handler<void(error_code)> handler);
}

/// Sends UPDATE_AND_CREATE_TOPIC for `topic` (`queues` read and write queues, perm RW) to every
/// master of the cluster `c` talks to, as `mqadmin updateTopic -c` does, then waits until the name
/// server routes the topic (brokers register it on their next registration, up to 30 s).
/// `c` must stay alive until completion; on an ACL cluster its credentials must be an admin's.
///
/// @par Completion signature
/// `void(error_code)`: the first broker error (its response code in broker_category()), or a
/// timeout when the name server never routed the topic.
template <class Token = boost::asio::deferred_t>
auto async_create_topic(client& c, std::string topic, int queues, Token&& token = {})
{
    return boost::asio::async_initiate<Token, void(error_code)>(
        [&c](auto handler, std::string t, int q) { detail::create_topic_impl(c, std::move(t), q, std::move(handler)); },
        token, std::move(topic), queues);
}

}  // namespace corocket::testing
