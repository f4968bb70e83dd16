#include <corocket/filter.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <iterator>
#include <map>
#include <string>

using corocket::sql_filter;

namespace {

using properties = std::map<std::string, std::string, std::less<>>;

const properties props = {
    {"a", "5"},        {"b", "abc"},   {"c", "3.5"}, {"t", "true"}, {"TAGS", "TagA"},
    {"big", "3000000000"}, {"neg", "-2"}, {"sp", " 7 "}, {"e", ""},   {"q", "it's"},
    {"n", "NaN"},
};

bool matches(std::string_view expr, const properties& p = props)
{
    sql_filter f;
    std::string error;
    INFO(expr);
    const auto ec = sql_filter::compile(expr, f, &error);
    INFO(error);
    REQUIRE_FALSE(ec);
    CHECK(f.expression() == expr);
    return f.evaluate([&](std::string_view name) -> std::optional<std::string_view> {
        auto it = p.find(name);
        if (it == p.end())
            return std::nullopt;
        return std::string_view(it->second);
    });
}

std::string compile_error(std::string_view expr)
{
    sql_filter f;
    std::string error;
    INFO(expr);
    CHECK(sql_filter::compile(expr, f, &error) == corocket::client_errc::invalid_argument);
    CHECK_FALSE(error.empty());
    return error;
}

}  // namespace

TEST_CASE("sql92: comparisons convert the string property to the literal's type", "[filter][sql]")
{
    const std::pair<const char*, bool> table[] = {
        {"a = 5", true},       {"a = '5'", true},     {"a = 6", false},     {"a <> 6", true},
        {"a > 4", true},       {"a >= 5", true},      {"a < 5", false},     {"a <= 5", true},
        {"a > 4.5", true},     {"a = 5.0", true},     {"a = +5", true},     {"neg = -2", true},
        {"neg < 0", true},     {"c = 3.5", true},     {"c = 35E-1", true},  {"c = .35e1", true},
        {"c > 3.0", true},     {"a > c", true},       {"c > a", false},     {"b = 'abc'", true},
        {"b <> 'abd'", true},  {"q = 'it''s'", true}, {"e = ''", true},     {"e IS NULL", false},
        {"sp > 6.5", true},    {"n > 1.0", true},     {"n = 'NaN'", true},  {"big = 3000000000", true},
        {"big > 2147483648", true}, {"2147483648 > 1", true},
        // Integer.valueOf("3.5") throws: the whole expression fails.
        {"c > 3", false},      {"c < 4", false},
        // The literal 1 (and 1L, narrowed) is an Integer: "3000000000" does not convert.
        {"big > 1", false},    {"big > 1L", false},
        // Integer.valueOf does not trim, Double.valueOf does.
        {"sp = 7", false},     {"sp = 7.0", true},
        // Ordering two non-numeric strings is an error, not false-then-NOT.
        {"b > c", false},      {"NOT (b > c)", false},
    };
    for (const auto& [expr, expected] : table)
        CHECK(matches(expr) == expected);
}

TEST_CASE("sql92: three-valued logic with missing properties", "[filter][sql]")
{
    const std::pair<const char*, bool> table[] = {
        {"x = 1", false},           {"x <> 1", false},          {"NOT (x = 1)", false},
        {"x IS NULL", true},        {"x IS NOT NULL", false},   {"a IS NOT NULL", true},
        {"a IS NULL", false},       {"x = 1 OR a = 5", true},   {"x = 1 AND a = 5", false},
        {"x = 1 OR a = 6", false},  {"NOT (x = 1 OR a = 6)", false},
        // unknown AND false is false; NOT false is true.
        {"NOT (x = 1 AND a = 6)", true},
        {"x > 1", false},           {"NOT (x > 1)", false},     {"x BETWEEN 1 AND 2", false},
        {"x NOT BETWEEN 1 AND 2", false},
        // Two missing properties are "equal": both sides are null.
        {"x = y", true},
    };
    for (const auto& [expr, expected] : table)
        CHECK(matches(expr) == expected);
}

