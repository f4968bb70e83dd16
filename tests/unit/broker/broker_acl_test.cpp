// The broker's plain ACL: signatures, accounts and resource permissions, with the remarks a
// 4.9.8 broker sends (acl.jsonl).
#include "broker_client.hpp"

#include <corocket/acl.hpp>

using namespace corocket;
using namespace corocket::test;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

testing::cluster_options acl_options()
{
    testing::cluster_options o;
    o.acl_enable = true;
    testing::acl_account user;
    user.access_key = "RocketMQ";
    user.secret_key = "12345678";
    user.topic_perms = {{"GoldenAcl", "PUB|SUB"}, {"GoldenAclDenied", "DENY"}};
    user.group_perms = {{"GoldenAclGroup", "SUB"}};
    testing::acl_account admin;
    admin.access_key = "rocketmq2";
    admin.secret_key = "12345678";
    admin.admin = true;
    o.acl_accounts = {user, admin};
    return o;
}

test_client signed_client(asio::io_context& ioc, const std::string& address, std::string ak, std::string sk)
{
    credentials c;
    c.access_key = std::move(ak);
    c.secret_key = std::move(sk);
    std::vector<std::shared_ptr<remoting::rpc_hook>> hooks{std::make_shared<acl_hook>(c)};
    return test_client(ioc.get_executor(), address, remoting::serialize_type::json, 409, std::move(hooks));
}

std::string acl_remark(std::string_view message, std::string_view where)
{
    return "org.apache.rocketmq.acl.common.AclException: " + std::string(message) +
           ", org.apache.rocketmq.acl.plain.PlainPermissionManager." + std::string(where);
}

}  // namespace

TEST_CASE("ACL: signed requests pass, bad signatures and missing permissions fail with SYSTEM_ERROR")
{
    with_cluster(acl_options(), [](asio::io_context& ioc, testing::embedded_cluster& cluster) -> asio::awaitable<void> {
        cluster.create_topic("GoldenAcl", 2);
        cluster.create_topic("GoldenAclDenied", 2);
        cluster.create_topic("Unlisted", 2);
        auto user = signed_client(ioc, cluster.broker_address(), "RocketMQ", "12345678");
        auto wrong = signed_client(ioc, cluster.broker_address(), "RocketMQ", "wrong-secret");
        auto stranger = signed_client(ioc, cluster.broker_address(), "Nobody", "12345678");
        auto admin = signed_client(ioc, cluster.broker_address(), "rocketmq2", "12345678");
        test_client anonymous(ioc.get_executor(), cluster.broker_address());

        send_args a;
        a.topic = "GoldenAcl";
        co_await send_ok(user, a);

        auto bad_sig = co_await wrong.call(send_v2(a));
        CHECK(bad_sig.code == rs::system_error);
        CHECK(bad_sig.remark.value_or("") ==
              acl_remark("Check signature failed for accessKey=RocketMQ", "validate(PlainPermissionManager.java:684)"));
        auto hb = heart_beat("bad", {"PG"});
        auto bad_hb = co_await wrong.call(std::move(hb));
        CHECK(bad_hb.code == rs::system_error);

        a.topic = "GoldenAclDenied";
        auto denied = co_await user.call(send_v2(a));
        CHECK(denied.code == rs::system_error);
        CHECK(denied.remark.value_or("") ==
              acl_remark("No default permission for topic:GoldenAclDenied", "checkPerm(PlainPermissionManager.java:611)"));
        a.topic = "Unlisted";  // defaultTopicPerm DENY
        auto unlisted = co_await user.call(send_v2(a));
        CHECK(unlisted.remark.value_or("").find("No default permission for topic:Unlisted") != std::string::npos);

        auto unsigned_req = co_await anonymous.call(send_v2(a));
        CHECK(unsigned_req.code == rs::system_error);
        CHECK(unsigned_req.remark.value_or("").find("No accessKey is configured") != std::string::npos);
        auto unknown_key = co_await stranger.call(send_v2(a));
        CHECK(unknown_key.remark.value_or("").find("No acl config for Nobody") != std::string::npos);

        // Pulls need SUB on the topic and on the group (via its retry topic); defaultGroupPerm SUB.
        auto pulled = co_await user.call(pull_all("GoldenAcl", 0, 0, "GoldenAclGroup"));
        CHECK(pulled.code == rs::success);
        auto other_group = co_await user.call(pull_all("GoldenAcl", 0, 0, "AnyGroup"));
        CHECK(other_group.code == rs::success);

        // Topic administration needs an admin account; admins without resource rules pass all.
        auto create = command::request(rc::update_and_create_topic);
        create.ext_fields.set("topic", "AdminMade");
        create.ext_fields.set("defaultTopic", "TBW102");
        create.ext_fields.set("readQueueNums", "1");
        create.ext_fields.set("writeQueueNums", "1");
        create.ext_fields.set("perm", "6");
        create.ext_fields.set("topicFilterType", "SINGLE_TAG");
        create.ext_fields.set("order", "false");
        auto not_admin = co_await user.call(create);
        CHECK(not_admin.code == rs::system_error);
        CHECK(not_admin.remark.value_or("").find("Need admin permission for request code=17") != std::string::npos);
        auto by_admin = co_await admin.call(std::move(create));
        CHECK(by_admin.code == rs::success);
        a.topic = "AdminMade";
        co_await send_ok(admin, a);

        co_await user.close();
        co_await wrong.close();
        co_await stranger.close();
        co_await admin.close();
        co_await anonymous.close();
    });
}
