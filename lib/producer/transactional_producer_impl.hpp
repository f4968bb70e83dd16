// State and coroutines behind corocket::transactional_producer, and the per-client dispatcher
// that hands CHECK_TRANSACTION_STATE requests to the producer of the half message's group.
#pragma once

#include <corocket/transactional_producer.hpp>

#include "producer/producer_impl.hpp"
#include "producer/send_codec.hpp"

#include <map>
#include <memory>
#include <string>
#include <utility>

namespace corocket::detail {

class transactional_producer_impl;

/// One per client: the client has a single handler per request code, and several transactional
/// producers (of different groups) may share a client. Lives while a producer uses it.
class check_dispatcher {
public:
    /// The dispatcher of `client`, installing it as the client's code-39 handler if needed.
    static std::shared_ptr<check_dispatcher> for_client(const std::shared_ptr<client_impl>& client);

    explicit check_dispatcher(std::weak_ptr<client_impl> client) : client_(std::move(client)) {}

    void add(const std::string& wire_group, std::weak_ptr<transactional_producer_impl> producer);
    /// Removes the group; the last removal also removes the client's handler.
    void remove(const std::string& wire_group);

    /// Decodes a check-back and passes it to the producer of its PGROUP (ignored if none).
    void dispatch(remoting::connection conn, remoting::command request);

private:
    std::weak_ptr<client_impl> client_;
    std::map<std::string, std::weak_ptr<transactional_producer_impl>, std::less<>> producers_;
};

class transactional_producer_impl : public std::enable_shared_from_this<transactional_producer_impl> {
public:
    template <class... Ts>
    using op = producer_impl::op<Ts...>;

    transactional_producer_impl(corocket::client& c, transactional_producer_config cfg, transaction_checker checker);

    producer_impl& base() noexcept { return *base_; }
    const std::shared_ptr<producer_impl>& base_ptr() const noexcept { return base_; }
    check_back_stats stats() const noexcept { return stats_; }

    error_code start(diagnostics* diag);
    // Coroutine bodies; they hold `self` so the state outlives a dropped public handle.
    static op<transaction_result> send(std::shared_ptr<transactional_producer_impl> self, message msg,
                                       local_transaction local);
    static op<> stop(std::shared_ptr<transactional_producer_impl> self);
    void abandon();

    /// A check-back for this producer's group arrived on `conn`.
    void on_check(remoting::connection conn, check_request check, message_batch batch);

private:
    static boost::asio::awaitable<void> check_back(std::shared_ptr<transactional_producer_impl> self,
                                                   remoting::connection conn, check_request check,
                                                   message_batch batch);
    boost::asio::awaitable<error_code> end_transaction(const send_result& half, const std::string& wire_topic,
                                                       transaction_state state, const std::string& remark);
    boost::asio::awaitable<error_code> answer_check(remoting::connection& conn, remoting::command request);

    std::shared_ptr<producer_impl> base_;
    transactional_producer_config cfg_;
    transaction_checker checker_;
    std::shared_ptr<check_dispatcher> dispatcher_;
    check_back_stats stats_;
};

}  // namespace corocket::detail