TEST_CASE("sql92: evaluation errors fail the whole expression, in evaluation order", "[filter][sql]")
{
    CHECK_FALSE(matches("b > 1 OR a = 5"));  // the left side throws before the right is seen
    CHECK(matches("a = 5 OR b > 1"));        // short-circuit: the right side is never evaluated
    // Integer.valueOf("abc") throws: even the negation does not match.
    CHECK_FALSE(matches("b = 1"));
    CHECK_FALSE(matches("NOT (b = 1)"));
    CHECK(matches("NOT (b = 'x')"));
}

TEST_CASE("sql92: IN, BETWEEN, booleans, string functions", "[filter][sql]")
{
    const std::pair<const char*, bool> table[] = {
        {"TAGS IN ('TagA', 'TagB')", true},  {"TAGS IN ('TagB')", false},     {"TAGS NOT IN ('TagA')", false},
        {"TAGS NOT IN ('x','y','z','u','v','w')", true},
        {"x IN ('a')", false},               {"x NOT IN ('a')", false},
        {"a BETWEEN 1 AND 5", true},         {"a BETWEEN 6 AND 9", false},    {"a NOT BETWEEN 6 AND 9", true},
        {"c BETWEEN 3.4 AND 3.6", true},     {"a BETWEEN 5 AND 5", true},
        {"TRUE", true},                      {"FALSE", false},                {"NULL", false},
        {"t = TRUE", true},                  {"b = TRUE", false},
        // Boolean.valueOf("abc") is false.
        {"b = FALSE", true},
        // Java casts the Boolean literal to String and throws.
        {"TRUE = t", false},
        // A bare property is a boolean cast: strings are never TRUE.
        {"t", false},                        {"NOT t", true},                 {"x", false},
        {"NOT x", false},
        // Negating a property yields null.
        {"-a = -5", false},
        // NOT binds tighter than '=': (NOT a) = 5 compares a Boolean with an Integer.
        {"NOT a = 5", false},                {"NOT (a = 5)", false},          {"NOT (a = 6)", true},
        {"b CONTAINS 'bc'", true},           {"b NOT CONTAINS 'bc'", false},  {"x CONTAINS 'a'", false},
        {"x NOT CONTAINS 'a'", false},       {"b CONTAINS ''", false},        {"b STARTSWITH 'ab'", true},
        {"b STARTSWITH 'bc'", false},        {"b ENDSWITH 'bc'", true},       {"b NOT ENDSWITH 'x'", true},
        {"b NOT STARTSWITH 'a'", false},
    };
    for (const auto& [expr, expected] : table)
        CHECK(matches(expr) == expected);
}

TEST_CASE("sql92: precedence, parentheses, case, comments", "[filter][sql]")
{
    const std::pair<const char*, bool> table[] = {
        {"a = 5 OR a = 6 AND b = 'zzz'", true},
        {"(a = 5 OR a = 6) AND b = 'zzz'", false},
        {"a = 5 and b = 'abc'", true},
        {"TAGS is not null AND NOT (TAGS = 'TagB')", true},
        {"a = 5 /* comment */ AND b = 'abc'", true},
        {"a = 5 -- note\n AND b = 'abc'", true},
        {"  ( ( a = 5 ) )  ", true},
        {"a BETWEEN 1 AND 9 AND b = 'abc'", true},
        {"(a > 1) = TRUE", true},
        {"ANDY = 'x' OR $x_1 IS NULL", true},
    };
    for (const auto& [expr, expected] : table)
        CHECK(matches(expr) == expected);
}

TEST_CASE("sql92: a default filter and long chains", "[filter][sql]")
{
    CHECK_FALSE(sql_filter{}.evaluate([](std::string_view) { return std::optional<std::string_view>("1"); }));

    std::string chain = "a = '0'";
    for (int i = 1; i < 500; ++i)
        chain += " OR a = '" + std::to_string(i) + "'";
    CHECK(matches(chain));
}

