// Stored record (protocol.md §4.4) and compact batch entry (§4.5) codecs.
#include "message/bytes.hpp"
#include "message/codec.hpp"

namespace corocket::detail {

namespace {

constexpr std::size_t host_field_size(bool v6) noexcept { return v6 ? 20 : 8; }

bool uses_v2(const stored_record& rec) noexcept
{
    return rec.version == record_version::v2 || rec.topic.size() > max_v1_topic_length;
}

std::int32_t sys_flag_for_hosts(const stored_record& rec) noexcept
{
    auto flag = rec.sys_flag & ~(sys_flag::born_host_v6 | sys_flag::store_host_v6);
    if (rec.born_host.v6) flag |= sys_flag::born_host_v6;
    if (rec.store_host.v6) flag |= sys_flag::store_host_v6;
    return flag;
}

void put_host(std::string& out, const host_address& host)
{
    const auto ip = host.ip_bytes();
    out.append(reinterpret_cast<const char*>(ip.data()), ip.size());
    put_be<std::int32_t>(out, host.port);
}

bool read_host(byte_reader& in, bool v6, host_address& host) noexcept
{
    std::string_view ip;
    std::int32_t port = 0;
    if (!in.read_bytes(v6 ? 16 : 4, ip) || !in.read(port)) return false;
    host = host_address{};
    host.v6 = v6;
    for (std::size_t i = 0; i < ip.size(); ++i) host.ip[i] = static_cast<std::uint8_t>(ip[i]);
    // The port is written as an int; anything outside 0..65535 is a corrupt record.
    if (port < 0 || port > 0xFFFF) return false;
    host.port = static_cast<std::uint16_t>(port);
    return true;
}

// Reads a length-prefixed byte string whose length field is a signed Int; negative → error.
template <class Int>
bool read_sized(byte_reader& in, std::string_view& out) noexcept
{
    Int len = 0;
    if (!in.read(len) || len < 0) return false;
    return in.read_bytes(static_cast<std::size_t>(len), out);
}

error_code bad_message() noexcept { return make_error_code(client_errc::bad_message); }

// The fields after TOTALSIZE and MAGICCODE whose positions never move.
void read_leading(byte_reader& in, stored_fields& rec) noexcept
{
    in.read(rec.body_crc);
    in.read(rec.queue_id);
    in.read(rec.flag);
    in.read(rec.queue_offset);
    in.read(rec.commit_log_offset);
    in.read(rec.sys_flag);
    in.read(rec.born_timestamp);
}

record_version version_of(std::int32_t magic) noexcept
{
    return magic == magic_v2 ? record_version::v2 : record_version::v1;
}

}  // namespace

std::size_t stored_size(const stored_record& rec) noexcept
{
    return 72 + host_field_size(rec.born_host.v6) + host_field_size(rec.store_host.v6) + rec.body.size()
        + (uses_v2(rec) ? 2 : 1) + rec.topic.size() + 2 + rec.properties.size();
}

void encode_stored(const stored_record& rec, std::string& out)
{
    const auto total = stored_size(rec);
    out.reserve(out.size() + total);
    put_be(out, static_cast<std::int32_t>(total));
    put_be(out, uses_v2(rec) ? magic_v2 : magic_v1);
    put_be(out, body_crc(rec.body));
    put_be(out, rec.queue_id);
    put_be(out, rec.flag);
    put_be(out, rec.queue_offset);
    put_be(out, rec.commit_log_offset);
    put_be(out, sys_flag_for_hosts(rec));
    put_be(out, rec.born_timestamp);
    put_host(out, rec.born_host);
    put_be(out, rec.store_timestamp);
    put_host(out, rec.store_host);
    put_be(out, rec.reconsume_times);
    put_be(out, rec.prepared_transaction_offset);
    put_be(out, static_cast<std::int32_t>(rec.body.size()));
    out.append(rec.body);
    if (uses_v2(rec))
        put_be(out, static_cast<std::int16_t>(rec.topic.size()));
    else
        put_be(out, static_cast<std::int8_t>(rec.topic.size()));
    out.append(rec.topic);
    put_be(out, static_cast<std::int16_t>(rec.properties.size()));
    out.append(rec.properties);
}

error_code decode_stored(std::string_view one_record, stored_record_view& out)
{
    byte_reader in(one_record);
    std::int32_t total = 0;
    std::int32_t magic = 0;
    if (!in.read(total) || !in.read(magic)) return bad_message();
    if (total < 0 || static_cast<std::size_t>(total) != one_record.size()) return bad_message();
    if (magic != magic_v1 && magic != magic_v2) return bad_message();

    stored_record_view rec;
    rec.version = version_of(magic);
    read_leading(in, rec);
    if (!in.ok() || !read_host(in, (rec.sys_flag & sys_flag::born_host_v6) != 0, rec.born_host)) return bad_message();
    in.read(rec.store_timestamp);
    if (!in.ok() || !read_host(in, (rec.sys_flag & sys_flag::store_host_v6) != 0, rec.store_host)) return bad_message();
    in.read(rec.reconsume_times);
    in.read(rec.prepared_transaction_offset);

    if (!read_sized<std::int32_t>(in, rec.body)) return bad_message();
    const bool topic_ok = rec.version == record_version::v2 ? read_sized<std::int16_t>(in, rec.topic)
                                                              : read_sized<std::int8_t>(in, rec.topic);
    if (!topic_ok || !read_sized<std::int16_t>(in, rec.properties)) return bad_message();
    // Trailing bytes inside TOTALSIZE are tolerated (future fields), as §4.4.3 asks.
    out = rec;
    return {};
}

error_code decode_stored(std::string_view one_record, stored_record& out)
{
    stored_record_view view;
    if (auto ec = decode_stored(one_record, view)) return ec;
    static_cast<stored_fields&>(out) = view;
    out.body.assign(view.body);
    out.topic.assign(view.topic);
    out.properties.assign(view.properties);
    return {};
}

void decode_leading_fields(std::string_view one_record, stored_fields& out) noexcept
{
    byte_reader in(one_record);
    std::int32_t total = 0;
    std::int32_t magic = 0;
    in.read(total);
    in.read(magic);
    out.version = version_of(magic);
    read_leading(in, out);
}

error_code split_stored_records(std::string_view body, std::vector<std::string_view>& out)
{
    while (!body.empty()) {
        byte_reader in(body);
        std::int32_t total = 0;
        if (!in.read(total) || total < static_cast<std::int32_t>(min_stored_record_size)
            || static_cast<std::size_t>(total) > body.size())
            return bad_message();
        out.push_back(body.substr(0, static_cast<std::size_t>(total)));
        body.remove_prefix(static_cast<std::size_t>(total));
    }
    return {};
}

void encode_batch_entry(std::int32_t flag, std::string_view body, std::string_view properties, std::string& out)
{
    out.reserve(out.size() + batch_entry_size(body.size(), properties.size()));
    put_be(out, static_cast<std::int32_t>(batch_entry_size(body.size(), properties.size())));
    put_be(out, std::int32_t{0});  // magic code: unused in batches
    put_be(out, std::int32_t{0});  // body CRC: computed by the broker
    put_be(out, flag);
    put_be(out, static_cast<std::int32_t>(body.size()));
    out.append(body);
    put_be(out, static_cast<std::int16_t>(properties.size()));
    out.append(properties);
}

error_code decode_batch(std::string_view body, std::vector<batch_entry>& out)
{
    byte_reader in(body);
    while (in.remaining() > 0) {
        const auto start = in.position();
        std::int32_t total = 0;
        batch_entry entry;
        in.read(total);
        in.skip(8);  // magic code and body CRC carry nothing in a batch
        in.read(entry.flag);
        if (!read_sized<std::int32_t>(in, entry.body) || !read_sized<std::int16_t>(in, entry.properties))
            return bad_message();
        if (total < 0 || static_cast<std::size_t>(total) != in.position() - start) return bad_message();
        out.push_back(entry);
    }
    return {};
}

}  // namespace corocket::detail
