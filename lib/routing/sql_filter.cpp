// The broker's SQL92 property filter (RocketMQ's filter module, itself ActiveMQ's JMS selector
// grammar), reproduced with its exact semantics so a message matches here iff it matches on a
// broker:
//  * precedence, loosest first: OR; AND; = <> IS [NOT] NULL; > >= < <= [NOT] BETWEEN/IN/CONTAINS/
//    STARTSWITH/ENDSWITH; unary + - NOT. NOT binds tighter than comparisons, so `NOT a = 'x'`
//    compares (NOT a) with 'x' — write `NOT (a = 'x')`.
//  * three-valued logic: a missing property makes a comparison unknown (null); AND/OR/NOT follow
//    SQL; unknown never matches.
//  * properties are strings; comparing one with a number converts the string with Java's
//    Integer/Long/Double.valueOf according to the literal's type, and a string that does not
//    convert is an evaluation error, which makes the whole expression not match (the broker
//    catches the exception and drops the message). `>`/`<` between two strings compare them as
//    doubles.
#include <corocket/filter.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corocket {
namespace detail {

// ---- values ----------------------------------------------------------------------------------

// The Java types a selector value can have (Float/Byte/Short never arise: literals are Integer,
// Long or Double, properties String).
enum class jtype : std::uint8_t { null, boolean, int32, int64, float64, string };

struct jvalue {
    jtype type = jtype::null;
    bool b = false;
    std::int64_t i = 0;
    double d = 0;
    std::string_view s;

    static jvalue boolean(bool v) { return {jtype::boolean, v, 0, 0, {}}; }
    bool is_number() const noexcept { return type == jtype::int32 || type == jtype::int64 || type == jtype::float64; }
    bool is_true() const noexcept { return type == jtype::boolean && b; }
};

// nullopt = the Java code would throw: evaluation of the whole expression fails.
using eval_result = std::optional<jvalue>;

bool is_java_space(char c) noexcept
{
    return static_cast<unsigned char>(c) <= 0x20;
}

bool all_digits(std::string_view s, bool hex) noexcept;

// Integer.valueOf / Long.valueOf: optional sign, then ASCII digits only, no spaces.
template <class Int>
std::optional<std::int64_t> parse_java_integer(std::string_view s)
{
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s.empty() || !all_digits(s, false))
        return std::nullopt;
    std::uint64_t magnitude = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude);
    const auto limit = static_cast<std::uint64_t>(std::numeric_limits<Int>::max()) + (negative ? 1 : 0);
    if (ec != std::errc{} || magnitude > limit)
        return std::nullopt;
    return negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
}

bool all_digits(std::string_view s, bool hex) noexcept
{
    return std::all_of(s.begin(), s.end(), [hex](char c) {
        return (c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
    });
}

// Checks the shape Java's FloatingDecimal accepts for the unsigned part: digits with at most one
// point (at least one digit), then an optional exponent; hex needs the binary 'p' exponent.
bool valid_java_float_body(std::string_view s, bool hex) noexcept
{
    const char exp_char = hex ? 'p' : 'e';
    auto exp_at = std::find_if(s.begin(), s.end(), [exp_char](char c) { return (c | 0x20) == exp_char; });
    const std::string_view mantissa(s.data(), static_cast<std::size_t>(exp_at - s.begin()));
    const auto point = mantissa.find('.');
    const auto int_part = mantissa.substr(0, point);
    const auto frac_part = point == std::string_view::npos ? std::string_view{} : mantissa.substr(point + 1);
    if (int_part.size() + frac_part.size() == 0 || !all_digits(int_part, hex) || !all_digits(frac_part, hex))
        return false;
    if (exp_at == s.end())
        return !hex;
    std::string_view exponent(exp_at + 1, static_cast<std::size_t>(s.end() - exp_at - 1));
    if (!exponent.empty() && (exponent.front() == '+' || exponent.front() == '-'))
        exponent.remove_prefix(1);
    return !exponent.empty() && all_digits(exponent, false);
}

// Double.valueOf(String): trims, accepts a sign, NaN, Infinity, decimal and hex forms and an
// f/F/d/D suffix.
std::optional<double> parse_java_double(std::string_view s)
{
    while (!s.empty() && is_java_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_java_space(s.back()))
        s.remove_suffix(1);
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    const double sign = negative ? -1.0 : 1.0;
    if (s == "NaN")
        return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity")
        return sign * std::numeric_limits<double>::infinity();
    if (!s.empty() && std::string_view("fFdD").find(s.back()) != std::string_view::npos)
        s.remove_suffix(1);
    const bool hex = s.size() > 2 && s[0] == '0' && (s[1] | 0x20) == 'x';
    if (hex)
        s.remove_prefix(2);
    if (!valid_java_float_body(s, hex))
        return std::nullopt;
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v,
                                   hex ? std::chars_format::hex : std::chars_format::general);
    if (ec == std::errc::result_out_of_range) {
        // Java rounds to infinity or zero instead of failing; strtod does the same.
        const std::string text = std::string(hex ? "0x" : "") + std::string(s);
        v = std::strtod(text.c_str(), nullptr);
    } else if (ec != std::errc{} || p != s.data() + s.size()) {
        return std::nullopt;
    }
    return sign * v;
}

