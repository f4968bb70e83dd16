// Subscriptions: a tag expression (with non-ASCII tags, whose hash codes the broker filters by)
// and an SQL92 expression over user properties pick the same messages, in the same order, for
// Java and corocket consumers, whichever client sent them.
#include "interop_env.hpp"

#include <corocket/producer.hpp>

#include <catch2/catch.hpp>

namespace asio = boost::asio;
using namespace corocket;
using namespace corocket::test;
using namespace std::chrono_literals;

namespace {

/// One consumer thread, one queue: each consumer sees its messages in queue order.
push_options sequential(std::string group)
{
    auto o = interop_push_options(std::move(group));
    o.max_concurrency = 1;
    return o;
}

std::vector<std::string> bodies(const std::vector<json::object>& views)
{
    std::vector<std::string> out;
    for (const auto& v : views)
        out.push_back(text(v, "body"));
    return out;
}

}  // namespace

TEST_CASE("filters: tag expressions (non-ASCII tags too) and SQL92 pick the same messages in both clients")
{
    INTEROP_OR_SKIP();
    run_interop([](asio::io_context& ioc) -> asio::awaitable<void> {
        consumer_cluster cluster(ioc.get_executor());
        const auto topic = unique_name("IopFilter");
        co_await cluster.create_topic(topic, 1);  // one queue: the marker sent last arrives last
        java_peer peer(ioc.get_executor(), cluster.namesrv());
        co_await peer.start();
        const std::string tags = "TagA || Тег || 😀tag";
        const std::string sql = "color = 'красный' AND n > 1";
        auto java_by_tag = json::object{{"op", "consumer"}, {"id", "jt"},   {"group", unique_name("CGJT")},
                                        {"topic", topic},   {"expr", tags}, {"threads", 1}};
        auto java_by_sql = json::object{{"op", "consumer"}, {"id", "js"}, {"group", unique_name("CGJS")},
                                        {"topic", topic},   {"sql", sql}, {"threads", 1}};
        co_await peer.call(std::move(java_by_tag));
        co_await peer.call(std::move(java_by_sql));
        recording_consumer by_tag(ioc.get_executor(), cluster.config(), sequential(unique_name("CGCT")));
        recording_consumer by_sql(ioc.get_executor(), cluster.config(), sequential(unique_name("CGCS")));
        by_tag.start(topic, tags);
        by_sql.start_sql92(topic, sql);
        auto java_producer = json::object{{"op", "producer"}, {"id", "p"}, {"group", unique_name("PG")}};
        co_await peer.call(std::move(java_producer));
        client sender(ioc.get_executor(), cluster.config());
        producer p(sender, {.group = unique_name("PGC"), .send_timeout = 15s});
        REQUIRE_FALSE(p.start());

        const std::vector<std::string> tag_pool{"TagA", "Тег", "😀tag", "Other", ""};
        std::vector<std::string> tag_matches, sql_matches;
        auto send = [&](int i, std::string body, std::string tag, std::string color, int n) -> asio::awaitable<void> {
            message m(topic, body);
            if (!tag.empty())
                m.set_tags(tag);
            m.set_property("color", color);
            m.set_property("n", std::to_string(n));
            if (i % 2) {
                co_await java_send_one(peer, "p", "sync", m);
            } else {
                auto [ec, r] = co_await p.async_send(m, tuple_token);
                REQUIRE_FALSE(ec);
            }
            if (tag == "TagA" || tag == "Тег" || tag == "😀tag")
                tag_matches.push_back(base64(body));
            if (color == "красный" && n > 1)
                sql_matches.push_back(base64(body));
        };
        for (int i = 0; i < 30; ++i) {
            const auto* color = i % 3 ? "blue" : "красный";
            co_await send(i, "m" + std::to_string(i), tag_pool[i % tag_pool.size()], color, i % 4);
        }
        co_await send(0, "marker", "TagA", "красный", 9);  // matches both filters

        const auto marker = base64("marker");
        auto has_marker = [&](const std::vector<json::object>& views) {
            return !views.empty() && text(views.back(), "body") == marker;
        };
        const bool arrived = co_await wait_until(
            [&] {
                return has_marker(by_tag.received) && has_marker(by_sql.received) &&
                       has_marker(peer.messages("recv", "jt")) && has_marker(peer.messages("recv", "js"));
            },
            delivery_wait);
        CHECK(arrived);
        CHECK(bodies(peer.messages("recv", "jt")) == tag_matches);
        CHECK(bodies(by_tag.received) == tag_matches);
        CHECK(bodies(peer.messages("recv", "js")) == sql_matches);
        CHECK(bodies(by_sql.received) == sql_matches);
        co_await p.async_stop(tuple_token);
        co_await by_tag.stop();
        co_await by_sql.stop();
        co_await sender.async_stop(tuple_token);
        co_await peer.close();
        co_await cluster.close();
    });
}
