// ext_fields and the LanguageCode table.
#include <corocket/remoting/command.hpp>

#include <algorithm>
#include <array>
#include <limits>

namespace corocket::remoting {
namespace {

// Indexed by the LanguageCode byte; the JSON spelling is the Java enum name.
constexpr std::array<const char*, 14> language_names = {
    "JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY",
    "OTHER", "HTTP", "GO", "PHP", "OMS", "RUST", "NODE_JS",
};

char ascii_lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

const char* language_name(language_code code) noexcept
{
    auto i = static_cast<std::size_t>(code);
    return i < language_names.size() ? language_names[i] : nullptr;
}

std::optional<language_code> language_from_name(std::string_view name) noexcept
{
    for (std::size_t i = 0; i < language_names.size(); ++i)
        if (name == language_names[i]) return static_cast<language_code>(i);
    return std::nullopt;
}

void ext_fields::set(std::string_view key, std::string value)
{
    for (auto& item : items_) {
        if (item.first == key) {
            item.second = std::move(value);
            return;
        }
    }
    items_.emplace_back(std::string(key), std::move(value));
}

void ext_fields::set(value_type entry)
{
    for (auto& item : items_) {
        if (item.first == entry.first) {
            item.second = std::move(entry.second);
            return;
        }
    }
    items_.push_back(std::move(entry));
}

bool ext_fields::erase(std::string_view key)
{
    auto it = std::find_if(items_.begin(), items_.end(), [key](const value_type& v) { return v.first == key; });
    if (it == items_.end()) return false;
    items_.erase(it);
    return true;
}

const std::string* ext_fields::find(std::string_view key) const noexcept
{
    for (const auto& item : items_)
        if (item.first == key) return &item.second;
    return nullptr;
}

std::optional<std::int64_t> ext_fields::get_int(std::string_view key) const noexcept
{
    const std::string* v = find(key);
    if (v == nullptr || v->empty()) return std::nullopt;
    // Long.parseLong: one optional sign ('+' or '-'), then at least one decimal digit, nothing else.
    std::string_view s = *v;
    bool negative = s.front() == '-';
    if (negative || s.front() == '+') s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
    // Accumulate as a negative number so that INT64_MIN parses without overflow.
    constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
    std::int64_t acc = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        int digit = c - '0';
        if (acc < (min + digit) / 10) return std::nullopt;
        acc = acc * 10 - digit;
    }
    if (!negative) {
        if (acc == min) return std::nullopt;
        acc = -acc;
    }
    return acc;
}

std::optional<bool> ext_fields::get_bool(std::string_view key) const noexcept
{
    const std::string* v = find(key);
    if (v == nullptr) return std::nullopt;
    constexpr std::string_view t = "true";
    return v->size() == t.size() &&
           std::equal(v->begin(), v->end(), t.begin(), [](char a, char b) { return ascii_lower(a) == b; });
}

std::string_view ext_fields::get(std::string_view key) const noexcept
{
    const std::string* v = find(key);
    return v != nullptr ? std::string_view(*v) : std::string_view();
}

}  // namespace corocket::remoting
