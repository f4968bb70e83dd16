// What the clients refuse to send: the same messages are refused by the Java producer
// (Validators.checkMessage, Message.putUserProperty, MessageBatch.generateFromList) and by
// corocket's, before anything reaches the broker; the same borderline ones pass both.
#include "interop_env.hpp"

#include <corocket/producer.hpp>

#include <catch2/catch.hpp>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

struct validation_case {
    std::string what;
    std::vector<message> msgs;  // one message, or a batch
    bool accepted = false;
};

std::vector<validation_case> validation_cases(const std::string& topic)
{
    message delayed(topic, "delayed");
    delayed.set_delay_level(2);
    message tagged_blank(topic, "blank tag");
    tagged_blank.set_tags(" ");  // TAGS is the client's, not a user property: no blank check
    return {
        {"an empty body", {message(topic, "")}},
        {"a reserved user property", {with_properties(message(topic, "b"), {{"UNIQ_KEY", "mine"}})}},
        {"a topic with a space", {message("bad topic", "b")}},
        {"a blank user property value", {with_properties(message(topic, "b"), {{"k", " \t "}})}},
        {"a blank user property name", {with_properties(message(topic, "b"), {{"  ", "v"}})}},
        {"a body over 4 MiB", {message(topic, std::string((4u << 20) + 1, 'x'))}},
        {"a delay level in a batch", {message(topic, "plain"), delayed}},
        {"a batch over two topics", {message(topic, "one"), message(topic + "X", "two")}},
        {"a user property with spaces around text", {with_properties(message(topic, "b"), {{" k ", " v "}})}, true},
        {"a blank tag", {tagged_blank}, true},
        {"a body of exactly 4 MiB", {message(topic, std::string(4u << 20, 'x'))}, true},
    };
}

}  // namespace

TEST_CASE("validation: Java's producer and corocket's refuse the same messages, and let the same ones pass")
{
    INTEROP_OR_SKIP();
    run_interop([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("IopValid");
        co_await cluster.create_topic(topic, 1);
        java_peer peer(ioc.get_executor(), cluster.namesrv());
        co_await peer.start();
        auto java_producer = json::object{{"op", "producer"}, {"id", "p"}, {"group", unique_name("PG")}};
        co_await peer.call(std::move(java_producer));
        client c(ioc.get_executor(), cluster.config());
        producer p(c, {.group = unique_name("PGC"), .send_timeout = 15s});
        REQUIRE_FALSE(p.start());
        for (auto& v : validation_cases(topic)) {
            json::array wire;
            for (const auto& m : v.msgs)
                wire.push_back(to_peer(m));
            const bool batch = v.msgs.size() > 1;
            auto send = json::object{{"op", "send"}, {"id", "p"}, {"mode", batch ? "batch" : "sync"}, {"msgs", wire}};
            auto java = co_await peer.try_call(std::move(send));
            error_code ours;
            send_result r;
            if (batch)
                std::tie(ours, r) = co_await p.async_send_batch(v.msgs, tuple_token);
            else
                std::tie(ours, r) = co_await p.async_send(v.msgs.front(), tuple_token);
            INFO(v.what << ": Java " << (java.at("ok").as_bool() ? "sent it" : text(java, "error")) << "; corocket "
                        << (ours ? ours.message() + " (" + r.diag.to_string() + ")" : "sent it"));
            CHECK(java.at("ok").as_bool() == v.accepted);
            CHECK(!ours == v.accepted);
        }
        co_await p.async_stop(tuple_token);
        co_await c.async_stop(tuple_token);
        co_await peer.close();
        co_await cluster.close();
    });
}
