// Client-side send validation.
#include "message/validate.hpp"

#include <catch2/catch.hpp>

using namespace corocket;

namespace {

error_code check(const message& m, diagnostics& diag, std::size_t max_body = detail::default_max_body_size)
{
    diag.clear();
    return detail::validate_message(m, max_body, diag);
}

}  // namespace

TEST_CASE("topic rules")
{
    diagnostics diag;
    CHECK_FALSE(detail::validate_topic("GoldenSend", diag));
    CHECK_FALSE(detail::validate_topic("%RETRY%a|b_c-1", diag));
    CHECK_FALSE(detail::validate_topic(std::string(127, 'a'), diag));
    CHECK_FALSE(detail::validate_topic("TBW102", diag));

    CHECK(detail::validate_topic("", diag) == client_errc::invalid_topic);
    CHECK(diag.client_message == "the topic is empty");
    CHECK(detail::validate_topic(std::string(128, 'a'), diag) == client_errc::invalid_topic);
    CHECK(diag.client_message.find("128") != std::string::npos);
    CHECK(detail::validate_topic("bad topic", diag) == client_errc::invalid_topic);
    CHECK(diag.client_message.find("position 3") != std::string::npos);
    CHECK(detail::validate_topic("caf\xC3\xA9", diag) == client_errc::invalid_topic);
    CHECK(detail::validate_topic("a.b", diag) == client_errc::invalid_topic);
    CHECK(detail::validate_topic("SCHEDULE_TOPIC_XXXX", diag) == client_errc::invalid_topic);
    CHECK(diag.client_message.find("system topic") != std::string::npos);
    CHECK(detail::validate_topic("RMQ_SYS_TRANS_HALF_TOPIC", diag) == client_errc::invalid_topic);
}

TEST_CASE("message rules")
{
    diagnostics diag;
    message ok("GoldenSend", "body");
    ok.set_tags("TagA");
    ok.set_keys({"k1", "k2"});
    ok.set_property("orderId", "1001");
    CHECK_FALSE(check(ok, diag));
    CHECK(diag.empty());

    CHECK(check(message("bad topic", "b"), diag) == client_errc::invalid_topic);
    CHECK(check(message("T", ""), diag) == client_errc::empty_body);
    CHECK(diag.client_message == "the message body is empty");
    CHECK(check(message("T", "12345"), diag, 4) == client_errc::message_too_large);
    CHECK(diag.client_message.find("5 bytes") != std::string::npos);
    CHECK_FALSE(check(message("T", "1234"), diag, 4));
}

TEST_CASE("reserved, malformed and oversized properties")
{
    diagnostics diag;
    {
        message m("T", "b");
        m.set_property("UNIQ_KEY", "mine");
        CHECK(check(m, diag) == client_errc::reserved_property);
        CHECK(diag.client_message.find("'UNIQ_KEY'") != std::string::npos);
        m.erase_property("UNIQ_KEY");
        CHECK_FALSE(check(m, diag));
    }
    {
        // The library may set reserved names directly.
        message m("T", "b");
        m.properties_mut()["UNIQ_KEY"] = "0A00000112346D06D69C000F42400007";
        CHECK_FALSE(check(m, diag));
    }
    {
        message m("T", "b");
        m.set_property("a\x01" "b", "v");
        CHECK(check(m, diag) == client_errc::invalid_argument);
        CHECK(diag.client_message.find("separator") != std::string::npos);
    }
    {
        message m("T", "b");
        m.set_property("k", "v\x02");
        CHECK(check(m, diag) == client_errc::invalid_argument);
    }
    {
        message m("T", "b");
        m.set_property("k", "");
        CHECK(check(m, diag) == client_errc::invalid_argument);
        CHECK(diag.client_message.find("empty") != std::string::npos);
    }
    {
        // Blank as Java's trim() sees it: only bytes up to 0x20. The tag is not a user property.
        message m("T", "b");
        m.set_tags(" ");
        m.set_property("k", " x ");
        CHECK_FALSE(check(m, diag));
        m.set_property("k", " \t\r\n");
        CHECK(check(m, diag) == client_errc::invalid_argument);
        CHECK(diag.client_message.find("blank") != std::string::npos);
        m.erase_property("k");
        m.set_property("  ", "v");
        CHECK(check(m, diag) == client_errc::invalid_argument);
    }
    {
        message m("T", "b");
        // WAIT\x01true\x02 is 10 bytes; k\x01<v>\x02 adds 3 + v.
        m.set_property("k", std::string(32767 - 10 - 3, 'v'));
        CHECK_FALSE(check(m, diag));
        m.set_property("k", std::string(32767 - 10 - 3 + 1, 'v'));
        CHECK(check(m, diag) == client_errc::invalid_argument);
        CHECK(diag.client_message.find("32768") != std::string::npos);
    }
}
