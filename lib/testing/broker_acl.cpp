// The broker's plain ACL (PlainAccessValidator + PlainPermissionManager of 4.9.8). A failure is
// answered with SYSTEM_ERROR and the exception text RemotingHelper.exceptionSimpleDesc makes.
#include "testing/broker_core.hpp"
#include "testing/broker_util.hpp"

#include "message/namespace.hpp"

#include <corocket/acl.hpp>
#include <corocket/remoting/codes.hpp>

#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace corocket::testing::detail {

namespace cd = corocket::detail;
namespace rc = remoting::request_code;

namespace {

// Permission bits of org.apache.rocketmq.acl.common.Permission.
constexpr int perm_deny = 1;
constexpr int perm_any = 2;
constexpr int perm_pub = 4;
constexpr int perm_sub = 8;

int parse_perm(std::string_view s)
{
    while (!s.empty() && s.front() == ' ')
        s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ')
        s.remove_suffix(1);
    if (s == "PUB")
        return perm_pub;
    if (s == "SUB")
        return perm_sub;
    if (s == "PUB|SUB" || s == "SUB|PUB")
        return perm_pub | perm_sub;
    return perm_deny;
}

bool check_permission(int needed, int owned)
{
    if (owned & perm_deny)
        return false;
    if (needed & perm_any)
        return (owned & (perm_pub | perm_sub)) != 0;
    return (needed & owned) != 0;
}

bool needs_admin(int code)
{
    // Permission.ADMIN_CODE: topic and subscription-group administration and broker config.
    return code == rc::update_and_create_topic || code == 25 || code == 215 || code == 200 || code == 207;
}

/// exceptionSimpleDesc of an AclException thrown at the given place. Only the lines of the two
/// failures in the 4.9.8 capture are known exactly: validate:684 (signature) and checkPerm:611
/// (a resource whose configured permission denies it); the others are estimates.
std::string acl_error(std::string_view message, std::string_view method, int line)
{
    return fmt::format("org.apache.rocketmq.acl.common.AclException: {}, "
                       "org.apache.rocketmq.acl.plain.PlainPermissionManager.{}(PlainPermissionManager.java:{})",
                       message, method, line);
}

using resource_list = std::vector<std::pair<std::string, int>>;

void add(resource_list& r, std::optional<std::string> resource, int perm)
{
    if (!resource)
        return;
    // resourcePermMap.put: a later entry for the same resource replaces the earlier one.
    auto it = std::find_if(r.begin(), r.end(), [&](const auto& e) { return e.first == *resource; });
    if (it != r.end())
        it->second = perm;
    else
        r.emplace_back(std::move(*resource), perm);
}

std::optional<std::string> retry_of(const remoting::ext_fields& f, std::string_view key)
{
    if (const std::string* g = f.find(key))
        return cd::retry_topic(*g);
    return std::nullopt;
}

std::optional<std::string> field(const remoting::ext_fields& f, std::string_view key)
{
    if (const std::string* v = f.find(key))
        return *v;
    return std::nullopt;
}

/// PlainAccessValidator.parse: the resources a request needs, by request code.
resource_list needed_resources(const remoting::command& req)
{
    resource_list r;
    const auto& f = req.ext_fields;
    switch (req.code) {
    case rc::send_message: {
        auto topic = field(f, "topic");
        if (topic && topic->starts_with(cd::retry_topic_prefix))
            add(r, retry_of(f, "group"), perm_sub);
        else
            add(r, topic, perm_pub);
        break;
    }
    case rc::send_message_v2:
    case rc::send_batch_message: {
        auto topic = field(f, "b");
        if (topic && topic->starts_with(cd::retry_topic_prefix))
            add(r, retry_of(f, "a"), perm_sub);
        else
            add(r, topic, perm_pub);
        break;
    }
    case rc::consumer_send_msg_back: add(r, retry_of(f, "group"), perm_sub); break;
    case rc::pull_message:
        add(r, field(f, "topic"), perm_sub);
        add(r, retry_of(f, "consumerGroup"), perm_sub);
        break;
    case rc::query_message: add(r, field(f, "topic"), perm_sub); break;
    case rc::heart_beat:
        if (auto body = parse_body(req.body); body && body->is_object()) {
            if (auto* cs = body->as_object().if_contains("consumerDataSet"); cs && cs->is_array()) {
                for (const auto& c : cs->as_array()) {
                    if (!c.is_object())
                        continue;
                    add(r, cd::retry_topic(json_string(c.as_object(), "groupName")), perm_sub);
                    if (auto* subs = c.as_object().if_contains("subscriptionDataSet"); subs && subs->is_array())
                        for (const auto& s : subs->as_array())
                            if (s.is_object())
                                add(r, json_string(s.as_object(), "topic"), perm_sub);
                }
            }
        }
        break;
    case rc::unregister_client:
    case rc::get_consumer_list_by_group: add(r, retry_of(f, "consumerGroup"), perm_sub); break;
    case rc::update_consumer_offset:
        add(r, retry_of(f, "consumerGroup"), perm_sub);
        add(r, field(f, "topic"), perm_sub);
        break;
    default: break;
    }
    return r;
}

}  // namespace

