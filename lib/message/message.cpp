// message (owning), host_address, compression type names and the reserved property list.
#include <corocket/message.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <iterator>
#include <charconv>

namespace corocket {

namespace {

// The ✓ entries of protocol.md §4.2.
constexpr std::string_view reserved_names[] = {
    property_name::keys, property_name::tags, property_name::wait, property_name::delay,
    property_name::retry_topic, property_name::real_topic, property_name::real_qid, property_name::tran_msg,
    property_name::pgroup, property_name::min_offset, property_name::max_offset, property_name::buyer_id,
    property_name::origin_message_id, property_name::transfer_flag, property_name::correction_flag,
    property_name::mq2_flag, property_name::reconsume_time, property_name::msg_region, property_name::trace_on,
    property_name::uniq_key, property_name::extend_uniq_info, property_name::max_reconsume_times,
    property_name::consume_start_time, property_name::dup_info, property_name::tran_prepared_queue_offset,
    property_name::instance_id, property_name::correlation_id, property_name::reply_to_client, property_name::ttl,
    property_name::arrive_time, property_name::push_reply_time, property_name::cluster, property_name::msg_type,
    property_name::pop_ck, property_name::pop_ck_offset, property_name::first_pop_time,
    property_name::inner_multi_dispatch, property_name::inner_multi_queue_offset, property_name::timer_deliver_ms,
    property_name::timer_delay_sec, property_name::timer_delay_ms, property_name::timer_enqueue_ms,
    property_name::timer_dequeue_ms, property_name::timer_roll_times, property_name::timer_out_ms,
    property_name::timer_del_uniqkey, property_name::timer_delay_level, property_name::born_host,
    property_name::born_timestamp, property_name::crc32,
};
constexpr std::string_view reserved_dlq_names[] = {
    property_name::dlq_origin_topic, property_name::dlq_origin_message_id,
};

template <class Int>
std::optional<Int> parse_int(std::string_view text) noexcept
{
    Int value{};
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end) return std::nullopt;
    return value;
}

bool iequals(std::string_view a, std::string_view b) noexcept
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
    });
}

std::string_view value_or_empty(const properties& props, std::string_view name) noexcept
{
    const auto it = props.find(name);
    return it == props.end() ? std::string_view{} : std::string_view(it->second);
}

// Sets `name` to `value`, or removes it when `value` is empty.
void set_or_erase(properties& props, std::string_view name, std::string value)
{
    if (value.empty()) {
        if (auto it = props.find(name); it != props.end()) props.erase(it);
        return;
    }
    props.insert_or_assign(std::string(name), std::move(value));
}

}  // namespace

bool is_reserved_property(std::string_view name) noexcept
{
    auto has = [name](const auto& set) { return std::find(std::begin(set), std::end(set), name) != std::end(set); };
    return has(reserved_names) || has(reserved_dlq_names);
}

message::message()
{
    properties_.emplace(property_name::wait, "true");
}

message::message(std::string topic, std::string body) : message()
{
    topic_ = std::move(topic);
    body_ = std::move(body);
}

std::string_view message::tags() const noexcept { return value_or_empty(properties_, property_name::tags); }

void message::set_tags(std::string tags) { set_or_erase(properties_, property_name::tags, std::move(tags)); }

std::vector<std::string> message::keys() const
{
    std::vector<std::string> out;
    std::string_view rest = value_or_empty(properties_, property_name::keys);
    while (!rest.empty()) {
        const auto space = rest.find(' ');
        if (space != 0) out.emplace_back(rest.substr(0, space));
        rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    }
    return out;
}

void message::set_keys(const std::vector<std::string>& keys)
{
    std::string joined;
    for (const auto& key : keys) {
        if (key.empty()) continue;
        if (!joined.empty()) joined.push_back(' ');
        joined.append(key);
    }
    set_or_erase(properties_, property_name::keys, std::move(joined));
}