bool java_boolean_value_of(std::string_view s) noexcept
{
    return s.size() == 4 && (s[0] | 0x20) == 't' && (s[1] | 0x20) == 'r' && (s[2] | 0x20) == 'u' &&
           (s[3] | 0x20) == 'e';
}

// Double.compare: NaN above everything and equal to itself, -0.0 below 0.0.
int java_double_compare(double a, double b) noexcept
{
    if (a < b)
        return -1;
    if (a > b)
        return 1;
    const bool a_nan = std::isnan(a);
    const bool b_nan = std::isnan(b);
    if (a_nan || b_nan)
        return a_nan == b_nan ? 0 : (a_nan ? 1 : -1);
    const bool a_neg = std::signbit(a);
    const bool b_neg = std::signbit(b);
    return a_neg == b_neg ? 0 : (a_neg ? -1 : 1);
}

template <class T>
int three_way(T a, T b) noexcept
{
    return a < b ? -1 : (b < a ? 1 : 0);
}

int compare_same_type(const jvalue& l, const jvalue& r) noexcept
{
    switch (l.type) {
    case jtype::boolean:
        return three_way(l.b, r.b);
    case jtype::int32:
    case jtype::int64:
        return three_way(l.i, r.i);
    case jtype::float64:
        return java_double_compare(l.d, r.d);
    case jtype::string:
        return l.s.compare(r.s) < 0 ? -1 : (l.s == r.s ? 0 : 1);
    case jtype::null:
        break;
    }
    return 0;
}

jvalue as_double(const jvalue& v)
{
    jvalue out = v;
    out.type = jtype::float64;
    out.d = v.type == jtype::float64 ? v.d : static_cast<double>(v.i);
    return out;
}

// The string `s` converted to the type of `like` (Integer.valueOf, Long.valueOf, Double.valueOf,
// Boolean.valueOf); nullopt when Java would throw NumberFormatException.
std::optional<jvalue> convert_string(std::string_view s, jtype like)
{
    jvalue out;
    out.type = like;
    switch (like) {
    case jtype::boolean:
        out.b = java_boolean_value_of(s);
        return out;
    case jtype::int32:
    case jtype::int64: {
        auto v = like == jtype::int32 ? parse_java_integer<std::int32_t>(s) : parse_java_integer<std::int64_t>(s);
        if (!v)
            return std::nullopt;
        out.i = *v;
        return out;
    }
    case jtype::float64: {
        auto v = parse_java_double(s);
        if (!v)
            return std::nullopt;
        out.d = *v;
        return out;
    }
    default:
        return std::nullopt;
    }
}

// ComparisonExpression.__compare with string conversion on (as the broker parses): values of
// different types are converted "up" (int → long → double, string → the other side's type);
// pairs Java does not convert compare as -1. nullopt = Java throws.
std::optional<int> java_compare(jvalue l, jvalue r)
{
    if (l.type != r.type) {
        switch (l.type) {
        case jtype::boolean:
            // Java casts the Boolean to String here and throws ClassCastException.
            if (r.type == jtype::string)
                return std::nullopt;
            return -1;
        case jtype::int32:
        case jtype::int64:
            if (r.type == jtype::int32 || r.type == jtype::int64) {
                r.type = l.type = jtype::int64;
            } else if (r.type == jtype::float64) {
                l = as_double(l);
            } else if (r.type == jtype::string) {
                auto converted = convert_string(r.s, l.type);
                if (!converted)
                    return std::nullopt;
                r = *converted;
            } else {
                return -1;
            }
            break;
        case jtype::float64:
            if (r.type == jtype::int32 || r.type == jtype::int64) {
                r = as_double(r);
            } else if (r.type == jtype::string) {
                auto converted = convert_string(r.s, jtype::float64);
                if (!converted)
                    return std::nullopt;
                r = *converted;
            } else {
                return -1;
            }
            break;
        case jtype::string: {
            auto converted = convert_string(l.s, r.type);
            if (!converted)
                return std::nullopt;
            l = *converted;
            break;
        }
        case jtype::null:
            return -1;
        }
    }
    return compare_same_type(l, r);
}