std::optional<std::string> broker_core::acl_check(const channel_ref&, const remoting::command& req) const
{
    const auto& o = settings_.options;
    if (!o.acl_enable)
        return std::nullopt;
    const std::string* access_key = req.ext_fields.find("AccessKey");
    if (!access_key)
        return acl_error("No accessKey is configured", "validate", 670);
    auto account = std::find_if(o.acl_accounts.begin(), o.acl_accounts.end(),
                                [&](const acl_account& a) { return a.access_key == *access_key; });
    if (account == o.acl_accounts.end())
        return acl_error(fmt::format("No acl config for {}", *access_key), "validate", 674);

    // The signed content: every field but Signature (and _UNIQUE_KEY_QUERY, which 4.x brokers
    // never sign), sorted by key, then the body.
    remoting::ext_fields content;
    for (const auto& [k, v] : req.ext_fields)
        if (k != "Signature" && k != "_UNIQUE_KEY_QUERY")
            content.set(k, v);
    if (acl_signature(content, req.body, account->secret_key) != req.ext_fields.get("Signature"))
        return acl_error(fmt::format("Check signature failed for accessKey={}", *access_key), "validate", 684);

    const resource_list needed = needed_resources(req);
    // Message trace producers publishing to RMQ_SYS_TRACE_TOPIC skip the resource check.
    for (const auto& [res, perm] : needed)
        if (res == "RMQ_SYS_TRACE_TOPIC" && perm == perm_pub)
            return std::nullopt;
    if (needs_admin(req.code) && !account->admin)
        return acl_error(fmt::format("Need admin permission for request code={}, but accessKey={} is not", req.code,
                                     *access_key),
                         "checkPerm", 587);
    const bool has_resource_perms = !account->topic_perms.empty() || !account->group_perms.empty();
    if (needed.empty() || (!has_resource_perms && account->admin))
        return std::nullopt;
    for (const auto& [res, perm] : needed) {
        const bool is_group = res.starts_with(cd::retry_topic_prefix);
        const std::string name = is_group ? res.substr(cd::retry_topic_prefix.size()) : res;
        const auto& table = is_group ? account->group_perms : account->topic_perms;
        const std::string printed = fmt::format("{}:{}", is_group ? "group" : "topic", name);
        auto owned = table.find(name);
        if (owned == table.end()) {
            if (!check_permission(perm, parse_perm(is_group ? account->default_group_perm : account->default_topic_perm)))
                return acl_error("No default permission for " + printed, "checkPerm", 606);
            continue;
        }
        if (!check_permission(perm, parse_perm(owned->second)))
            return acl_error("No default permission for " + printed, "checkPerm", 611);
    }
    return std::nullopt;
}

}  // namespace corocket::testing::detail
