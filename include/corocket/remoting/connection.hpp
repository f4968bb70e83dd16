// One TCP (or TLS) session to one address, carrying many calls at once matched by opaque.
#pragma once

#include <corocket/error.hpp>
#include <corocket/logger.hpp>
#include <corocket/remoting/command.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corocket::remoting {

namespace detail {
class connection_impl;
}

/// TLS on the same port as plaintext (the server sniffs the first byte).
struct tls_options {
    bool enabled = false;
    /// Verify the server certificate chain (and host name, if server_name is set). On by default;
    /// switching it off is an explicit choice.
    bool verify_peer = true;
    /// PEM file of trusted CAs; empty = the system's default verify paths.
    std::string ca_file;
    /// Name to verify the certificate against and to send as SNI; empty = no host name check.
    std::string server_name;
    /// Optional client certificate and key (PEM), for servers that require one.
    std::string cert_file;
    std::string key_file;
};

/// Hook around every request this side originates (not around answers to peer requests).
class rpc_hook {
public:
    virtual ~rpc_hook() = default;
    /// Called with the final request before it is serialized; may add ext fields (ACL signing).
    virtual void before_request(std::string_view /*address*/, command& /*request*/) {}
    /// Called with each response received for a request.
    virtual void after_response(std::string_view /*address*/, const command_header& /*request*/,
                                const command& /*response*/)
    {
    }
};

struct connection_options {
    serialize_type serialization = serialize_type::json;  ///< how requests are encoded
    language_code language = language_code::cpp;
    int version = default_version;
    std::chrono::milliseconds connect_timeout{3000};
    /// A write that has not finished after this long closes the connection: a peer that stopped
    /// reading would otherwise hold every one-way send (and everything behind it) until TCP
    /// gives up. Java's client closes a channel idle for 120 s. Zero = no limit.
    std::chrono::milliseconds write_timeout{120000};
    std::size_t max_frame_size = 16 * 1024 * 1024;
    tls_options tls;
    std::vector<std::shared_ptr<rpc_hook>> hooks;
    logger log;
};

struct call_options {
    /// Deadline for the response, measured from the call. Zero = wait forever.
    std::chrono::milliseconds timeout{3000};
};

/// Handler for requests the peer sends (RESPONSE flag clear). Runs on the connection's executor.
/// Answer two-way requests with connection::send_response (same opaque); never answer one-way ones.
using request_handler = std::function<void(command request)>;

/// A cheap, copyable handle to one connection. Connects lazily on first use (or on connect()).
///
/// Calls made while connecting are queued; a failed connect fails them all with
/// client_errc::connect_failed. A lost connection fails every pending call at once with
/// client_errc::connection_closed. A closed connection stays closed: make a new one to reconnect.
///
/// @par Thread safety
/// Distinct objects: safe. Shared objects: unsafe; use from the connection's executor only.
class connection {
public:
    using executor_type = boost::asio::any_io_executor;

    connection(executor_type ex, std::string address, connection_options opts = {});
    explicit connection(std::shared_ptr<detail::connection_impl> impl) : impl_(std::move(impl)) {}

    executor_type get_executor() const noexcept;
    const std::string& address() const noexcept;
    /// False once closed (by close(), a failed connect, a lost connection or a framing error).
    bool is_open() const noexcept;
    /// True once the server answered GO_AWAY (1500): pending calls finish, then it closes; new
    /// calls belong on a new connection.
    bool is_draining() const noexcept;
    /// Number of two-way calls waiting for a response.
    std::size_t pending_calls() const noexcept;
    /// Why the connection closed (empty while open).
    error_code close_reason() const noexcept;

    /// Starts connecting now rather than on the first call.
    void connect();

    /// Sends `request` and completes with the matching response.
    ///
    /// @par Completion signature
    /// `void(error_code, command)`: the response (any response code; a broker error code is not
    /// an error_code here), or client_errc::timeout / connection_closed / connect_failed /
    /// operation_aborted with an empty command.
    /// @par Per-operation cancellation
    /// terminal, partial and total: the call's slot is abandoned, a late response is dropped,
    /// other calls and the connection are unaffected. Completes with operation_aborted.
    /// @par Object lifetimes
    /// The handle may be destroyed while the call is pending; the connection lives until closed.
    /// @par Executor
    /// The handler runs on its associated executor (by default the connection's), never inline.
    template <class Token = boost::asio::deferred_t>
    auto async_call(command request, call_options opts, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code, command)>(
            call_initiation{impl_}, token, std::move(request), opts);
    }

    /// Sends a one-way request (ONEWAY flag set) and completes once it has been written.
    ///
    /// @par Completion signature
    /// `void(error_code)`.
    /// @par Per-operation cancellation
    /// None once queued: the frame is written or the connection fails.
    template <class Token = boost::asio::deferred_t>
    auto async_oneway(command request, Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(oneway_initiation{impl_}, token,
                                                                     std::move(request));
    }

    /// Installs the handler for peer-initiated requests. Without one, two-way peer requests are
    /// answered REQUEST_CODE_NOT_SUPPORTED, as the Java client does.
    void set_request_handler(request_handler handler);

    /// Queues a response to a peer request (its opaque must be the request's). No-op once closed.
    void send_response(command response);

    /// Queues a request to the peer without waiting for it to be written (fire and forget).
    void post_oneway(command request);

    /// Called once when the connection closes, with the reason. Runs on the connection's executor.
    void on_close(std::function<void(error_code)> callback);

    /// Closes now: fails pending calls with connection_closed, stops the loops.
    void close();

    /// Closes and completes once the reader and writer loops have exited.
    ///
    /// @par Completion signature
    /// `void(error_code)` (always success).
    template <class Token = boost::asio::deferred_t>
    auto async_close(Token&& token = {})
    {
        return boost::asio::async_initiate<Token, void(error_code)>(close_initiation{impl_}, token);
    }

    const std::shared_ptr<detail::connection_impl>& impl() const noexcept { return impl_; }

private:
    using call_handler = boost::asio::any_completion_handler<void(error_code, command)>;
    using done_handler = boost::asio::any_completion_handler<void(error_code)>;

    static void call_impl(const std::shared_ptr<detail::connection_impl>&, command, call_options,
                          call_handler);
    static void oneway_impl(const std::shared_ptr<detail::connection_impl>&, command, done_handler);
    static void close_impl(const std::shared_ptr<detail::connection_impl>&, done_handler);

    struct call_initiation {
        std::shared_ptr<detail::connection_impl> impl;
        template <class Handler>
        void operator()(Handler&& h, command req, call_options opts) const
        {
            call_impl(impl, std::move(req), opts, call_handler(std::forward<Handler>(h)));
        }
    };
    struct oneway_initiation {
        std::shared_ptr<detail::connection_impl> impl;
        template <class Handler>
        void operator()(Handler&& h, command req) const
        {
            oneway_impl(impl, std::move(req), done_handler(std::forward<Handler>(h)));
        }
    };
    struct close_initiation {
        std::shared_ptr<detail::connection_impl> impl;
        template <class Handler>
        void operator()(Handler&& h) const
        {
            close_impl(impl, done_handler(std::forward<Handler>(h)));
        }
    };

    std::shared_ptr<detail::connection_impl> impl_;
};

}  // namespace corocket::remoting
