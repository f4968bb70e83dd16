// The connection against an in-process peer (itself a server-side connection): pipelining,
// out-of-order responses, per-call timeout and cancellation, connection loss, peer requests, TLS.
#include <corocket/remoting/codes.hpp>
#include <corocket/remoting/connection.hpp>

#include "loopback_peer.hpp"
#include "remoting/connection_impl.hpp"
#include "run_coro.hpp"
#include "sleep.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <optional>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::remoting;
using corocket::test::loopback_peer;
using corocket::test::run_coro;
using corocket::test::sleep_for;
using namespace std::chrono_literals;

namespace {

constexpr auto tuple_token = asio::as_tuple(asio::deferred);

command echo_request(int i)
{
    auto req = command::request(request_code::get_routeinfo_by_topic);
    req.ext_fields.set("i", std::to_string(i));
    req.body = "body-" + std::to_string(i);
    return req;
}

command echo_of(const command& req)
{
    auto resp = command::response_to(req, response_code::success);
    resp.ext_fields.set("i", std::string(req.ext_fields.get("i")));
    resp.body = req.body;
    return resp;
}


std::string tls_file(const char* name) { return std::string(COROCKET_TEST_DATA_DIR) + "/tls/" + name; }

}  // namespace

TEST_CASE("10,000 pipelined calls complete with responses sent out of order")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        // The peer answers in reverse order, 100 requests at a time.
        std::vector<command> held;
        loopback_peer peer(ioc.get_executor(), [&held](connection& s) {
            s.set_request_handler([s, &held](command req) mutable {
                held.push_back(std::move(req));
                if (held.size() == 100) {
                    std::reverse(held.begin(), held.end());
                    for (auto& r : held)
                        s.send_response(echo_of(r));
                    held.clear();
                }
            });
        });
        connection conn(ioc.get_executor(), peer.address());
        constexpr int n = 10000;
        int ok = 0, finished = 0;
        for (int i = 0; i < n; ++i) {
            conn.async_call(echo_request(i), {.timeout = 30s}, [&, i](error_code ec, command resp) {
                ++finished;
                if (!ec && resp.ext_fields.get("i") == std::to_string(i) && resp.body == "body-" + std::to_string(i))
                    ++ok;
            });
        }
        while (finished < n)
            co_await sleep_for(5ms);
        CHECK(ok == n);
        CHECK(conn.pending_calls() == 0);
        co_await conn.async_close();
        peer.close();
    });
}

TEST_CASE("co_await async_call returns the response")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        loopback_peer peer(ioc.get_executor(), [](connection& s) {
            s.set_request_handler([s](command req) mutable { s.send_response(echo_of(req)); });
        });
        connection conn(ioc.get_executor(), peer.address());
        auto [ec, resp] = co_await conn.async_call(echo_request(7), {}, tuple_token);
        CHECK_FALSE(ec);
        CHECK(resp.code == response_code::success);
        CHECK(resp.is_response());
        CHECK(resp.ext_fields.get("i") == "7");
        co_await conn.async_close();
        peer.close();
    });
}

TEST_CASE("one call times out while the others succeed")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        loopback_peer peer(ioc.get_executor(), [](connection& s) {
            s.set_request_handler([s](command req) mutable {
                if (req.ext_fields.get("i") != "silent")
                    s.send_response(echo_of(req));
            });
        });
        connection conn(ioc.get_executor(), peer.address());
        auto silent = echo_request(0);
        silent.ext_fields.set("i", "silent");
        error_code silent_ec;
        bool silent_done = false;
        conn.async_call(std::move(silent), {.timeout = 100ms}, [&](error_code ec, command) {
            silent_ec = ec;
            silent_done = true;
        });
        for (int i = 1; i <= 5; ++i) {
            auto [ec, resp] = co_await conn.async_call(echo_request(i), {.timeout = 5s}, tuple_token);
            CHECK_FALSE(ec);
            CHECK(resp.ext_fields.get("i") == std::to_string(i));
        }
        while (!silent_done)
            co_await sleep_for(5ms);
        CHECK(silent_ec == client_errc::timeout);
        CHECK(conn.is_open());
        auto [ec, resp] = co_await conn.async_call(echo_request(9), {}, tuple_token);
        CHECK_FALSE(ec);
        co_await conn.async_close();
        peer.close();
    });
}

