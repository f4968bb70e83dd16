// Unique ids (protocol.md §5.1), offset ids (§5.2) and the local host address.
#include "message/ids.hpp"
#include "test_helpers.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <set>

using namespace corocket;
using std::chrono::milliseconds;
using time_point = std::chrono::system_clock::time_point;

namespace {

// Sets TZ for the scope (POSIX rule strings need no tz database).
class scoped_tz {
public:
    explicit scoped_tz(const char* tz)
    {
        if (const char* old = std::getenv("TZ")) old_ = old;
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~scoped_tz()
    {
        if (old_)
            ::setenv("TZ", old_->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
    scoped_tz(const scoped_tz&) = delete;
    scoped_tz& operator=(const scoped_tz&) = delete;

private:
    std::optional<std::string> old_;
};

time_point at_ms(std::int64_t ms) { return time_point(milliseconds(ms)); }

// The 4-byte time field of an IPv4 id (hex characters 20..27).
std::uint32_t time_field(const std::string& id) { return static_cast<std::uint32_t>(std::stoul(id.substr(20, 8), nullptr, 16)); }

constexpr std::int64_t nov_2026_utc = 1793491200000;  // 2026-11-01T00:00:00Z
constexpr std::int64_t dec_2026_utc = 1796083200000;  // 2026-12-01T00:00:00Z
constexpr std::int64_t capture_ms = 1795319501000;    // 2026-11-22T03:51:41Z

const std::uint8_t ip4[] = {10, 0, 0, 1};

}  // namespace

TEST_CASE("month start is computed in local time")
{
    {
        scoped_tz tz("UTC0");
        CHECK(detail::local_month_start_ms(capture_ms) == nov_2026_utc);
        CHECK(detail::local_next_month_start_ms(capture_ms) == dec_2026_utc);
        CHECK(detail::local_month_start_ms(nov_2026_utc) == nov_2026_utc);
        CHECK(detail::local_month_start_ms(nov_2026_utc - 1) == 1790812800000);  // 2026-10-01
        // December rolls into January of the next year.
        CHECK(detail::local_next_month_start_ms(dec_2026_utc) == 1798761600000);  // 2027-01-01
    }
    {
        scoped_tz tz("CST-8");  // UTC+8: the month began 2026-10-31T16:00Z
        CHECK(detail::local_month_start_ms(capture_ms) == 1793462400000);
    }
    {
        // US Eastern: 2026-11-01 00:00 is still EDT (UTC-4); 2026-12-01 00:00 is EST (UTC-5).
        scoped_tz tz("EST5EDT,M3.2.0,M11.1.0");
        CHECK(detail::local_month_start_ms(capture_ms) == 1793505600000);
        CHECK(detail::local_next_month_start_ms(capture_ms) == 1796101200000);
    }
}

TEST_CASE("uniq ids: layout, counter and month roll-over")
{
    scoped_tz tz("UTC0");
    detail::uniq_id_generator gen(ip4, 0x1234, 0x6D06D69C);

    const auto first = gen.next(at_ms(nov_2026_utc + 1000000));
    CHECK(first == "0A00000112346D06D69C000F42400000");
    CHECK(gen.next(at_ms(nov_2026_utc + 1000000)) == "0A00000112346D06D69C000F42400001");

    // Last millisecond of November, then the first of December: the time field restarts.
    const auto late = gen.next(at_ms(dec_2026_utc - 1));
    CHECK(time_field(late) == static_cast<std::uint32_t>(dec_2026_utc - 1 - nov_2026_utc));
    CHECK(late.substr(20) == "9A7EC7FF0002");  // past 2^31: written as the low 32 bits
    CHECK(gen.next(at_ms(dec_2026_utc)) == "0A00000112346D06D69C000000000003");

    // A small step back (< 1000 s) clamps to 0; the month does not roll backwards.
    CHECK(gen.next(at_ms(dec_2026_utc - 500)).substr(20) == "000000000004");
}

TEST_CASE("uniq ids: the counter wraps at 16 bits and ids stay unique within a millisecond")
{
    scoped_tz tz("UTC0");
    detail::uniq_id_generator gen(ip4, 1, 2);
    std::set<std::string> seen;
    for (int i = 0; i < 65536; ++i) seen.insert(gen.next(at_ms(capture_ms)));
    CHECK(seen.size() == 65536);
    CHECK(gen.next(at_ms(capture_ms)).substr(28) == "0000");
}

TEST_CASE("uniq ids: IPv6 hosts give 56 hex characters")
{
    scoped_tz tz("UTC0");
    const auto host = *host_address::parse("[fd00::2]:0");
    // The first id of the acl capture's JVM (pid 0x7495, discriminator 0x5FFD2B27), generated
    // 1 ms before its bornTimestamp 1795319652712.
    detail::uniq_id_generator gen(host.ip_bytes(), 0x7495, 0x5FFD2B27);
    CHECK(gen.next(at_ms(1795319652711)) == "FD00000000000000000000000000000274955FFD2B276CFBF9670000");
    // A bad ip size falls back to 4 zero bytes.
    const std::uint8_t odd[] = {1, 2, 3};
    CHECK(detail::uniq_id_generator(odd, 0, 0).prefix() == "00000000000000000000");
}

TEST_CASE("the process generator uses the default host and pid")
{
    auto gen = detail::make_process_uniq_id_generator();
    const auto host = detail::default_host_address();
    CHECK(gen.prefix().substr(0, host.v6 ? 32 : 8) == detail::to_hex(host.ip_bytes()));
    const auto id = gen.next(std::chrono::system_clock::now());
    CHECK(id.size() == (host.v6 ? 56u : 32u));
}

TEST_CASE("offset message ids decode case-insensitively")
{
    auto v4 = detail::decode_offset_msg_id("c0a8010a00002a9f0000000000001234");
    REQUIRE(v4);
    CHECK(v4->first.to_string() == "192.168.1.10:10911");
    CHECK(v4->second == 0x1234);

    auto v6 = detail::decode_offset_msg_id("FE80000000000000000000000000000100002A9F0000000000001000");
    REQUIRE(v6);
    CHECK(v6->first.to_string() == "[fe80::1]:10911");
    CHECK(v6->second == 4096);
    CHECK(detail::make_offset_msg_id(v6->first, v6->second) == "FE80000000000000000000000000000100002A9F0000000000001000");

    CHECK_FALSE(detail::decode_offset_msg_id(""));
    CHECK_FALSE(detail::decode_offset_msg_id("C0A8010A00002A9F000000000000123"));   // 31 chars
    CHECK_FALSE(detail::decode_offset_msg_id("C0A8010A00002A9F000000000000123G"));  // bad digit
    CHECK_FALSE(detail::decode_offset_msg_id("C0A8010AFFFFFFFF0000000000001234"));  // negative port
    // Same shape as a UNIQ_KEY, but its pid/discriminator bytes make an impossible port.
    CHECK_FALSE(detail::decode_offset_msg_id("0A00000112346D06D69C000F42400007"));
}

TEST_CASE("hex helpers")
{
    const std::uint8_t bytes[] = {0x00, 0xAB, 0xFF};
    CHECK(detail::to_hex(bytes) == "00ABFF");
    CHECK(detail::from_hex("00abFF") == std::string("\x00\xAB\xFF", 3));
    CHECK_FALSE(detail::from_hex("0"));
    CHECK_FALSE(detail::from_hex("zz"));
}

TEST_CASE("the default host address is a usable non-loopback address or loopback")
{
    const auto host = detail::default_host_address();
    CHECK(host.port == 0);
    if (!host.v6 && host.ip[0] == 127) {
        CHECK(host.to_string() == "127.0.0.1:0");
    } else {
        CHECK(host.ip_string() != "::1");
        CHECK_FALSE(host.ip_string().starts_with("127."));
    }
}

TEST_CASE("captured UNIQ_KEYs carry ms since the start of the month (UTC capture host)")
{
    scoped_tz tz("UTC0");
    const auto frames = test::load_wire_frames([](const boost::json::object& a) { return a.contains("body_messages"); });
    std::size_t checked = 0;
    for (const auto& f : frames) {
        for (const auto& v : f.annot().at("body_messages").as_array()) {
            const auto& m = v.as_object();
            const auto& props = m.at("properties").as_object();
            if (!props.contains("UNIQ_KEY")) continue;
            const std::string id(props.at("UNIQ_KEY").as_string());
            REQUIRE(id.size() == 56);  // fd00::2
            const auto t = static_cast<std::int64_t>(std::stoul(id.substr(44, 8), nullptr, 16));
            const auto born = m.at("bornTimestamp").to_number<std::int64_t>();
            // Generated before the (first) send attempt; retried deliveries keep their id.
            const auto lag = born - (detail::local_month_start_ms(born) + t);
            INFO(f.where() << " " << id);
            CHECK(lag >= 0);
            CHECK(lag < 1000);
            ++checked;
        }
    }
    CHECK(checked == 95);
}
