#include <corocket/offset_store.hpp>

#include "consumer/requests.hpp"
#include "routing/json_fields.hpp"
#include "util/json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace corocket {

std::string offset_table_json(const offset_table& table)
{
    // Pretty-printed like Java's file, one entry per line; keys are MessageQueue objects.
    std::string out = "{\n\t\"offsetTable\":{";
    bool first = true;
    for (const auto& [mq, offset] : table) {
        out += first ? "\n\t\t" : ",\n\t\t";
        first = false;
        out += to_json(mq);
        out += ':';
        out += std::to_string(offset);
    }
    out += "\n\t}\n}";
    return out;
}

namespace {

error_code bad_body() { return make_error_code(client_errc::bad_body); }

error_code read_pair(const boost::json::value& key, const boost::json::value& value, offset_table& out)
{
    message_queue mq;
    std::int64_t offset = 0;
    if (key.is_string()) {
        if (detail::parse_message_queue_json(key.get_string(), mq))
            return bad_body();
    } else if (key.is_object()) {
        if (detail::parse_message_queue_json(detail::to_json(key), mq))
            return bad_body();
    } else {
        return bad_body();
    }
    if (!detail::json_to_int64(value, offset))
        return bad_body();
    out[std::move(mq)] = offset;
    return {};
}

error_code read_array(const boost::json::array& items, offset_table& out)
{
    for (const auto& item : items) {
        if (item.is_array() && item.get_array().size() == 2) {  // gson: [key, value]
            if (auto ec = read_pair(item.get_array()[0], item.get_array()[1], out))
                return ec;
            continue;
        }
        if (!item.is_object() || !item.get_object().contains("offset"))  // "for C": mq + offset
            return bad_body();
        if (auto ec = read_pair(item, item.get_object().at("offset"), out))
            return ec;
    }
    return {};
}

}  // namespace

error_code parse_offset_table_json(std::string_view json, offset_table& out)
{
    out.clear();
    boost::json::value v;
    if (detail::parse_lenient_json(json, v) || !v.is_object())
        return bad_body();
    const auto* table = v.get_object().if_contains("offsetTable");
    if (!table || table->is_null())
        return {};
    if (table->is_array())
        return read_array(table->get_array(), out);
    if (!table->is_object())
        return bad_body();
    for (const auto& [key, value] : table->get_object())
        if (auto ec = read_pair(boost::json::value(key), value, out))
            return ec;
    return {};
}

std::filesystem::path local_offset_file::default_path(std::string_view dir, std::string_view client_id,
                                                      std::string_view group)
{
    std::filesystem::path base;
    if (!dir.empty())
        base = dir;
    else if (const char* home = std::getenv("HOME"); home && *home)
        base = std::filesystem::path(home) / ".rocketmq_offsets";
    else
        base = ".rocketmq_offsets";
    return base / std::string(client_id) / std::string(group) / "offsets.json";
}

namespace {

bool read_file(const std::filesystem::path& p, std::string& out)
{
    std::ifstream in(p, std::ios::binary);
    if (!in)
        return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

}  // namespace

error_code local_offset_file::load(offset_table& out) const
{
    out.clear();
    std::string text;
    if (read_file(path_, text) && !parse_offset_table_json(text, out))
        return {};
    std::error_code ignored;  // (the throwing overloads would escape a consumer task)
    const bool main_exists = std::filesystem::exists(path_, ignored);
    auto bak = path_;
    bak += ".bak";
    if (read_file(bak, text) && !parse_offset_table_json(text, out))
        return {};
    out.clear();
    if (!main_exists && !std::filesystem::exists(bak, ignored))
        return {};  // nothing stored yet
    return bad_body();
}

error_code local_offset_file::save(const offset_table& table) const
{
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    if (ec)
        return ec;
    auto tmp = path_;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << offset_table_json(table);
        out.flush();
        if (!out)
            return std::make_error_code(std::errc::io_error);
    }
    if (std::filesystem::exists(path_, ec)) {
        auto bak = path_;
        bak += ".bak";
        std::filesystem::copy_file(path_, bak, std::filesystem::copy_options::overwrite_existing, ec);
        if (ec)
            return ec;
    }
    std::filesystem::rename(tmp, path_, ec);  // atomic replacement on POSIX
    return ec;
}

void offset_tracker::reset(std::int64_t next_offset) noexcept
{
    inflight_.clear();
    bytes_ = 0;
    next_ = next_offset;
}

void offset_tracker::add(std::int64_t offset, std::size_t bytes)
{
    if (inflight_.emplace(offset, bytes).second)
        bytes_ += bytes;
    if (offset + 1 > next_)
        next_ = offset + 1;
}

void offset_tracker::remove(std::int64_t offset) noexcept
{
    if (auto it = inflight_.find(offset); it != inflight_.end()) {
        bytes_ -= it->second;
        inflight_.erase(it);
    }
}

void offset_tracker::skip_to(std::int64_t next_offset) noexcept
{
    if (next_offset > next_)
        next_ = next_offset;
}

std::int64_t offset_tracker::committable() const noexcept
{
    return inflight_.empty() ? next_ : inflight_.begin()->first;
}

std::int64_t offset_tracker::span() const noexcept
{
    return inflight_.size() < 2 ? 0 : inflight_.rbegin()->first - inflight_.begin()->first;
}

}  // namespace corocket
