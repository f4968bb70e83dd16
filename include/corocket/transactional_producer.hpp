// corocket::transactional_producer — half message, local transaction, END_TRANSACTION, and the
// answers to the broker's check-backs (protocol.md §3.10, §7.4).
#pragma once

#include <corocket/client.hpp>
#include <corocket/error.hpp>
#include <corocket/message.hpp>
#include <corocket/producer.hpp>
#include <corocket/send_result.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/deferred.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace corocket {

namespace detail {
class transactional_producer_impl;
}

/// The outcome of a local transaction (Java's LocalTransactionState).
enum class transaction_state {
    commit,    ///< COMMIT_MESSAGE: the half message becomes visible
    rollback,  ///< ROLLBACK_MESSAGE: the half message is discarded
    unknown,   ///< UNKNOW: the broker checks back later
};

/// "COMMIT_MESSAGE", "ROLLBACK_MESSAGE", "UNKNOW" (Java's names, trace records use them).
std::string_view to_string(transaction_state) noexcept;

/// The local transaction: runs after the half message is stored, gets the message as sent
/// (with its UNIQ_KEY and transaction properties) and the half message's send result.
using local_transaction = std::function<boost::asio::awaitable<transaction_state>(const message&, const send_result&)>;

/// The check-back handler: gets the half message as the broker stored it (real topic, without
/// namespace; properties with UNIQ_KEY, TRANSACTION_CHECK_TIMES, ...) and says what became of it.
using transaction_checker = std::function<boost::asio::awaitable<transaction_state>(const message_view&)>;

struct transaction_result {
    /// The half message's send.
    send_result half;
    /// What END_TRANSACTION told the broker. A half message stored with a FLUSH_*/SLAVE_* status
    /// is rolled back without running the local transaction (as Java does).
    transaction_state state = transaction_state::unknown;
    /// Whether the local transaction ran.
    bool local_transaction_ran = false;
    /// The exception text when the local transaction threw. The state is then `unknown`: the
    /// broker will ask the check-back handler (Java treats exceptions as UNKNOW too).
    std::string local_transaction_error;
    /// Writing END_TRANSACTION failed (the broker will check back); the send itself succeeded.
    error_code end_transaction_error;
};

struct transactional_producer_config {
    producer_config producer;
    /// Bound on one check-back handler; when it passes, the check is not answered (counted as
    /// failed) and the broker asks again later.
    std::chrono::milliseconds check_timeout{3000};
    /// Bound on writing END_TRANSACTION (Java: the send timeout).
    std::chrono::milliseconds end_transaction_timeout{3000};
};

/// Check-back counters.
struct check_back_stats {
    std::uint64_t received = 0;  ///< CHECK_TRANSACTION_STATE requests for this producer's group
    std::uint64_t answered = 0;  ///< END_TRANSACTION written in answer
    std::uint64_t failed = 0;    ///< undecodable, handler threw or timed out, answer not written
};

namespace detail {
/// Turns a plain callable returning transaction_state, or one returning
/// awaitable<transaction_state>, into a coroutine of the second kind.
template <class... Args, class F>
auto as_transaction_coroutine(F f)
{
    return [f = std::move(f)](const Args&... args) mutable -> boost::asio::awaitable<transaction_state> {
        using result = std::invoke_result_t<F&, const Args&...>;
        if constexpr (std::is_same_v<result, boost::asio::awaitable<transaction_state>>)
            co_return co_await f(args...);
        else
            co_return static_cast<transaction_state>(f(args...));
    };
}
}  // namespace detail

/// A producer of transactional messages. Check-backs (CHECK_TRANSACTION_STATE) for this group
/// arriving on any connection of the client are answered by the checker, even for half
/// messages another instance of the group sent. The group is registered with the client, so
/// it is in every heartbeat.
///
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe. Use it from the client's executor.
class transactional_producer {
public:
    using executor_type = boost::asio::any_io_executor;

    /// `checker`: a coroutine `awaitable<transaction_state>(const message_view&)` or a plain
    /// callable returning transaction_state.
    template <class Checker>
    transactional_producer(client& c, transactional_producer_config config, Checker checker)
        : transactional_producer(c, std::move(config),
                                 transaction_checker(detail::as_transaction_coroutine<message_view>(std::move(checker))))
    {
    }
    transactional_producer(client& c, transactional_producer_config config, transaction_checker checker);
    ~transactional_producer();
    transactional_producer(const transactional_producer&) = delete;
    transactional_producer& operator=(const transactional_producer&) = delete;

    executor_type get_executor() const noexcept;

    /// Registers the group, installs the check-back handler, starts the client if needed.
    error_code start(diagnostics* diag = nullptr);
    bool running() const noexcept;

    /// Sends `msg` as a half message (TRAN_MSG=true, PGROUP, sysFlag transaction bit; any delay
    /// level is removed), runs `local` (a coroutine `awaitable<transaction_state>(const message&,
    /// const send_result&)` or a plain callable returning transaction_state), and ends the
    /// transaction with a one-way END_TRANSACTION to the master that stored the half message.
    ///
    /// @par Completion signature
    /// `void(error_code, transaction_result)`: an error only when the half message was not
    /// stored. A local transaction that throws gives state `unknown` (never an error).
    /// @par Per-operation cancellation
    /// terminal, partial and total. Before the half message is stored: completes with
    /// operation_aborted. While the local transaction runs: it receives the cancellation; the
    /// state it still returns is sent, and if it throws, `unknown` is sent (the broker checks
    /// back). Once the local transaction has decided, END_TRANSACTION is always written.
    template <class Local, class Token = boost::asio::deferred_t>
    auto async_send_in_transaction(message msg, Local&& local, Token&& token = {})
    {
        local_transaction erased(detail::as_transaction_coroutine<message, send_result>(std::forward<Local>(local)));
        return boost::asio::async_initiate<Token, void(error_code, transaction_result)>(
            [impl = impl_](auto h, message m, local_transaction l) {
                send_impl(impl, std::move(m), std::move(l), result_handler(std::move(h)));
            },
            token, std::move(msg), std::move(erased));
    }

    /// Stops accepting sends, waits for pending sends and running check-back handlers,
    /// removes the check-back handler and unregisters the group.
    /// @par Completion signature
    /// `void(error_code)` (always success).
    template <class Token = boost::asio::deferred_t>
    auto async_stop(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(
            [impl = impl_](auto h) { stop_impl(impl, done_handler(std::move(h))); }, token);
    }

    check_back_stats stats() const noexcept;

private:
    using result_handler = boost::asio::any_completion_handler<void(error_code, transaction_result)>;
    using done_handler = boost::asio::any_completion_handler<void(error_code)>;

    static void send_impl(const std::shared_ptr<detail::transactional_producer_impl>&, message, local_transaction,
                          result_handler);
    static void stop_impl(const std::shared_ptr<detail::transactional_producer_impl>&, done_handler);

    std::shared_ptr<detail::transactional_producer_impl> impl_;
};

}  // namespace corocket
