#include <corocket/error.hpp>
#include <corocket/remoting/codes.hpp>

#include <catch2/catch.hpp>

using namespace corocket;

TEST_CASE("client errors carry the client category and a message")
{
    error_code ec = client_errc::timeout;
    CHECK(ec.category() == client_category());
    CHECK(ec.message() == "the call timed out");
    CHECK(ec == client_errc::timeout);
}

TEST_CASE("broker response codes are named")
{
    auto ec = make_broker_error(remoting::response_code::system_busy);
    CHECK(ec.category() == broker_category());
    CHECK(ec.message() == "SYSTEM_BUSY");
    CHECK(response_code_name(12345) == "RESPONSE_CODE_12345");
    CHECK(request_code_name(310) == "SEND_MESSAGE_V2");
}

TEST_CASE("retriable errors follow the Java producer's retry set")
{
    CHECK(is_retriable(make_broker_error(2)));
    CHECK(is_retriable(make_broker_error(17)));
    CHECK_FALSE(is_retriable(make_broker_error(13)));
    CHECK(is_retriable(client_errc::timeout));
    CHECK_FALSE(is_retriable(client_errc::invalid_topic));
    CHECK_FALSE(is_retriable(error_code{}));
}
