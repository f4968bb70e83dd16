#include "broker_client.hpp"

#include <boost/json.hpp>

namespace corocket::test {

std::string heartbeat_body(const std::string& client_id, const std::vector<std::string>& producer_groups,
                           const std::string& consumer_group, const std::vector<subscription>& subs,
                           const std::string& model)
{
    namespace json = boost::json;
    json::object hb;
    hb["clientID"] = client_id;
    json::array consumers;
    if (!consumer_group.empty()) {
        json::object c;
        c["consumeFromWhere"] = "CONSUME_FROM_FIRST_OFFSET";
        c["consumeType"] = "CONSUME_PASSIVELY";
        c["groupName"] = consumer_group;
        c["messageModel"] = model;
        json::array set;
        for (const auto& s : subs) {
            json::object d;
            d["classFilterMode"] = false;
            json::array tags, codes;
            if (s.type == "TAG" && s.expression != "*") {
                std::string_view rest = s.expression;
                while (!rest.empty()) {
                    auto bar = rest.find("||");
                    auto tag = rest.substr(0, bar);
                    while (!tag.empty() && tag.front() == ' ')
                        tag.remove_prefix(1);
                    while (!tag.empty() && tag.back() == ' ')
                        tag.remove_suffix(1);
                    if (!tag.empty()) {
                        tags.emplace_back(tag);
                        std::int32_t h = 0;
                        for (char ch : tag)
                            h = static_cast<std::int32_t>(static_cast<std::uint32_t>(h) * 31u + static_cast<unsigned char>(ch));
                        codes.emplace_back(h);
                    }
                    rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 2);
                }
            }
            d["codeSet"] = std::move(codes);
            d["expressionType"] = s.type;
            d["subString"] = s.expression;
            d["subVersion"] = s.version;
            d["tagsSet"] = std::move(tags);
            d["topic"] = s.topic;
            set.push_back(std::move(d));
        }
        c["subscriptionDataSet"] = std::move(set);
        c["unitMode"] = false;
        consumers.push_back(std::move(c));
    }
    hb["consumerDataSet"] = std::move(consumers);
    json::array producers;
    for (const auto& g : producer_groups) {
        json::object p;
        p["groupName"] = g;
        producers.push_back(std::move(p));
    }
    hb["producerDataSet"] = std::move(producers);
    return json::serialize(hb);
}

}  // namespace corocket::test
