// Boost.JSON compiled once, here (header-only mode: this TU includes its sources).
#include <boost/json/src.hpp>

#include "util/json.hpp"

namespace corocket::detail {

std::string to_json(const boost::json::value& v)
{
    return boost::json::serialize(v);
}

}  // namespace corocket::detail