TEST_CASE("cancelling one call leaves the others and the connection intact")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        // The peer holds call 0 and answers it late, when call 3 arrives.
        std::optional<command> held;
        loopback_peer peer(ioc.get_executor(), [&held](connection& s) {
            s.set_request_handler([s, &held](command req) mutable {
                if (req.ext_fields.get("i") == "0") {
                    held = req;
                    return;
                }
                if (req.ext_fields.get("i") == "3" && held)
                    s.send_response(echo_of(*held));
                s.send_response(echo_of(req));
            });
        });
        connection conn(ioc.get_executor(), peer.address());
        asio::cancellation_signal cancel;
        std::map<int, error_code> results;
        conn.async_call(echo_request(0), {.timeout = 5s},
                        asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, command) { results[0] = ec; }));
        for (int i = 1; i <= 2; ++i)
            conn.async_call(echo_request(i), {.timeout = 5s}, [&, i](error_code ec, command) { results[i] = ec; });
        while (results.size() < 2)
            co_await sleep_for(5ms);
        cancel.emit(asio::cancellation_type::terminal);
        while (results.size() < 3)
            co_await sleep_for(5ms);
        CHECK(results[0] == client_errc::operation_aborted);
        CHECK_FALSE(results[1]);
        CHECK_FALSE(results[2]);
        // The late response to the cancelled call is dropped; the next call is unaffected.
        auto [ec, resp] = co_await conn.async_call(echo_request(3), {.timeout = 5s}, tuple_token);
        CHECK_FALSE(ec);
        CHECK(resp.ext_fields.get("i") == "3");
        CHECK(conn.is_open());
        CHECK(conn.pending_calls() == 0);
        co_await conn.async_close();
        peer.close();
    });
}

TEST_CASE("a lost connection fails every pending call at once")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        int received = 0;
        loopback_peer peer(ioc.get_executor(), [&received](connection& s) {
            s.set_request_handler([s, &received](command) mutable {
                if (++received == 10)
                    s.close();  // the peer goes away with ten calls unanswered
            });
        });
        connection conn(ioc.get_executor(), peer.address());
        std::vector<error_code> results;
        for (int i = 0; i < 10; ++i)
            conn.async_call(echo_request(i), {.timeout = 30s}, [&](error_code ec, command) { results.push_back(ec); });
        while (results.size() < 10)
            co_await sleep_for(5ms);
        for (auto& ec : results)
            CHECK(ec == client_errc::connection_closed);
        CHECK_FALSE(conn.is_open());
        auto [ec, resp] = co_await conn.async_call(echo_request(11), {}, tuple_token);
        CHECK(ec == client_errc::connection_closed);
        peer.close();
    });
}

TEST_CASE("connecting to a closed port fails queued calls with connect_failed")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        std::string address;
        {
            asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
            address = fmt::format("127.0.0.1:{}", a.local_endpoint().port());
        }  // closed again: nobody listens there now
        connection conn(ioc.get_executor(), address);
        auto [ec, resp] = co_await conn.async_call(echo_request(1), {}, tuple_token);
        CHECK(ec == client_errc::connect_failed);
        CHECK_FALSE(conn.is_open());
    });
}

TEST_CASE("an address without a port fails calls and one-way sends with connect_failed, not a hang")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        // From inside the event loop the connect attempt fails before the first call is queued:
        // the call must still complete (it used to wait forever on a closed connection).
        connection conn(ioc.get_executor(), "localhost");
        auto [ec, resp] = co_await conn.async_call(echo_request(1), {}, tuple_token);
        CHECK(ec == client_errc::connect_failed);
        connection other(ioc.get_executor(), "127.0.0.1:");
        auto [oec] = co_await other.async_oneway(echo_request(2), tuple_token);
        CHECK(oec == client_errc::connect_failed);
    });
}

TEST_CASE("a peer that stops reading: a stalled write closes the connection after write_timeout")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        // Accepts, then never reads: once the socket buffers are full, writes stop progressing.
        asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
        asio::ip::tcp::socket silent(ioc);
        acceptor.async_accept(silent, [](error_code) {});
        connection_options o;
        o.write_timeout = 300ms;
        connection conn(ioc.get_executor(), fmt::format("127.0.0.1:{}", acceptor.local_endpoint().port()), o);
        error_code failed;
        for (int i = 0; i < 64 && !failed; ++i) {  // 256 MiB: far more than any socket buffer
            auto big = echo_request(i);
            big.body.assign(4 * 1024 * 1024, 'x');
            std::tie(failed) = co_await conn.async_oneway(std::move(big), tuple_token);
        }
        CHECK(failed == client_errc::connection_closed);
        CHECK_FALSE(conn.is_open());
        error_code ignored;
        silent.close(ignored);
    });
}

