// The local host address used in unique ids and the client id (protocol.md §5.1).
#include "message/ids.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <optional>

namespace corocket::detail {

namespace {

bool is_private_v4(const std::uint8_t* a) noexcept
{
    return a[0] == 10 || (a[0] == 172 && (a[1] & 0xF0) == 16) || (a[0] == 192 && a[1] == 168);
}

bool is_usable_v4(const std::uint8_t* a) noexcept
{
    return a[0] != 127 && a[0] != 0 && !(a[0] == 169 && a[1] == 254);
}

bool is_usable_v6(const std::uint8_t* a) noexcept
{
    static constexpr std::uint8_t loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const bool is_loopback = std::equal(a, a + 16, loopback);
    const bool is_link_local = a[0] == 0xFE && (a[1] & 0xC0) == 0x80;
    const bool is_unspecified = std::all_of(a, a + 16, [](std::uint8_t b) { return b == 0; });
    return !is_loopback && !is_link_local && !is_unspecified;
}

}  // namespace

host_address default_host_address()
{
    std::optional<host_address> public_v4, private_v4, v6;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
        std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> guard(list, &::freeifaddrs);
        for (auto* it = list; it != nullptr; it = it->ifa_next) {
            if (it->ifa_addr == nullptr) continue;
            if (it->ifa_addr->sa_family == AF_INET) {
                const auto* sin = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
                const auto* a = reinterpret_cast<const std::uint8_t*>(&sin->sin_addr);
                if (!is_usable_v4(a)) continue;
                auto& slot = is_private_v4(a) ? private_v4 : public_v4;
                if (!slot) slot = host_address::from_bytes({a, 4}, 0);
            } else if (it->ifa_addr->sa_family == AF_INET6) {
                const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
                const auto* a = reinterpret_cast<const std::uint8_t*>(&sin6->sin6_addr);
                if (!v6 && is_usable_v6(a)) v6 = host_address::from_bytes({a, 16}, 0);
            }
        }
    }
    if (public_v4) return *public_v4;
    if (private_v4) return *private_v4;
    if (v6) return *v6;
    host_address loopback;
    loopback.ip[0] = 127;
    loopback.ip[3] = 1;
    return loopback;
}

}  // namespace corocket::detail
