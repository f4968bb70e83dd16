#include "testing/broker_util.hpp"

#include "util/json.hpp"

#include <corocket/remoting/codes.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>

namespace corocket::testing::detail {

namespace rs = remoting::response_code;

std::optional<std::string> validate_topic(std::string_view topic)
{
    if (topic.find_first_not_of(" \t\r\n") == std::string_view::npos)
        return "The specified topic is blank.";
    const bool legal = std::all_of(topic.begin(), topic.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '%' || c == '|' ||
               c == '_' || c == '-';
    });
    if (!legal)
        return "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$";
    if (topic.size() > 127)
        return "The specified topic is longer than topic max length.";
    return std::nullopt;
}

std::vector<std::int64_t> parse_delay_levels(std::string_view text, double scale)
{
    std::vector<std::int64_t> out;
    while (!text.empty()) {
        auto sp = text.find(' ');
        auto item = text.substr(0, sp);
        text = sp == std::string_view::npos ? std::string_view{} : text.substr(sp + 1);
        if (item.empty())
            continue;
        std::int64_t unit = 1000;
        switch (item.back()) {
        case 's': unit = 1000; break;
        case 'm': unit = 60 * 1000; break;
        case 'h': unit = 60 * 60 * 1000; break;
        case 'd': unit = 24 * 60 * 60 * 1000; break;
        default: continue;
        }
        item.remove_suffix(1);
        std::int64_t n = 0;
        for (char c : item)
            n = n * 10 + (c - '0');
        out.push_back(static_cast<std::int64_t>(std::llround(static_cast<double>(n * unit) * scale)));
    }
    return out;
}

std::string offset_key(std::string_view topic, std::string_view group)
{
    std::string k(topic);
    k += '@';
    k += group;
    return k;
}

std::string injected_remark(int code)
{
    switch (code) {
    case rs::system_busy: return "[REJECTREQUEST]system busy, start flow control for a while";
    case rs::service_not_available:
        return "service not available now. It may be caused by one of the following reasons: the broker's disk is "
               "full, messages are put to the slave, message store has been shut down, etc.";
    default: return "injected failure";
    }
}

void header_reader::missing(std::string_view key)
{
    if (!error_)
        error_ = "org.apache.rocketmq.remoting.exception.RemotingCommandException: the custom field <" +
                 std::string(key) + "> is null";
}

std::string header_reader::str(std::string_view key)
{
    if (const std::string* v = f_.find(key))
        return *v;
    missing(key);
    return {};
}

std::int64_t header_reader::num(std::string_view key)
{
    if (auto v = f_.get_int(key))
        return *v;
    missing(key);
    return 0;
}

std::optional<std::string> header_reader::opt_str(std::string_view key) const
{
    if (const std::string* v = f_.find(key))
        return *v;
    return std::nullopt;
}

std::optional<std::int64_t> header_reader::opt_num(std::string_view key) const
{
    return f_.get_int(key);
}

bool header_reader::opt_bool(std::string_view key, bool fallback) const
{
    return f_.get_bool(key).value_or(fallback);
}

std::optional<boost::json::value> parse_body(std::string_view body)
{
    boost::json::value v;
    if (corocket::detail::parse_lenient_json(body, v))
        return std::nullopt;
    return v;
}

std::string json_text(const boost::json::value& v)
{
    return boost::json::serialize(v);
}

std::string json_string(const boost::json::object& o, std::string_view key)
{
    auto* v = o.if_contains(key);
    if (v && v->is_string())
        return std::string(v->as_string());
    return {};
}

std::int64_t json_int(const boost::json::object& o, std::string_view key, std::int64_t fallback)
{
    auto* v = o.if_contains(key);
    if (!v)
        return fallback;
    if (v->is_int64())
        return v->as_int64();
    if (v->is_uint64())
        return static_cast<std::int64_t>(v->as_uint64());
    if (v->is_double())
        return static_cast<std::int64_t>(v->as_double());
    return fallback;
}

bool json_bool(const boost::json::object& o, std::string_view key, bool fallback)
{
    auto* v = o.if_contains(key);
    return v && v->is_bool() ? v->as_bool() : fallback;
}

}  // namespace corocket::testing::detail