void message::set_key(std::string key) { set_or_erase(properties_, property_name::keys, std::move(key)); }

int message::delay_level() const noexcept
{
    return parse_int<int>(value_or_empty(properties_, property_name::delay)).value_or(0);
}

void message::set_delay_level(int level)
{
    set_or_erase(properties_, property_name::delay, level > 0 ? std::to_string(level) : std::string{});
}

std::optional<std::int64_t> message::delivery_time_ms() const noexcept
{
    return parse_int<std::int64_t>(value_or_empty(properties_, property_name::timer_deliver_ms));
}

void message::set_delivery_time(std::chrono::system_clock::time_point when)
{
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
    properties_.insert_or_assign(std::string(property_name::timer_deliver_ms), std::to_string(ms));
}

std::string_view message::sharding_key() const noexcept
{
    return value_or_empty(properties_, property_name::sharding_key);
}

void message::set_sharding_key(std::string key)
{
    set_or_erase(properties_, property_name::sharding_key, std::move(key));
}

bool message::wait_store_ok() const noexcept
{
    // Java: absent → true, otherwise Boolean.parseBoolean (only "true", any case, is true).
    const auto it = properties_.find(property_name::wait);
    return it == properties_.end() || iequals(it->second, "true");
}

void message::set_wait_store_ok(bool wait)
{
    properties_.insert_or_assign(std::string(property_name::wait), wait ? "true" : "false");
}

void message::set_property(std::string name, std::string value)
{
    if (reserved_user_property_.empty() && is_reserved_property(name)) reserved_user_property_ = name;
    properties_.insert_or_assign(std::move(name), std::move(value));
}

std::optional<std::string_view> message::property(std::string_view name) const noexcept
{
    const auto it = properties_.find(name);
    if (it == properties_.end()) return std::nullopt;
    return std::string_view(it->second);
}

void message::erase_property(std::string_view name)
{
    if (auto it = properties_.find(name); it != properties_.end()) properties_.erase(it);
    if (reserved_user_property_ == name) reserved_user_property_.clear();
}

std::string_view to_string(compression_type t) noexcept
{
    switch (t) {
    case compression_type::lz4: return "LZ4";
    case compression_type::zstd: return "ZSTD";
    case compression_type::zlib: return "ZLIB";
    }
    return "ZLIB";
}

std::string host_address::ip_string() const
{
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(v6 ? AF_INET6 : AF_INET, ip.data(), text, sizeof text);
    return text;
}

std::string host_address::to_string() const
{
    std::string out;
    if (v6) out.push_back('[');
    out.append(ip_string());
    if (v6) out.push_back(']');
    out.push_back(':');
    out.append(std::to_string(port));
    return out;
}

std::optional<host_address> host_address::parse(std::string_view text)
{
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto host = text.substr(0, colon);
    const auto port = parse_int<std::uint16_t>(text.substr(colon + 1));
    if (!port) return std::nullopt;
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return std::nullopt;

    char buf[INET6_ADDRSTRLEN] = {};
    std::copy(host.begin(), host.end(), buf);
    host_address out;
    out.port = *port;
    if (!bracketed && ::inet_pton(AF_INET, buf, out.ip.data()) == 1) return out;
    // Java prints IPv6 socket addresses without brackets ("fd00:0:0:0:0:0:0:2:10911").
    if (::inet_pton(AF_INET6, buf, out.ip.data()) == 1) {
        out.v6 = true;
        return out;
    }
    return std::nullopt;
}

std::optional<host_address> host_address::from_bytes(std::span<const std::uint8_t> bytes, std::uint16_t port)
{
    if (bytes.size() != 4 && bytes.size() != 16) return std::nullopt;
    host_address out;
    std::copy(bytes.begin(), bytes.end(), out.ip.begin());
    out.v6 = bytes.size() == 16;
    out.port = port;
    return out;
}

}  // namespace corocket
