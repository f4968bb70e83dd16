// The properties string (protocol.md §4.1).
#include "message/properties.hpp"

#include <catch2/catch.hpp>

using namespace corocket;
using namespace std::string_view_literals;

namespace {

using view_list = std::vector<std::pair<std::string_view, std::string_view>>;

properties decode(std::string_view text)
{
    properties out;
    detail::decode_properties(text, out);
    return out;
}

view_list decode_views(std::string_view text)
{
    view_list out;
    detail::decode_properties(text, out);
    return out;
}

}  // namespace

TEST_CASE("properties encode every pair with a trailing separator")
{
    CHECK(detail::encode_properties({}).empty());
    const properties props{{"TAGS", "TagA"}, {"KEYS", "k1 k2"}, {"WAIT", "true"}};
    // std::map orders by name; order is irrelevant on the wire.
    CHECK(detail::encode_properties(props) == "KEYS\x01k1 k2\x02TAGS\x01TagA\x02WAIT\x01true\x02"sv);
    CHECK(decode(detail::encode_properties(props)) == props);
}

TEST_CASE("properties decode the protocol example, with or without the final separator")
{
    const properties expected{{"TAGS", "TagA"}, {"KEYS", "k1 k2"}, {"WAIT", "true"}};
    CHECK(decode("TAGS\x01TagA\x02KEYS\x01k1 k2\x02WAIT\x01true\x02"sv) == expected);
    CHECK(decode("TAGS\x01TagA\x02KEYS\x01k1 k2\x02WAIT\x01true"sv) == expected);
}

TEST_CASE("properties decoding is tolerant like Java's")
{
    CHECK(decode("").empty());
    CHECK(decode("\x02\x02\x02"sv).empty());
    // Segments shorter than 3 characters are skipped.
    CHECK(decode("a\x01\x02" "b\x01" "c\x02"sv) == properties{{"b", "c"}});
    // Empty key or empty value: skipped.
    CHECK(decode("\x01value\x02key\x01\x02ok\x01yes"sv) == properties{{"ok", "yes"}});
    // No name/value separator: skipped.
    CHECK(decode("novalue\x02k\x01v"sv) == properties{{"k", "v"}});
    // A later \x01 stays in the value.
    CHECK(decode("k\x01v\x01w\x02"sv) == properties{{"k", "v\x01w"}});
    // Later duplicates win.
    CHECK(decode("k\x01one\x02k\x01two\x02"sv) == properties{{"k", "two"}});
    // Non-ASCII values pass through as bytes.
    CHECK(decode("golden-prop\x01" "caf\xC3\xA9\x02"sv) == properties{{"golden-prop", "caf\xC3\xA9"}});
}

TEST_CASE("decode_properties merges into an existing map")
{
    properties props{{"k", "old"}, {"other", "kept"}};
    detail::decode_properties("k\x01new\x02"sv, props);
    CHECK(props == properties{{"k", "new"}, {"other", "kept"}});
}

TEST_CASE("the view parser keeps wire order and duplicates")
{
    const auto text = "b\x01" "1\x02" "a\x01" "2\x02" "b\x01" "3\x02" "x\x02"sv;
    const auto views = decode_views(text);
    REQUIRE(views.size() == 3);
    CHECK(views[0] == std::pair{"b"sv, "1"sv});
    CHECK(views[1] == std::pair{"a"sv, "2"sv});
    CHECK(views[2] == std::pair{"b"sv, "3"sv});
    // The views point into the input.
    CHECK(views[0].first.data() == text.data());
}

TEST_CASE("append_property writes one pair")
{
    std::string out = "x";
    detail::append_property(out, "n", "v");
    CHECK(out == "xn\x01v\x02"sv);
}
