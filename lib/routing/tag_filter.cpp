// Tag expressions (protocol.md §7.11): "TagA || TagB" → tagsSet + codeSet, and the client-side
// re-filter of pulled messages.
#include <corocket/filter.hpp>

#include <algorithm>

namespace corocket {
namespace {

// Java's String.trim: strips every character <= U+0020 at both ends.
std::string_view java_trim(std::string_view s) noexcept
{
    while (!s.empty() && static_cast<unsigned char>(s.front()) <= 0x20)
        s.remove_prefix(1);
    while (!s.empty() && static_cast<unsigned char>(s.back()) <= 0x20)
        s.remove_suffix(1);
    return s;
}

template <class T, class U>
void add_unique(std::vector<T>& set, U&& value)
{
    if (std::find(set.begin(), set.end(), value) == set.end())
        set.emplace_back(std::forward<U>(value));
}

}  // namespace

namespace detail {

subscription_data parse_tag_expression(std::string topic, std::string_view expr, tag_hash_function hash)
{
    subscription_data sub;
    sub.topic = std::move(topic);
    sub.expression_type = std::string(expression_type_tag);
    if (expr.empty() || expr == sub_all) {
        sub.sub_string = std::string(sub_all);
        return sub;
    }
    sub.sub_string = std::string(expr);
    constexpr std::string_view separator = "||";
    for (;;) {
        const auto end = expr.find(separator);
        const auto tag = java_trim(expr.substr(0, end));
        if (!tag.empty()) {
            add_unique(sub.tags, std::string(tag));
            add_unique(sub.codes, hash(tag));
        }
        if (end == std::string_view::npos)
            break;
        expr.remove_prefix(end + separator.size());
    }
    return sub;
}

}  // namespace detail

bool tag_matches(const subscription_data& sub, std::optional<std::string_view> tag)
{
    // As PullAPIWrapper: only a non-empty tag set filters ("*" and SQL92 have none).
    if (sub.tags.empty())
        return true;
    return tag && std::find(sub.tags.begin(), sub.tags.end(), *tag) != sub.tags.end();
}

}  // namespace corocket