TEST_CASE("requests from the peer reach the handler and are answered with the same opaque")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        std::vector<connection> server_side;
        loopback_peer peer(ioc.get_executor(), [&](connection& s) {
            s.set_request_handler([s](command req) mutable { s.send_response(echo_of(req)); });
            server_side.push_back(s);
        });
        connection conn(ioc.get_executor(), peer.address());
        std::vector<int> oneway_codes;
        conn.set_request_handler([conn, &oneway_codes](command req) mutable {
            if (req.is_oneway()) {
                oneway_codes.push_back(req.code);
                return;
            }
            auto resp = command::response_to(req, response_code::success);
            resp.body = "running info";
            conn.send_response(std::move(resp));
        });
        auto [ec0, r0] = co_await conn.async_call(echo_request(1), {}, tuple_token);  // opens the session
        REQUIRE_FALSE(ec0);
        REQUIRE(server_side.size() == 1);

        auto check = command::request(request_code::check_transaction_state);
        server_side[0].post_oneway(std::move(check));
        auto [ec, resp] = co_await server_side[0].async_call(command::request(request_code::get_consumer_running_info),
                                                             {.timeout = 5s}, tuple_token);
        CHECK_FALSE(ec);
        CHECK(resp.code == response_code::success);
        CHECK(resp.body == "running info");
        CHECK(oneway_codes == std::vector<int>{request_code::check_transaction_state});
        co_await conn.async_close();
        peer.close();
    });
}

TEST_CASE("a peer request with no handler is answered REQUEST_CODE_NOT_SUPPORTED")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        std::vector<connection> server_side;
        loopback_peer peer(ioc.get_executor(), [&](connection& s) {
            s.set_request_handler([s](command req) mutable { s.send_response(echo_of(req)); });
            server_side.push_back(s);
        });
        connection conn(ioc.get_executor(), peer.address());
        auto [ec0, r0] = co_await conn.async_call(echo_request(1), {}, tuple_token);
        REQUIRE(server_side.size() == 1);
        auto [ec, resp] = co_await server_side[0].async_call(command::request(9999), {.timeout = 5s}, tuple_token);
        CHECK_FALSE(ec);
        CHECK(resp.code == response_code::request_code_not_supported);
        CHECK(resp.remark == " request type 9999 not supported");
        co_await conn.async_close();
        peer.close();
    });
}

TEST_CASE("opaques wrap around at 2^31 without colliding")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        std::vector<std::int32_t> seen;
        loopback_peer peer(ioc.get_executor(), [&seen](connection& s) {
            s.set_request_handler([s, &seen](command req) mutable {
                seen.push_back(req.opaque);
                s.send_response(echo_of(req));
            });
        });
        connection conn(ioc.get_executor(), peer.address());
        conn.impl()->set_next_opaque(0x7ffffffeu);
        for (int i = 0; i < 4; ++i) {
            auto [ec, resp] = co_await conn.async_call(echo_request(i), {}, tuple_token);
            CHECK_FALSE(ec);
            CHECK(resp.ext_fields.get("i") == std::to_string(i));
        }
        CHECK(seen == std::vector<std::int32_t>{0x7ffffffe, 0x7fffffff, 0, 1});
        co_await conn.async_close();
        peer.close();
    });
}

TEST_CASE("binary-serialized requests get answered in kind")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        std::vector<serialize_type> types;
        loopback_peer peer(ioc.get_executor(), [&types](connection& s) {
            s.set_request_handler([s, &types](command req) mutable {
                types.push_back(req.type);
                s.send_response(echo_of(req));
            });
        });
        connection conn(ioc.get_executor(), peer.address(), {.serialization = serialize_type::rocketmq});
        auto [ec, resp] = co_await conn.async_call(echo_request(3), {}, tuple_token);
        CHECK_FALSE(ec);
        CHECK(resp.type == serialize_type::rocketmq);
        CHECK(types == std::vector<serialize_type>{serialize_type::rocketmq});
        co_await conn.async_close();
        peer.close();
    });
}

namespace {

std::shared_ptr<asio::ssl::context> server_tls(const char* cert, const char* key)
{
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->use_certificate_chain_file(tls_file(cert));
    ctx->use_private_key_file(tls_file(key), asio::ssl::context::pem);
    return ctx;
}

asio::awaitable<error_code> tls_round_trip(asio::io_context& ioc, std::shared_ptr<asio::ssl::context> server,
                                           tls_options client)
{
    loopback_peer peer(ioc.get_executor(), [](connection& s) {
        s.set_request_handler([s](command req) mutable { s.send_response(echo_of(req)); });
    }, std::move(server));
    connection_options opts;
    opts.tls = std::move(client);
    opts.tls.enabled = true;
    connection conn(ioc.get_executor(), peer.address(), opts);
    auto [ec, resp] = co_await conn.async_call(echo_request(5), {.timeout = 5s}, tuple_token);
    if (!ec)
        CHECK(resp.ext_fields.get("i") == "5");
    co_await conn.async_close();
    peer.close();
    co_return ec;
}

}  // namespace