TEST_CASE("sql92: compile errors are reported with a reason", "[filter][sql]")
{
    using Catch::Matchers::Contains;
    CHECK_THAT(compile_error(""), Contains("end of expression"));
    CHECK_THAT(compile_error("a ="), Contains("end of expression"));
    CHECK_THAT(compile_error("a = NULL"), Contains("IS NULL"));
    CHECK_THAT(compile_error("a > 'x'"), Contains("cannot be compared"));
    CHECK_THAT(compile_error("a > TRUE"), Contains("cannot be compared"));
    CHECK_THAT(compile_error("a > 1 > 2"), Contains("cannot be compared"));
    CHECK_THAT(compile_error("TRUE = 1"), Contains("TRUE cannot be compared with 1"));
    CHECK_THAT(compile_error("'abc'"), Contains("will not result in a boolean"));
    CHECK_THAT(compile_error("5"), Contains("will not result in a boolean"));
    CHECK_THAT(compile_error("a = 5 AND 7"), Contains("will not result in a boolean"));
    CHECK_THAT(compile_error("a BETWEEN 5 AND 1"), Contains("less than or equal"));
    CHECK_THAT(compile_error("a BETWEEN NULL AND 1"), Contains("NULL"));
    CHECK_THAT(compile_error("5 IN ('a')"), Contains("property"));
    CHECK_THAT(compile_error("a IN ()"), Contains("string literal"));
    CHECK_THAT(compile_error("a IN (1)"), Contains("string literal"));
    CHECK_THAT(compile_error("a CONTAINS b"), Contains("string literal"));
    CHECK_THAT(compile_error("a = 'unterminated"), Contains("unterminated string"));
    CHECK_THAT(compile_error("a != 5"), Contains("unexpected character '!' at position 2"));
    CHECK_THAT(compile_error("a = 5 /* open"), Contains("unterminated comment"));
    CHECK_THAT(compile_error("a = 99999999999999999999"), Contains("range"));
    CHECK_THAT(compile_error("a > 0.0"), Contains("smallest positive"));
    CHECK_THAT(compile_error("a > 1e400"), Contains("largest"));
    CHECK_THAT(compile_error("(a = 5"), Contains("expected ')'"));
    CHECK_THAT(compile_error("a = 5)"), Contains("unexpected ')' at position 5"));
    CHECK_THAT(compile_error("a IS 5"), Contains("unexpected 'IS'"));
    CHECK_THAT(compile_error("a = 5 -- no line end"), Contains("unexpected '-'"));
    CHECK_THAT(compile_error("a = 007"), Contains("unexpected '0'"));
    CHECK_THAT(compile_error("a NOT LIKE 'x'"), Contains("unexpected 'NOT'"));
    CHECK_THAT(compile_error(std::string(10000, '(') + "a = 1" + std::string(10000, ')')), Contains("deeply"));
    std::string nots;
    for (int i = 0; i < 10000; ++i)
        nots += "NOT ";
    CHECK_THAT(compile_error(nots + "TRUE"), Contains("deeply"));
    std::string chain = "a = '0'";
    for (int i = 1; i < 2000; ++i)
        chain += " AND a = '0'";
    CHECK_THAT(compile_error(chain), Contains("too complex"));

    // A failed compile leaves the output untouched.
    sql_filter f;
    REQUIRE_FALSE(sql_filter::compile("a = 5", f, nullptr));
    CHECK(sql_filter::compile("a = ", f, nullptr) == corocket::client_errc::invalid_argument);
    CHECK(f.expression() == "a = 5");
}

TEST_CASE("sql92: random token soup compiles or fails cleanly, and evaluates without crashing", "[filter][sql]")
{
    const char* vocabulary[] = {"a",  "b",   "x",       "TAGS", "=",    "<>",   ">",       ">=",    "<",
                                "<=", "(",   ")",       ",",    "+",    "-",    "NOT",     "AND",   "OR",
                                "IS", "NULL", "BETWEEN", "IN",  "TRUE", "FALSE", "CONTAINS", "1",   "2.5",
                                "'s'", "''", "0",       "1e3",  "/**/", "--\n", "'it''s'", "!",    "."};
    std::uint32_t state = 12345;
    const auto next = [&] {
        state = state * 1103515245u + 12345u;
        return state >> 8;
    };
    int compiled = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string expr;
        const auto length = 1 + next() % 12;
        for (std::uint32_t i = 0; i < length; ++i)
            expr += std::string(vocabulary[next() % std::size(vocabulary)]) + " ";
        sql_filter f;
        std::string error;
        if (sql_filter::compile(expr, f, &error)) {
            INFO(expr);
            CHECK_FALSE(error.empty());
            continue;
        }
        ++compiled;
        f.evaluate([](std::string_view name) -> std::optional<std::string_view> {
            if (name == "a")
                return "5";
            if (name == "b")
                return "abc";
            return std::nullopt;
        });
    }
    CHECK(compiled > 100);
}
