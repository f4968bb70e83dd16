// Calls per second over one loopback connection against a trivial in-process responder, with
// 1, 16 and 256 calls in flight. Prints a table and one JSON line.
//   connection_bench [seconds-per-case]
#include <corocket/remoting/codes.hpp>
#include <corocket/remoting/connection.hpp>

#include "remoting/connection_impl.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <vector>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::remoting;

namespace {

struct result {
    int in_flight;
    double calls_per_sec;
};

// Keeps `depth` calls in flight for `duration`; each completion issues the next call.
struct pump {
    connection conn;
    std::chrono::steady_clock::time_point until;
    long completed = 0;
    int outstanding = 0;

    void issue()
    {
        auto req = command::request(request_code::get_max_offset);
        req.ext_fields.set("topic", "BenchTopic");
        req.ext_fields.set("queueId", "0");
        ++outstanding;
        conn.async_call(std::move(req), {.timeout = std::chrono::seconds(10)}, [this](error_code ec, command) {
            --outstanding;
            if (ec) {
                fmt::print(stderr, "call failed: {}\n", ec.message());
                std::exit(1);
            }
            ++completed;
            if (std::chrono::steady_clock::now() < until)
                issue();
        });
    }
};

result run_case(int depth, std::chrono::milliseconds duration)
{
    asio::io_context ioc{1};
    asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    std::vector<connection> sessions;
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
        auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::deferred));
        if (ec)
            co_return;
        auto s = detail::adopt_socket(std::move(socket), {});
        s.set_request_handler([s](command req) mutable {
            auto resp = command::response_to(req, response_code::success);
            resp.ext_fields.set("offset", "42");
            s.send_response(std::move(resp));
        });
        sessions.push_back(s);
    }, asio::detached);

    const std::string address = fmt::format("127.0.0.1:{}", acceptor.local_endpoint().port());
    pump p{connection(ioc.get_executor(), address), {}};
    // Warm up (connect, buffers) before timing.
    p.until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    for (int i = 0; i < depth; ++i)
        p.issue();
    while (p.outstanding > 0)
        ioc.run_one();
    p.completed = 0;
    const auto start = std::chrono::steady_clock::now();
    p.until = start + duration;
    for (int i = 0; i < depth; ++i)
        p.issue();
    while (p.outstanding > 0)
        ioc.run_one();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    p.conn.close();
    for (auto& s : sessions)
        s.close();
    acceptor.close();
    ioc.run_for(std::chrono::milliseconds(100));
    return {depth, p.completed / secs};
}

}  // namespace

int main(int argc, char** argv)
{
    const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
    const auto duration = std::chrono::milliseconds(static_cast<long>(seconds * 1000));
    std::vector<result> results;
    fmt::print("{:>10} {:>14}\n", "in_flight", "calls_per_sec");
    for (int depth : {1, 16, 256}) {
        results.push_back(run_case(depth, duration));
        fmt::print("{:>10} {:>14.0f}\n", depth, results.back().calls_per_sec);
    }
    std::string json = R"({"bench":"connection_calls")";
    for (const auto& r : results)
        json += fmt::format(R"(,"in_flight_{}":{:.0f})", r.in_flight, r.calls_per_sec);
    fmt::print("{}}}\n", json);
}
