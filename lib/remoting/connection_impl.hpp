// The connection's shell: socket (optionally TLS), reader / writer / deadline coroutines,
// and the glue to the sans-I/O pieces (frame_reader, header codec, call_table, write_batch).
#pragma once

#include <corocket/remoting/connection.hpp>

#include "remoting/call_table.hpp"
#include "remoting/frame_reader.hpp"
#include "remoting/write_batch.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace corocket::remoting::detail {

/// Server side: wraps an accepted (plain TCP) socket. The connection is open at once.
connection adopt_socket(boost::asio::ip::tcp::socket socket, connection_options opts);

/// Server side over TLS: wraps an accepted socket and runs the server handshake with `ctx`.
connection adopt_tls_socket(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> ctx,
                            connection_options opts);

class connection_impl : public std::enable_shared_from_this<connection_impl> {
public:
    using call_handler = boost::asio::any_completion_handler<void(error_code, command)>;
    using done_handler = boost::asio::any_completion_handler<void(error_code)>;

    connection_impl(boost::asio::any_io_executor ex, std::string address, connection_options opts);
    connection_impl(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> server_tls,
                    connection_options opts);
    ~connection_impl();

    const boost::asio::any_io_executor& executor() const noexcept { return ex_; }
    const std::string& address() const noexcept { return address_; }
    bool is_open() const noexcept { return state_ != state::closed; }
    /// The server answered GO_AWAY: finish what is pending, take no new calls.
    bool is_draining() const noexcept { return draining_; }
    std::size_t pending_calls() const noexcept { return calls_.size(); }
    error_code close_reason() const noexcept { return close_reason_; }

    void start_client();
    void start_server();

    void call(command req, call_options opts, call_handler h);
    void oneway(command req, std::optional<done_handler> h);
    void respond(command resp);
    void set_request_handler(request_handler h) { handler_ = std::move(h); }
    void on_close(std::function<void(error_code)> cb) { close_callbacks_.push_back(std::move(cb)); }
    void close(error_code reason);
    void async_close(done_handler h);

    /// Test hook: the next opaque to hand out (to exercise 31-bit wrap-around).
    void set_next_opaque(std::uint32_t value);

private:
    enum class state { idle, connecting, open, closed };

    boost::asio::awaitable<void> run_client();
    boost::asio::awaitable<void> run_server_handshake();
    boost::asio::awaitable<error_code> connect();
    boost::asio::awaitable<void> read_loop();
    boost::asio::awaitable<void> write_loop();
    boost::asio::awaitable<void> deadline_loop();
    void spawn(boost::asio::awaitable<void> (connection_impl::*loop)());
    void start_loops();

    std::int32_t next_opaque();
    void prepare_request(command& req, std::int32_t flag);
    error_code check_sendable(const command& req) const;
    void enqueue(command& cmd, std::optional<done_handler> done);
    void dispatch(command_view&& frame);
    void deliver_response(command_view&& frame);
    void handle_peer_request(command_view&& frame);
    void abandon(std::int32_t opaque);
    /// After GO_AWAY: closes once the last pending call is done, however it ended.
    void close_if_drained();
    /// A timer that closes the connection if the write now starting outlasts write_timeout
    /// (null when there is no limit); cancel it when the write ends.
    std::shared_ptr<boost::asio::steady_timer> watch_write();
    void complete_call(call_handler h, error_code ec, command resp);
    void complete_done(done_handler h, error_code ec);
    void arm_deadline();
    void loop_finished();

    boost::asio::any_io_executor ex_;
    std::string address_;
    connection_options opts_;
    state state_ = state::idle;
    error_code close_reason_;

    boost::asio::ip::tcp::socket socket_;
    /// The name lookup under way while connecting: close() cancels it (a closed socket would
    /// not stop it, and connecting would then open the socket again).
    std::shared_ptr<boost::asio::ip::tcp::resolver> resolver_;
    std::shared_ptr<boost::asio::ssl::context> tls_ctx_;
    std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;

    frame_reader reader_;
    call_table<call_handler> calls_;
    write_batch<done_handler> filling_;
    write_batch<done_handler> writing_;
    boost::asio::steady_timer writer_cv_;  // a timer used as a condition variable
    boost::asio::steady_timer deadline_timer_;
    std::uint32_t opaque_counter_ = 0;

    request_handler handler_;
    std::vector<std::function<void(error_code)>> close_callbacks_;
    std::vector<done_handler> close_waiters_;
    int loops_running_ = 0;
    bool draining_ = false;
};

}  // namespace corocket::remoting::detail
