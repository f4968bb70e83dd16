// Namespaces (protocol.md §7.13).
#include "message/namespace.hpp"

#include <catch2/catch.hpp>

using namespace corocket::detail;

TEST_CASE("wrap_namespace follows the protocol examples")
{
    CHECK(wrap_namespace("MQ_INST_1", "Orders") == "MQ_INST_1%Orders");
    CHECK(wrap_namespace("MQ_INST_1", "CG") == "MQ_INST_1%CG");
    CHECK(wrap_namespace("MQ_INST_1", "%RETRY%CG") == "%RETRY%MQ_INST_1%CG");
    CHECK(wrap_namespace("MQ_INST_1", "%DLQ%CG") == "%DLQ%MQ_INST_1%CG");
    CHECK(wrap_namespace("MQ_INST_1", retry_topic(wrap_namespace("MQ_INST_1", "CG"))) == "%RETRY%MQ_INST_1%CG");
}

TEST_CASE("wrap_namespace leaves some names alone")
{
    CHECK(wrap_namespace("", "Orders") == "Orders");
    CHECK(wrap_namespace("ns", "") == "");
    CHECK(wrap_namespace("ns", "ns%Orders") == "ns%Orders");
    CHECK(wrap_namespace("ns", "%RETRY%ns%CG") == "%RETRY%ns%CG");
    // Only the exact "ns%" prefix counts as wrapped.
    CHECK(wrap_namespace("ns", "nsx%Orders") == "ns%nsx%Orders");
    CHECK(wrap_namespace("ns", "ns") == "ns%ns");
    for (const char* sys : {"TBW102", "SCHEDULE_TOPIC_XXXX", "BenchmarkTest", "RMQ_SYS_TRANS_HALF_TOPIC",
                            "RMQ_SYS_TRACE_TOPIC", "RMQ_SYS_TRANS_OP_HALF_TOPIC", "TRANS_CHECK_MAX_TIME_TOPIC",
                            "SELF_TEST_TOPIC", "OFFSET_MOVED_EVENT", "CHECKPOINT_TOPIC", "rmq_sys_wheel_timer",
                            "CID_RMQ_SYS_TRACE"})
        CHECK(wrap_namespace("ns", sys) == sys);
}

TEST_CASE("unwrap_namespace is the inverse")
{
    CHECK(unwrap_namespace("MQ_INST_1", "MQ_INST_1%Orders") == "Orders");
    CHECK(unwrap_namespace("MQ_INST_1", "%RETRY%MQ_INST_1%CG") == "%RETRY%CG");
    CHECK(unwrap_namespace("MQ_INST_1", "%DLQ%MQ_INST_1%CG") == "%DLQ%CG");
    CHECK(unwrap_namespace("MQ_INST_1", "Orders") == "Orders");
    CHECK(unwrap_namespace("MQ_INST_1", "OTHER%Orders") == "OTHER%Orders");
    CHECK(unwrap_namespace("", "ns%Orders") == "ns%Orders");
    CHECK(unwrap_namespace("ns", "TBW102") == "TBW102");
    // Only the first ns% is stripped.
    CHECK(unwrap_namespace("ns", "ns%ns%x") == "ns%x");
    for (const char* name : {"Orders", "%RETRY%G", "%DLQ%G", "a%b"})
        CHECK(unwrap_namespace("ns", wrap_namespace("ns", name)) == name);
}

TEST_CASE("system topic and group sets")
{
    CHECK(is_system_topic("TBW102"));
    CHECK(is_system_topic("rmq_sys_anything"));
    CHECK_FALSE(is_system_topic("GoldenSend"));
    CHECK(is_system_group("CID_RMQ_SYS_X"));
    CHECK_FALSE(is_system_group("CID_X"));
    CHECK(is_not_sendable_topic("SCHEDULE_TOPIC_XXXX"));
    CHECK(is_not_sendable_topic("OFFSET_MOVED_EVENT"));
    CHECK_FALSE(is_not_sendable_topic("TBW102"));
    CHECK_FALSE(is_not_sendable_topic("RMQ_SYS_TRACE_TOPIC"));
    CHECK(retry_topic("G") == "%RETRY%G");
    CHECK(dlq_topic("G") == "%DLQ%G");
}