TEST_CASE("TLS: a server certificate signed by the configured CA is accepted")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        tls_options o;
        o.ca_file = tls_file("ca.pem");
        o.server_name = "localhost";
        // Results go into named locals: GCC 12 mishandles co_await inside assertion macros.
        const error_code ec = co_await tls_round_trip(ioc, server_tls("server.pem", "server.key"), o);
        CHECK_FALSE(ec);
    });
}

TEST_CASE("TLS: an untrusted server certificate is rejected unless verification is switched off")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        tls_options verify;
        verify.ca_file = tls_file("ca.pem");
        const error_code untrusted = co_await tls_round_trip(ioc, server_tls("untrusted.pem", "untrusted.key"), verify);
        CHECK(untrusted == client_errc::connect_failed);

        tls_options wrong_name;
        wrong_name.ca_file = tls_file("ca.pem");
        wrong_name.server_name = "broker.example.com";
        const error_code mismatch = co_await tls_round_trip(ioc, server_tls("server.pem", "server.key"), wrong_name);
        CHECK(mismatch == client_errc::connect_failed);

        tls_options off;
        off.verify_peer = false;
        const error_code unverified = co_await tls_round_trip(ioc, server_tls("untrusted.pem", "untrusted.key"), off);
        CHECK_FALSE(unverified);
    });
}

TEST_CASE("GO_AWAY drains the connection: pending calls finish, then it closes")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        std::optional<command> held;
        loopback_peer peer(ioc.get_executor(), [&held](connection& s) {
            s.set_request_handler([s, &held](command req) mutable {
                if (req.ext_fields.get("i") == "1") {
                    held = req;  // still pending when GO_AWAY arrives
                    return;
                }
                s.send_response(command::response_to(req, response_code::go_away, "please go away"));
                if (held)
                    s.send_response(echo_of(*held));
            });
        });
        connection conn(ioc.get_executor(), peer.address());
        error_code pending_ec = make_error_code(client_errc::timeout);
        bool pending_done = false;
        conn.async_call(echo_request(1), {.timeout = 5s}, [&](error_code ec, command resp) {
            pending_ec = ec;
            pending_done = resp.ext_fields.get("i") == "1";
        });
        auto [ec, resp] = co_await conn.async_call(echo_request(2), {.timeout = 5s}, tuple_token);
        CHECK_FALSE(ec);
        CHECK(resp.code == response_code::go_away);
        while (!pending_done)
            co_await sleep_for(5ms);
        CHECK_FALSE(pending_ec);
        CHECK(conn.is_draining());
        CHECK_FALSE(conn.is_open());
        peer.close();
    });
}

namespace {

// Adds a field before each request and records each response's code, as an ACL or tracing
// hook would.
struct recording_hook : rpc_hook {
    std::vector<int> response_codes;
    std::vector<int> request_codes;
    void before_request(std::string_view, command& request) override { request.ext_fields.set("hooked", "yes"); }
    void after_response(std::string_view, const command_header& request, const command& response) override
    {
        request_codes.push_back(request.code);
        response_codes.push_back(response.code);
    }
};

}  // namespace

TEST_CASE("rpc hooks see every request before it is sent and every response")
{
    run_coro([](asio::io_context& ioc) -> asio::awaitable<void> {
        std::vector<std::string> hooked;
        loopback_peer peer(ioc.get_executor(), [&hooked](connection& s) {
            s.set_request_handler([s, &hooked](command req) mutable {
                hooked.emplace_back(req.ext_fields.get("hooked"));
                if (!req.is_oneway())
                    s.send_response(echo_of(req));
            });
        });
        auto hook = std::make_shared<recording_hook>();
        connection conn(ioc.get_executor(), peer.address(), {.hooks = {hook}});
        auto [ec, resp] = co_await conn.async_call(echo_request(1), {}, tuple_token);
        CHECK_FALSE(ec);
        auto [oec] = co_await conn.async_oneway(command::request(request_code::update_consumer_offset), tuple_token);
        CHECK_FALSE(oec);
        auto [ec2, resp2] = co_await conn.async_call(echo_request(2), {}, tuple_token);  // orders after the oneway
        CHECK(hooked == std::vector<std::string>{"yes", "yes", "yes"});
        CHECK(hook->request_codes == std::vector<int>{request_code::get_routeinfo_by_topic,
                                                      request_code::get_routeinfo_by_topic});
        CHECK(hook->response_codes == std::vector<int>{0, 0});
        co_await conn.async_close();
        peer.close();
    });
}
