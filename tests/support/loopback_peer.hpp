// An in-process remoting peer on 127.0.0.1: accepts connections and adopts each as a server
// side `connection`, so connection tests exercise both ends of the real code.
#pragma once

#include <corocket/remoting/connection.hpp>

#include "remoting/connection_impl.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <fmt/format.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace corocket::test {

class loopback_peer {
public:
    /// Called for every accepted connection (before any request is read).
    using on_accept = std::function<void(remoting::connection&)>;

    loopback_peer(boost::asio::any_io_executor ex, on_accept accept,
                  std::shared_ptr<boost::asio::ssl::context> tls = nullptr)
        : acceptor_(ex, {boost::asio::ip::make_address("127.0.0.1"), 0}), accept_(std::move(accept)),
          tls_(std::move(tls))
    {
        boost::asio::co_spawn(ex, accept_loop(), boost::asio::detached);
    }

    std::string address() const { return fmt::format("127.0.0.1:{}", acceptor_.local_endpoint().port()); }
    std::vector<remoting::connection>& sessions() { return sessions_; }

    void close()
    {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        for (auto& s : sessions_)
            s.close();
    }

private:
    boost::asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::deferred));
            if (ec)
                co_return;
            auto conn = tls_ ? remoting::detail::adopt_tls_socket(std::move(socket), tls_, {})
                             : remoting::detail::adopt_socket(std::move(socket), {});
            sessions_.push_back(conn);
            accept_(sessions_.back());
        }
    }

    boost::asio::ip::tcp::acceptor acceptor_;
    on_accept accept_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    std::vector<remoting::connection> sessions_;
};

}  // namespace corocket::test
