// fastjson output → strict JSON → Boost.JSON. A tiny recursive scanner rewrites the two fastjson
// quirks (protocol.md §6.0): bare map keys (`{0:"a"}`) get quoted, and object/array map keys
// (`{{"topic":"T"}:5}`) become string keys holding their compact strict-JSON text. Everything
// else is copied through; Boost.JSON then validates the result.
#include "util/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace corocket::detail {
namespace {

// Deeper nesting than any RocketMQ body; bounds the recursion on hostile input.
constexpr int max_depth = 200;

bool is_space(char c) noexcept
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Characters that end a bare token (a number, true/false/null, or an unquoted key).
bool ends_token(char c) noexcept
{
    return is_space(c) || c == ',' || c == ':' || c == '{' || c == '}' || c == '[' || c == ']' ||
           c == '"';
}

class normalizer {
public:
    explicit normalizer(std::string_view in) : in_(in) { out_.reserve(in.size() + in.size() / 8); }

    bool run(std::string& out)
    {
        if (!value(out_, 0))
            return false;
        skip_space();
        if (pos_ != in_.size())
            return false;
        out = std::move(out_);
        return true;
    }

private:
    void skip_space() noexcept
    {
        while (pos_ < in_.size() && is_space(in_[pos_]))
            ++pos_;
    }

    bool at(char c) const noexcept { return pos_ < in_.size() && in_[pos_] == c; }

    bool value(std::string& out, int depth)
    {
        skip_space();
        if (pos_ >= in_.size() || depth > max_depth)
            return false;
        switch (in_[pos_]) {
        case '"':
            return string(out);
        case '{':
            return object(out, depth + 1);
        case '[':
            return array(out, depth + 1);
        default:
            return bare_token(out, false);
        }
    }

    // Copies a string literal verbatim, honouring backslash escapes (so `\"` does not end it).
    bool string(std::string& out)
    {
        const std::size_t start = pos_++;
        while (pos_ < in_.size()) {
            const char c = in_[pos_++];
            if (c == '\\') {
                if (pos_ >= in_.size())
                    return false;
                ++pos_;
            } else if (c == '"') {
                out.append(in_.substr(start, pos_ - start));
                return true;
            }
        }
        return false;
    }

    bool bare_token(std::string& out, bool quote)
    {
        const std::size_t start = pos_;
        while (pos_ < in_.size() && !ends_token(in_[pos_]))
            ++pos_;
        if (pos_ == start)
            return false;
        const auto token = in_.substr(start, pos_ - start);
        if (quote) {
            // A bare key never needs escaping unless it holds control characters or a
            // backslash; let the serializer handle those rare cases.
            out.append(boost::json::serialize(boost::json::string(token)));
        } else {
            out.append(token);
        }
        return true;
    }

    bool key(std::string& out, int depth)
    {
        skip_space();
        if (pos_ >= in_.size())
            return false;
        const char c = in_[pos_];
        if (c == '"')
            return string(out);
        if (c == '{' || c == '[')
            return structured_key(out, depth);
        return bare_token(out, true);
    }

    // An object or array in key position: normalise it, re-serialize it compactly and use
    // that text as a string key, so callers can parse the key again when they need it.
    bool structured_key(std::string& out, int depth)
    {
        std::string inner;
        if (!value(inner, depth))
            return false;
        boost::system::error_code ec;
        auto parsed = boost::json::parse(inner, ec);
        if (ec)
            return false;
        out.append(boost::json::serialize(boost::json::string(boost::json::serialize(parsed))));
        return true;
    }

    bool object(std::string& out, int depth)
    {
        ++pos_;
        out.push_back('{');
        skip_space();
        if (at('}')) {
            ++pos_;
            out.push_back('}');
            return true;
        }
        for (;;) {
            if (!key(out, depth))
                return false;
            skip_space();
            if (!at(':'))
                return false;
            ++pos_;
            out.push_back(':');
            if (!value(out, depth))
                return false;
            if (!separator(out, '}'))
                return false;
            if (out.back() == '}')
                return true;
        }
    }

    bool array(std::string& out, int depth)
    {
        ++pos_;
        out.push_back('[');
        skip_space();
        if (at(']')) {
            ++pos_;
            out.push_back(']');
            return true;
        }
        for (;;) {
            if (!value(out, depth))
                return false;
            if (!separator(out, ']'))
                return false;
            if (out.back() == ']')
                return true;
        }
    }

    // After a member: ',' (another follows) or the closing bracket.
    bool separator(std::string& out, char close)
    {
        skip_space();
        if (at(',') || at(close)) {
            out.push_back(in_[pos_++]);
            return true;
        }
        return false;
    }

    std::string_view in_;
    std::size_t pos_ = 0;
    std::string out_;
};

}  // namespace

error_code parse_lenient_json(std::string_view text, boost::json::value& out)
{
    std::string strict;
    if (!normalizer(text).run(strict))
        return client_errc::bad_body;
    boost::system::error_code ec;
    auto v = boost::json::parse(strict, ec);
    if (ec)
        return client_errc::bad_body;
    out = std::move(v);
    return {};
}

}  // namespace corocket::detail
