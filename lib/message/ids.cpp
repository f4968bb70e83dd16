// UNIQ_KEY generation (protocol.md §5.1) and offset message ids (§5.2).
#include "message/bytes.hpp"
#include "message/ids.hpp"

#include <unistd.h>

#include <ctime>
#include <random>

namespace corocket::detail {

namespace {

constexpr char hex_digits[] = "0123456789ABCDEF";

int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void append_hex(std::string& out, std::string_view bytes)
{
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out.push_back(hex_digits[b >> 4]);
        out.push_back(hex_digits[b & 0x0F]);
    }
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// First instant of the local calendar month containing `now_ms`, shifted by `month_delta`
// months (mktime normalises an out-of-range tm_mon and resolves DST with tm_isdst = -1).
std::int64_t local_month_boundary_ms(std::int64_t now_ms, int month_delta)
{
    const std::time_t secs = static_cast<std::time_t>(floor_div(now_ms, 1000));
    std::tm tm{};
    localtime_r(&secs, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mon += month_delta;
    tm.tm_isdst = -1;
    return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
}

}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes)
{
    std::string out;
    out.reserve(bytes.size() * 2);
    append_hex(out, {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    return out;
}

std::optional<std::string> from_hex(std::string_view hex)
{
    if (hex.size() % 2 != 0) return std::nullopt;
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_value(hex[i]);
        const int lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi << 4 | lo));
    }
    return out;
}

std::int64_t local_month_start_ms(std::int64_t now_ms) { return local_month_boundary_ms(now_ms, 0); }

std::int64_t local_next_month_start_ms(std::int64_t now_ms) { return local_month_boundary_ms(now_ms, 1); }

uniq_id_generator::uniq_id_generator(std::span<const std::uint8_t> ip, std::uint32_t pid, std::uint32_t discriminator)
{
    std::string fixed;
    if (ip.size() == 4 || ip.size() == 16)
        fixed.assign(reinterpret_cast<const char*>(ip.data()), ip.size());
    else
        fixed.assign(4, '\0');
    put_be(fixed, static_cast<std::uint16_t>(pid));
    put_be(fixed, discriminator);
    append_hex(prefix_, fixed);
}

void uniq_id_generator::roll_month(std::int64_t now_ms)
{
    month_start_ms_ = local_month_start_ms(now_ms);
    next_month_start_ms_ = local_next_month_start_ms(now_ms);
}

std::string uniq_id_generator::next(std::chrono::system_clock::time_point now)
{
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    // Like Java, only roll forward: a clock stepping back across a month boundary keeps the
    // current month and yields a (clamped or wrapped) difference instead.
    if (next_month_start_ms_ == 0 || now_ms >= next_month_start_ms_) roll_month(now_ms);
    auto diff = static_cast<std::int32_t>(static_cast<std::uint32_t>(now_ms - month_start_ms_));
    if (diff < 0 && diff > -1'000'000) diff = 0;  // small NTP step back

    std::string variable;
    put_be(variable, diff);
    put_be(variable, counter_++);
    std::string id = prefix_;
    append_hex(id, variable);
    return id;
}

uniq_id_generator make_process_uniq_id_generator()
{
    const auto host = default_host_address();
    std::random_device rd;
    return uniq_id_generator(host.ip_bytes(), static_cast<std::uint32_t>(::getpid()), rd());
}

std::string make_offset_msg_id(const host_address& store_host, std::int64_t commit_log_offset)
{
    const auto ip = store_host.ip_bytes();
    std::string raw(reinterpret_cast<const char*>(ip.data()), ip.size());
    put_be<std::int32_t>(raw, store_host.port);
    put_be(raw, commit_log_offset);
    std::string out;
    out.reserve(raw.size() * 2);
    append_hex(out, raw);
    return out;
}

std::optional<std::pair<host_address, std::int64_t>> decode_offset_msg_id(std::string_view id)
{
    if (id.size() != 32 && id.size() != 56) return std::nullopt;
    const auto raw = from_hex(id);
    if (!raw) return std::nullopt;
    const std::size_t ip_len = id.size() == 32 ? 4 : 16;
    byte_reader in(std::string_view(*raw).substr(ip_len));
    std::int32_t port = 0;
    std::int64_t offset = 0;
    in.read(port);
    in.read(offset);
    if (port < 0 || port > 0xFFFF) return std::nullopt;
    auto host = host_address::from_bytes(
        {reinterpret_cast<const std::uint8_t*>(raw->data()), ip_len}, static_cast<std::uint16_t>(port));
    return std::pair{*host, offset};
}

}  // namespace corocket::detail
