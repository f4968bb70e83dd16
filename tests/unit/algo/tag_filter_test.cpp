#include <corocket/filter.hpp>

#include <catch2/catch.hpp>

#include <string>

using corocket::subscription_data;

namespace {

// Stand-in hash for the parsing tests: the tag's length, so collisions are easy to build.
std::int32_t length_hash(std::string_view s) noexcept
{
    return static_cast<std::int32_t>(s.size());
}

subscription_data parse(std::string_view expr)
{
    return corocket::detail::parse_tag_expression("T", expr, length_hash);
}

}  // namespace

TEST_CASE("tag expression: '*' and empty subscribe to everything", "[filter]")
{
    for (std::string_view expr : {"", "*"}) {
        const auto sub = parse(expr);
        CHECK(sub.topic == "T");
        CHECK(sub.sub_string == "*");
        CHECK(sub.expression_type == "TAG");
        CHECK(sub.tags.empty());
        CHECK(sub.codes.empty());
        CHECK(sub.matches_all());
    }
}

TEST_CASE("tag expression: split on ||, trimmed, empty parts dropped, sets without duplicates", "[filter]")
{
    const auto sub = parse("  TagA ||TagB||| |TagA|| Tag\tC ");
    CHECK(sub.sub_string == "  TagA ||TagB||| |TagA|| Tag\tC ");
    // "|||" splits as "||" + "|": the third tag keeps its lone pipes.
    CHECK(sub.tags == std::vector<std::string>{"TagA", "TagB", "| |TagA", "Tag\tC"});
    // Codes form a set too: TagA and TagB collide under the stand-in hash.
    CHECK(sub.codes == std::vector<std::int32_t>{4, 7, 5});
    CHECK_FALSE(sub.matches_all());

    // Nothing but separators: no tags at all (Java keeps the string and an empty set).
    const auto degenerate = parse(" || ");
    CHECK(degenerate.tags.empty());
    CHECK(degenerate.sub_string == " || ");
    // " * " is not "*": it is the tag "*".
    CHECK(parse(" * ").tags == std::vector<std::string>{"*"});
}

TEST_CASE("tag_matches: the client-side re-filter", "[filter]")
{
    const auto sub = parse("TagA || TagB");
    CHECK(corocket::tag_matches(sub, std::string_view("TagA")));
    CHECK(corocket::tag_matches(sub, std::string_view("TagB")));
    // Same hash as TagA under the stand-in: the broker lets it through, the client must not.
    CHECK_FALSE(corocket::tag_matches(sub, std::string_view("TagC")));
    CHECK_FALSE(corocket::tag_matches(sub, std::string_view("taga")));
    CHECK_FALSE(corocket::tag_matches(sub, std::nullopt));
    CHECK_FALSE(corocket::tag_matches(sub, std::string_view("TagA || TagB")));

    const auto all = parse("*");
    CHECK(corocket::tag_matches(all, std::nullopt));
    CHECK(corocket::tag_matches(all, std::string_view("anything")));

    subscription_data sql;
    sql.sub_string = "a > 1";
    sql.expression_type = "SQL92";
    CHECK(corocket::tag_matches(sql, std::nullopt));
}

#if __has_include("message/codec.hpp")
// Runs once the message layer (which defines java_string_hash) is merged.
TEST_CASE("tag expression: Java hash codes of Appendix A.7", "[filter]")
{
    const auto sub = corocket::parse_tag_expression("T", "TagA || TagB || 中文");
    CHECK(sub.codes == std::vector<std::int32_t>{2598919, 2598920, 646394});
    CHECK(corocket::parse_tag_expression("T", " * ").codes == std::vector<std::int32_t>{42});
}
#endif