// ---- syntax tree -----------------------------------------------------------------------------

enum class node_kind : std::uint8_t {
    constant, property, negate, not_, bool_cast, and_, or_, equal, less_greater, in, string_match
};
enum class compare_op : std::uint8_t { gt, ge, lt, le };
enum class match_op : std::uint8_t { contains, starts_with, ends_with };

}  // namespace detail

struct detail::sql_node {
    node_kind kind = node_kind::constant;
    compare_op cmp = compare_op::gt;
    match_op match = match_op::contains;
    bool negated = false;       ///< NOT IN / NOT CONTAINS ...
    bool boolean_expr = false;  ///< a BooleanExpression in the Java class hierarchy
    int depth = 1;
    jtype constant_type = jtype::null;
    bool bool_value = false;
    std::int64_t int_value = 0;
    double double_value = 0;
    std::string text;  ///< string constant, property name or search string
    std::vector<std::string> list;
    std::unique_ptr<sql_node> a, b;

    jvalue constant() const { return {constant_type, bool_value, int_value, double_value, text}; }
};

namespace detail {
namespace {

using node_ptr = std::unique_ptr<sql_node>;

// Bounds on recursion for hostile input: tree depth (long AND/OR chains nest to the left, so
// this is also the longest chain) and parser nesting (parentheses, unary operators).
constexpr int max_depth = 1000;
constexpr int max_nesting = 200;

// Thrown inside the parser only; compile() turns it into an error_code and message.
struct syntax_error {
    std::string message;
};

// ---- evaluation ------------------------------------------------------------------------------

using property_fn = std::function<std::optional<std::string_view>(std::string_view)>;

eval_result eval(const sql_node& n, const property_fn& property);

eval_result eval_logic(const sql_node& n, const property_fn& property)
{
    // AND: a definite false wins; OR: a definite true wins; otherwise unknown if either is.
    const bool decisive = n.kind == node_kind::or_;
    auto l = eval(*n.a, property);
    if (!l)
        return l;
    if (l->type == jtype::boolean && l->b == decisive)
        return jvalue::boolean(decisive);
    auto r = eval(*n.b, property);
    if (!r)
        return r;
    if (r->type == jtype::boolean && r->b == decisive)
        return jvalue::boolean(decisive);
    if (l->type == jtype::null || r->type == jtype::null)
        return jvalue{};
    return jvalue::boolean(!decisive);
}

eval_result eval_equal(const sql_node& n, const property_fn& property)
{
    auto l = eval(*n.a, property);
    if (!l)
        return l;
    auto r = eval(*n.b, property);
    if (!r)
        return r;
    const bool l_null = l->type == jtype::null;
    const bool r_null = r->type == jtype::null;
    if (l_null != r_null)
        return l_null ? jvalue{} : jvalue::boolean(false);
    if (l_null)
        return jvalue::boolean(true);
    auto c = java_compare(*l, *r);
    if (!c)
        return std::nullopt;
    return jvalue::boolean(*c == 0);
}

eval_result eval_less_greater(const sql_node& n, const property_fn& property)
{
    auto l = eval(*n.a, property);
    if (!l || l->type == jtype::null)
        return l;
    auto r = eval(*n.b, property);
    if (!r || r->type == jtype::null)
        return r;
    std::optional<int> c;
    if (l->type == jtype::string && r->type == jtype::string) {
        // RocketMQ refuses to order strings; it compares them as doubles or throws.
        auto ld = convert_string(l->s, jtype::float64);
        auto rd = convert_string(r->s, jtype::float64);
        if (!ld || !rd)
            return std::nullopt;
        c = java_compare(*ld, *rd);
    } else {
        c = java_compare(*l, *r);
    }
    if (!c)
        return std::nullopt;
    switch (n.cmp) {
    case compare_op::gt:
        return jvalue::boolean(*c > 0);
    case compare_op::ge:
        return jvalue::boolean(*c >= 0);
    case compare_op::lt:
        return jvalue::boolean(*c < 0);
    case compare_op::le:
        return jvalue::boolean(*c <= 0);
    }
    return std::nullopt;
}

eval_result eval_negate(const sql_node& n, const property_fn& property)
{
    auto v = eval(*n.a, property);
    if (!v)
        return v;
    if (!v->is_number())
        return jvalue{};  // Java yields null for anything but a Number
    if (v->type == jtype::float64) {
        v->d = -v->d;
    } else if (v->type == jtype::int32) {
        v->i = static_cast<std::int32_t>(0u - static_cast<std::uint32_t>(v->i));  // Java wraps
    } else {
        v->i = static_cast<std::int64_t>(0ull - static_cast<std::uint64_t>(v->i));
    }
    return v;
}

eval_result eval_string_match(const sql_node& n, const property_fn& property)
{
    if (n.text.empty())
        return jvalue::boolean(false);
    auto v = eval(*n.a, property);
    if (!v)
        return v;
    if (v->type != jtype::string)
        return jvalue::boolean(false);  // a missing property is false here, not unknown
    bool found = false;
    switch (n.match) {
    case match_op::contains:
        found = v->s.find(n.text) != std::string_view::npos;
        break;
    case match_op::starts_with:
        found = v->s.starts_with(n.text);
        break;
    case match_op::ends_with:
        found = v->s.ends_with(n.text);
        break;
    }
    return jvalue::boolean(found != n.negated);
}

eval_result eval(const sql_node& n, const property_fn& property)
{
    switch (n.kind) {
    case node_kind::constant:
        return n.constant();
    case node_kind::property: {
        auto v = property(n.text);
        if (!v)
            return jvalue{};
        jvalue out;
        out.type = jtype::string;
        out.s = *v;
        return out;
    }
    case node_kind::negate:
        return eval_negate(n, property);
    case node_kind::not_: {
        auto v = eval(*n.a, property);
        if (!v || v->type != jtype::boolean)
            return v;
        return jvalue::boolean(!v->b);
    }
    case node_kind::bool_cast: {
        auto v = eval(*n.a, property);
        if (!v || v->type == jtype::null)
            return v;
        return jvalue::boolean(v->is_true());
    }
    case node_kind::and_:
    case node_kind::or_:
        return eval_logic(n, property);
    case node_kind::equal:
        return eval_equal(n, property);
    case node_kind::less_greater:
        return eval_less_greater(n, property);
    case node_kind::in: {
        auto v = eval(*n.a, property);
        if (!v)
            return v;
        if (v->type != jtype::string)
            return jvalue{};
        const bool found = std::find(n.list.begin(), n.list.end(), v->s) != n.list.end();
        return jvalue::boolean(found != n.negated);
    }
    case node_kind::string_match:
        return eval_string_match(n, property);
    }
    return std::nullopt;
}

// ---- lexer -----------------------------------------------------------------------------------

enum class tok : std::uint8_t {
    end, lparen, rparen, comma, eq, ne, gt, ge, lt, le, plus, minus,
    kw_not, kw_and, kw_or, kw_between, kw_in, kw_true, kw_false, kw_null, kw_is,
    kw_contains, kw_startswith, kw_endswith,
    decimal, floating, string, id,
};

struct token {
    tok kind = tok::end;
    std::string_view text;  ///< the token's source text
    std::size_t pos = 0;
};

struct keyword {
    std::string_view name;
    tok kind;
};

constexpr keyword keywords[] = {
    {"NOT", tok::kw_not},       {"AND", tok::kw_and},   {"OR", tok::kw_or},
    {"BETWEEN", tok::kw_between}, {"IN", tok::kw_in},   {"TRUE", tok::kw_true},
    {"FALSE", tok::kw_false},   {"NULL", tok::kw_null}, {"IS", tok::kw_is},
    {"CONTAINS", tok::kw_contains}, {"STARTSWITH", tok::kw_startswith}, {"ENDSWITH", tok::kw_endswith},
};

bool iequals(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return (x | 0x20) == (y | 0x20); });
}

bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}

bool is_id_start(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

std::string describe(const token& t)
{
    return t.kind == tok::end ? std::string("end of expression") : "'" + std::string(t.text) + "'";
}

class lexer {
public:
    explicit lexer(std::string_view in) : in_(in) {}

    token next()
    {
        skip_space_and_comments();
        token t;
        t.pos = pos_;
        if (pos_ >= in_.size())
            return t;
        const char c = in_[pos_];
        std::size_t len = 1;
        if (is_id_start(c)) {
            len = identifier(t);
        } else if (is_digit(c) || (c == '.' && pos_ + 1 < in_.size() && is_digit(in_[pos_ + 1]))) {
            len = number(t);
        } else if (c == '\'') {
            len = string_literal(t);
        } else {
            len = punctuation(t);
        }
        t.text = in_.substr(pos_, len);
        pos_ += len;
        return t;
    }

private:
    void skip_space_and_comments()
    {
        for (;;) {
            while (pos_ < in_.size() && std::string_view(" \t\n\r\f").find(in_[pos_]) != std::string_view::npos)
                ++pos_;
            const auto rest = in_.substr(pos_);
            if (rest.starts_with("--")) {
                // The grammar's line comment needs its line end; without one, "--" is two minuses.
                const auto eol = rest.find_first_of("\r\n");
                if (eol == std::string_view::npos)
                    return;
                pos_ += eol + 1;
            } else if (rest.starts_with("/*")) {
                const auto close = rest.find("*/", 2);
                if (close == std::string_view::npos)
                    throw syntax_error{"unterminated comment at position " + std::to_string(pos_)};
                pos_ += close + 2;
            } else {
                return;
            }
        }
    }

    std::size_t identifier(token& t) const
    {
        std::size_t end = pos_ + 1;
        while (end < in_.size() && (is_id_start(in_[end]) || is_digit(in_[end])))
            ++end;
        const auto word = in_.substr(pos_, end - pos_);
        t.kind = tok::id;
        for (const auto& kw : keywords) {
            if (iequals(word, kw.name))
                t.kind = kw.kind;
        }
        return end - pos_;
    }

    std::size_t digits_from(std::size_t at) const noexcept
    {
        std::size_t n = 0;
        while (at + n < in_.size() && is_digit(in_[at + n]))
            ++n;
        return n;
    }

    std::size_t exponent_from(std::size_t at) const noexcept
    {
        if (at >= in_.size() || (in_[at] | 0x20) != 'e')
            return 0;
        std::size_t n = 1;
        if (at + n < in_.size() && (in_[at + n] == '+' || in_[at + n] == '-'))
            ++n;
        const auto d = digits_from(at + n);
        return d == 0 ? 0 : n + d;
    }

    // Longest match of DECIMAL_LITERAL ("0" | [1-9][0-9]*[lL]?) and FLOATING_POINT_LITERAL.
    std::size_t number(token& t) const noexcept
    {
        const std::size_t int_digits = digits_from(pos_);
        std::size_t decimal_len = 0;
        if (int_digits > 0) {
            decimal_len = in_[pos_] == '0' ? 1 : int_digits;
            if (in_[pos_] != '0' && pos_ + decimal_len < in_.size() && (in_[pos_ + decimal_len] | 0x20) == 'l')
                ++decimal_len;
        }
        std::size_t float_len = 0;
        const std::size_t after_int = pos_ + int_digits;
        if (after_int < in_.size() && in_[after_int] == '.') {
            const std::size_t frac = digits_from(after_int + 1);
            if (int_digits > 0 || frac > 0)
                float_len = int_digits + 1 + frac + exponent_from(after_int + 1 + frac);
        } else if (int_digits > 0) {
            const auto e = exponent_from(after_int);
            float_len = e == 0 ? 0 : int_digits + e;
        }
        t.kind = float_len > decimal_len ? tok::floating : tok::decimal;
        return std::max(float_len, decimal_len);
    }

    std::size_t string_literal(token& t) const
    {
        std::size_t at = pos_ + 1;
        for (;;) {
            const auto quote = in_.find('\'', at);
            if (quote == std::string_view::npos)
                throw syntax_error{"unterminated string literal at position " + std::to_string(pos_)};
            if (quote + 1 < in_.size() && in_[quote + 1] == '\'') {
                at = quote + 2;  // '' is an escaped quote
                continue;
            }
            t.kind = tok::string;
            return quote + 1 - pos_;
        }
    }

    std::size_t punctuation(token& t) const
    {
        const auto two = in_.substr(pos_, 2);
        if (two == "<>" || two == "<=" || two == ">=") {
            t.kind = two == "<>" ? tok::ne : (two == "<=" ? tok::le : tok::ge);
            return 2;
        }
        switch (in_[pos_]) {
        case '(': t.kind = tok::lparen; return 1;
        case ')': t.kind = tok::rparen; return 1;
        case ',': t.kind = tok::comma; return 1;
        case '=': t.kind = tok::eq; return 1;
        case '>': t.kind = tok::gt; return 1;
        case '<': t.kind = tok::lt; return 1;
        case '+': t.kind = tok::plus; return 1;
        case '-': t.kind = tok::minus; return 1;
        default:
            throw syntax_error{"unexpected character '" + std::string(1, in_[pos_]) + "' at position " +
                               std::to_string(pos_)};
        }
    }

    std::string_view in_;
    std::size_t pos_ = 0;
};

// ---- node construction (with the Java factories' checks) -----------------------------------

std::string java_number_text(double d)
{
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
    return ec == std::errc{} ? std::string(buf, p) : std::string("?");
}

// How the Java code prints an operand in its error messages.
std::string describe(const sql_node& n)
{
    if (n.kind == node_kind::property)
        return n.text;
    if (n.kind != node_kind::constant)
        return "expression";
    switch (n.constant_type) {
    case jtype::null: return "NULL";
    case jtype::boolean: return n.bool_value ? "TRUE" : "FALSE";
    case jtype::int32:
    case jtype::int64: return std::to_string(n.int_value);
    case jtype::float64: return java_number_text(n.double_value);
    case jtype::string: {
        std::string out = "'";
        for (char c : n.text)
            out += c == '\'' ? std::string("''") : std::string(1, c);
        return out + "'";
    }
    }
    return "?";
}

node_ptr make(node_kind kind, bool boolean_expr, node_ptr a = nullptr, node_ptr b = nullptr)
{
    auto n = std::make_unique<sql_node>();
    n->kind = kind;
    n->boolean_expr = boolean_expr;
    n->depth = 1 + std::max(a ? a->depth : 0, b ? b->depth : 0);
    if (n->depth > max_depth)
        throw syntax_error{"expression too complex (tree deeper than " + std::to_string(max_depth) + ")"};
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
}

node_ptr make_constant(jtype type)
{
    auto n = make(node_kind::constant, type == jtype::boolean || type == jtype::null);
    n->constant_type = type;
    return n;
}

bool is_constant(const sql_node& n) noexcept
{
    return n.kind == node_kind::constant;
}

node_ptr make_not(node_ptr operand)
{
    return make(node_kind::not_, true, std::move(operand));
}

// SelectorParser.asBooleanExpression.
node_ptr as_boolean(node_ptr n)
{
    if (n->boolean_expr)
        return n;
    if (n->kind == node_kind::property)
        return make(node_kind::bool_cast, true, std::move(n));
    throw syntax_error{"expression will not result in a boolean value: " + describe(*n)};
}

// ComparisonExpression.checkLessThanOperand: only numbers and non-boolean expressions.
void check_orderable(const sql_node& n)
{
    if (is_constant(n) ? !n.constant().is_number() : n.boolean_expr)
        throw syntax_error{"value " + describe(n) + " cannot be compared with > >= < <="};
}

node_ptr make_less_greater(compare_op op, node_ptr l, node_ptr r)
{
    check_orderable(*l);
    check_orderable(*r);
    auto n = make(node_kind::less_greater, true, std::move(l), std::move(r));
    n->cmp = op;
    return n;
}

node_ptr make_equal_unchecked(node_ptr l, node_ptr r)
{
    return make(node_kind::equal, true, std::move(l), std::move(r));
}

// ComparisonExpression.createEqual: no NULL literal, no boolean literal against other literals.
node_ptr make_equal(node_ptr l, node_ptr r)
{
    for (const auto* n : {l.get(), r.get()}) {
        if (is_constant(*n) && n->constant_type == jtype::null)
            throw syntax_error{"NULL cannot be compared with = or <>; use IS NULL"};
    }
    if (is_constant(*l) && is_constant(*r) && l->boolean_expr && !r->boolean_expr)
        throw syntax_error{describe(*l) + " cannot be compared with " + describe(*r)};
    return make_equal_unchecked(std::move(l), std::move(r));
}

node_ptr clone_operand(const sql_node& n)
{
    auto copy = std::make_unique<sql_node>();
    copy->kind = n.kind;
    copy->cmp = n.cmp;
    copy->match = n.match;
    copy->negated = n.negated;
    copy->boolean_expr = n.boolean_expr;
    copy->depth = n.depth;
    copy->constant_type = n.constant_type;
    copy->bool_value = n.bool_value;
    copy->int_value = n.int_value;
    copy->double_value = n.double_value;
    copy->text = n.text;
    copy->list = n.list;
    copy->a = n.a ? clone_operand(*n.a) : nullptr;
    copy->b = n.b ? clone_operand(*n.b) : nullptr;
    return copy;
}

// createBetween: constant bounds must be non-null and ordered; then value >= low AND value <= high.
node_ptr make_between(node_ptr value, node_ptr low, node_ptr high, bool negated)
{
    if (negated) {
        auto below = make_less_greater(compare_op::lt, clone_operand(*value), std::move(low));
        auto above = make_less_greater(compare_op::gt, std::move(value), std::move(high));
        return make(node_kind::or_, true, std::move(below), std::move(above));
    }
    if (is_constant(*low) && is_constant(*high)) {
        if (low->constant_type == jtype::null || high->constant_type == jtype::null)
            throw syntax_error{"illegal values of BETWEEN: values can not be NULL"};
        auto c = java_compare(high->constant(), low->constant());
        if (!c)
            throw syntax_error{"illegal values of BETWEEN: " + describe(*low) + " and " + describe(*high) +
                               " cannot be compared"};
        if (*c < 0)
            throw syntax_error{"illegal values of BETWEEN: left value " + describe(*low) +
                               " must be less than or equal to right value " + describe(*high)};
    }
    auto ge = make_less_greater(compare_op::ge, clone_operand(*value), std::move(low));
    auto le = make_less_greater(compare_op::le, std::move(value), std::move(high));
    return make(node_kind::and_, true, std::move(ge), std::move(le));
}

// ---- parser ----------------------------------------------------------------------------------

class parser {
public:
    explicit parser(std::string_view text) : lex_(text) { advance(); }

    node_ptr parse()
    {
        auto n = or_expression();
        if (cur_.kind != tok::end)
            unexpected();
        return as_boolean(std::move(n));
    }

private:
    void advance()
    {
        cur_ = ahead_ ? *ahead_ : lex_.next();
        ahead_.reset();
    }

    const token& peek()
    {
        if (!ahead_)
            ahead_ = lex_.next();
        return *ahead_;
    }

    bool accept(tok k)
    {
        if (cur_.kind != k)
            return false;
        advance();
        return true;
    }

    void expect(tok k, std::string_view what)
    {
        if (cur_.kind != k)
            throw syntax_error{"expected " + std::string(what) + " but found " + describe(cur_) + " at position " +
                               std::to_string(cur_.pos)};
        advance();
    }

    [[noreturn]] void unexpected() const
    {
        throw syntax_error{"unexpected " + describe(cur_) + " at position " + std::to_string(cur_.pos)};
    }

    node_ptr or_expression()
    {
        auto left = and_expression();
        while (accept(tok::kw_or))
            left = make(node_kind::or_, true, as_boolean(std::move(left)), as_boolean(and_expression()));
        return left;
    }

    node_ptr and_expression()
    {
        auto left = equality_expression();
        while (accept(tok::kw_and))
            left = make(node_kind::and_, true, as_boolean(std::move(left)), as_boolean(equality_expression()));
        return left;
    }

    node_ptr equality_expression()
    {
        auto left = comparison_expression();
        for (;;) {
            if (accept(tok::eq)) {
                left = make_equal(std::move(left), comparison_expression());
            } else if (accept(tok::ne)) {
                left = make_not(make_equal(std::move(left), comparison_expression()));
            } else if (cur_.kind == tok::kw_is && (peek().kind == tok::kw_null || peek().kind == tok::kw_not)) {
                advance();
                const bool negated = accept(tok::kw_not);
                expect(tok::kw_null, "NULL");
                auto is_null = make_equal_unchecked(std::move(left), make_constant(jtype::null));
                left = negated ? make_not(std::move(is_null)) : std::move(is_null);
            } else {
                return left;
            }
        }
    }

    static bool is_not_suffix(tok k) noexcept
    {
        return k == tok::kw_between || k == tok::kw_in || k == tok::kw_contains || k == tok::kw_startswith ||
               k == tok::kw_endswith;
    }

    node_ptr comparison_expression()
    {
        auto left = unary_expression();
        for (;;) {
            if (const auto op = ordering_operator()) {
                advance();
                left = make_less_greater(*op, std::move(left), unary_expression());
                continue;
            }
            bool negated = false;
            if (cur_.kind == tok::kw_not && is_not_suffix(peek().kind)) {
                advance();
                negated = true;
            }
            switch (cur_.kind) {
            case tok::kw_between: {
                advance();
                auto low = unary_expression();
                expect(tok::kw_and, "AND");
                left = make_between(std::move(left), std::move(low), unary_expression(), negated);
                break;
            }
            case tok::kw_in:
                advance();
                left = in_list(std::move(left), negated);
                break;
            case tok::kw_contains:
            case tok::kw_startswith:
            case tok::kw_endswith:
                left = string_match(std::move(left), negated);
                break;
            default:
                return left;
            }
        }
    }

    std::optional<compare_op> ordering_operator() const noexcept
    {
        switch (cur_.kind) {
        case tok::gt: return compare_op::gt;
        case tok::ge: return compare_op::ge;
        case tok::lt: return compare_op::lt;
        case tok::le: return compare_op::le;
        default: return std::nullopt;
        }
    }

    node_ptr in_list(node_ptr left, bool negated)
    {
        if (left->kind != node_kind::property)
            throw syntax_error{"IN needs a property on its left, got " + describe(*left)};
        auto n = make(node_kind::in, true, std::move(left));
        n->negated = negated;
        expect(tok::lparen, "'('");
        do {
            n->list.push_back(string_literal());
        } while (accept(tok::comma));
        expect(tok::rparen, "')'");
        return n;
    }

    node_ptr string_match(node_ptr left, bool negated)
    {
        const auto op = cur_.kind == tok::kw_contains ? match_op::contains
                        : cur_.kind == tok::kw_startswith ? match_op::starts_with
                                                          : match_op::ends_with;
        advance();
        auto n = make(node_kind::string_match, true, std::move(left));
        n->match = op;
        n->negated = negated;
        n->text = string_literal();
        return n;
    }

    std::string string_literal()
    {
        if (cur_.kind != tok::string)
            throw syntax_error{"expected a string literal but found " + describe(cur_) + " at position " +
                               std::to_string(cur_.pos)};
        std::string out;
        const auto body = cur_.text.substr(1, cur_.text.size() - 2);
        for (std::size_t i = 0; i < body.size(); ++i) {
            out += body[i];
            if (body[i] == '\'')
                ++i;  // '' → '
        }
        advance();
        return out;
    }

    node_ptr unary_expression()
    {
        // Parenthesised and unary nesting recurse here; bound it before the stack suffers.
        if (++nesting_ > max_nesting)
            throw syntax_error{"expression nested too deeply (more than " + std::to_string(max_nesting) +
                               " levels of parentheses or unary operators)"};
        node_ptr n;
        if (accept(tok::plus))
            n = unary_expression();
        else if (accept(tok::minus))
            n = make(node_kind::negate, false, unary_expression());
        else if (accept(tok::kw_not))
            n = make_not(as_boolean(unary_expression()));
        else
            n = primary_expression();
        --nesting_;
        return n;
    }

    node_ptr primary_expression()
    {
        switch (cur_.kind) {
        case tok::string: {
            auto n = make_constant(jtype::string);
            n->text = string_literal();
            return n;
        }
        case tok::decimal:
            return decimal_literal();
        case tok::floating:
            return floating_literal();
        case tok::kw_true:
        case tok::kw_false: {
            auto n = make_constant(jtype::boolean);
            n->bool_value = cur_.kind == tok::kw_true;
            advance();
            return n;
        }
        case tok::kw_null:
            advance();
            return make_constant(jtype::null);
        case tok::id: {
            auto n = make(node_kind::property, false);
            n->text = std::string(cur_.text);
            advance();
            return n;
        }
        case tok::lparen: {
            advance();
            auto n = or_expression();
            expect(tok::rparen, "')'");
            return n;
        }
        default:
            unexpected();
        }
    }

    // ConstantExpression.createFromDecimal: a long (error if it overflows), narrowed to an int
    // when it fits.
    node_ptr decimal_literal()
    {
        auto digits = cur_.text;
        if ((digits.back() | 0x20) == 'l')
            digits.remove_suffix(1);
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (ec != std::errc{} || p != digits.data() + digits.size())
            throw syntax_error{"number " + std::string(cur_.text) + " is out of the range of a long"};
        const bool fits_int = v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max();
        auto n = make_constant(fits_int ? jtype::int32 : jtype::int64);
        n->int_value = v;
        advance();
        return n;
    }

    // ConstantExpression.createFloat rejects infinity and anything below Double.MIN_VALUE,
    // which includes 0.0 itself.
    node_ptr floating_literal()
    {
        auto v = parse_java_double(cur_.text);
        if (!v || std::isinf(*v))
            throw syntax_error{"number " + std::string(cur_.text) + " is greater than the largest double"};
        if (*v < std::numeric_limits<double>::denorm_min())
            throw syntax_error{"number " + std::string(cur_.text) + " is less than the smallest positive double"};
        auto n = make_constant(jtype::float64);
        n->double_value = *v;
        advance();
        return n;
    }

    lexer lex_;
    token cur_;
    std::optional<token> ahead_;
    int nesting_ = 0;
};

}  // namespace
}  // namespace detail

error_code sql_filter::compile(std::string_view expr, sql_filter& out, std::string* error_message)
{
    try {
        auto root = detail::parser(expr).parse();
        out.expression_ = std::string(expr);
        out.root_ = std::shared_ptr<const detail::sql_node>(std::move(root));
        return {};
    } catch (const detail::syntax_error& e) {
        if (error_message)
            *error_message = "invalid SQL92 filter: " + e.message;
        return client_errc::invalid_argument;
    }
}

bool sql_filter::evaluate(const std::function<std::optional<std::string_view>(std::string_view name)>& property) const
{
    if (!root_)
        return false;
    auto v = detail::eval(*root_, property);
    return v && v->is_true();
}

}  // namespace corocket
