// Message filtering (protocol.md §7.11): tag expressions ("TagA || TagB") with their Java hash
// codes, and an evaluator for the broker's SQL92 property filter grammar.
#pragma once

#include <corocket/error.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corocket {

namespace detail {
/// Java String.hashCode over the UTF-16 code units of a UTF-8 string (lib/message/codec.hpp).
std::int32_t java_string_hash(std::string_view utf8) noexcept;
struct sql_node;
}  // namespace detail

inline constexpr std::string_view expression_type_tag = "TAG";
inline constexpr std::string_view expression_type_sql92 = "SQL92";
/// The tag expression that matches everything.
inline constexpr std::string_view sub_all = "*";

/// SubscriptionData of the heartbeat (§6.1).
struct subscription_data {
    std::string topic;
    std::string sub_string;
    std::string expression_type = "TAG";
    std::vector<std::string> tags;      ///< tagsSet (empty for "*" and SQL92)
    std::vector<std::int32_t> codes;    ///< codeSet: java_string_hash of each tag
    std::int64_t sub_version = 0;

    bool matches_all() const noexcept { return sub_string == sub_all; }

    friend bool operator==(const subscription_data&, const subscription_data&) = default;
};

/// Parses a tag expression as Java's FilterAPI does: empty or "*" → everything (sub_string "*",
/// no tags); otherwise split on "||", trim, drop empty parts. Tags and codes are sets in Java:
/// here each is kept once, in first-seen order.
/// (Inline so that the library does not itself depend on the message layer's hash symbol.)
inline subscription_data parse_tag_expression(std::string topic, std::string_view expr);

namespace detail {
using tag_hash_function = std::int32_t (*)(std::string_view) noexcept;
/// parse_tag_expression with the tag hash function supplied (tests pass their own).
subscription_data parse_tag_expression(std::string topic, std::string_view expr, tag_hash_function hash);
}  // namespace detail

inline subscription_data parse_tag_expression(std::string topic, std::string_view expr)
{
    return detail::parse_tag_expression(std::move(topic), expr, &detail::java_string_hash);
}

/// Client-side re-filter of a pulled message by its TAGS property (hash collisions on the
/// broker): the tag must be one of the subscribed tags. Subscriptions without tags ("*", SQL92)
/// keep every message, as the Java client does.
bool tag_matches(const subscription_data& sub, std::optional<std::string_view> tag);

/// A compiled SQL92 property filter, as the broker evaluates it (three-valued logic: a
/// comparison with a missing property or mismatched types is unknown, and unknown never matches).
class sql_filter {
public:
    /// Compiles `expr`. On error returns client_errc::invalid_argument and, if error_message is
    /// not null, a description with the position of the problem.
    static error_code compile(std::string_view expr, sql_filter& out, std::string* error_message);

    /// Whether a message with these properties passes (`property` returns nullopt when absent).
    /// A default-constructed filter matches nothing.
    bool evaluate(const std::function<std::optional<std::string_view>(std::string_view name)>& property) const;

    const std::string& expression() const noexcept { return expression_; }

private:
    std::string expression_;
    std::shared_ptr<const detail::sql_node> root_;
};

}  // namespace corocket
