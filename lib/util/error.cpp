#include <corocket/error.hpp>
#include <corocket/logger.hpp>
#include <corocket/remoting/codes.hpp>

#include <fmt/format.h>

#include <utility>

namespace corocket {
namespace {

struct code_name {
    int code;
    const char* name;
};

constexpr code_name response_names[] = {
    {0, "SUCCESS"}, {1, "SYSTEM_ERROR"}, {2, "SYSTEM_BUSY"}, {3, "REQUEST_CODE_NOT_SUPPORTED"},
    {4, "TRANSACTION_FAILED"}, {10, "FLUSH_DISK_TIMEOUT"}, {11, "SLAVE_NOT_AVAILABLE"},
    {12, "FLUSH_SLAVE_TIMEOUT"}, {13, "MESSAGE_ILLEGAL"}, {14, "SERVICE_NOT_AVAILABLE"},
    {15, "VERSION_NOT_SUPPORTED"}, {16, "NO_PERMISSION"}, {17, "TOPIC_NOT_EXIST"},
    {18, "TOPIC_EXIST_ALREADY"}, {19, "PULL_NOT_FOUND"}, {20, "PULL_RETRY_IMMEDIATELY"},
    {21, "PULL_OFFSET_MOVED"}, {22, "QUERY_NOT_FOUND"}, {23, "SUBSCRIPTION_PARSE_FAILED"},
    {24, "SUBSCRIPTION_NOT_EXIST"}, {25, "SUBSCRIPTION_NOT_LATEST"},
    {26, "SUBSCRIPTION_GROUP_NOT_EXIST"}, {27, "FILTER_DATA_NOT_EXIST"},
    {28, "FILTER_DATA_NOT_LATEST"}, {29, "INVALID_PARAMETER"}, {200, "TRANSACTION_SHOULD_COMMIT"},
    {201, "TRANSACTION_SHOULD_ROLLBACK"}, {202, "TRANSACTION_STATE_UNKNOW"},
    {203, "TRANSACTION_STATE_GROUP_WRONG"}, {204, "NO_BUYER_ID"}, {205, "NOT_IN_CURRENT_UNIT"},
    {206, "CONSUMER_NOT_ONLINE"}, {207, "CONSUME_MSG_TIMEOUT"}, {208, "NO_MESSAGE"},
    {209, "POLLING_FULL"}, {210, "POLLING_TIMEOUT"}, {211, "BROKER_NOT_EXIST"},
    {212, "BROKER_DISPATCH_NOT_COMPLETE"}, {213, "BROADCAST_CONSUMPTION"}, {215, "FLOW_CONTROL"},
    {501, "NOT_LEADER_FOR_QUEUE"}, {604, "ILLEGAL_OPERATION"}, {1500, "GO_AWAY"},
};

constexpr code_name request_names[] = {
    {10, "SEND_MESSAGE"}, {11, "PULL_MESSAGE"}, {12, "QUERY_MESSAGE"},
    {14, "QUERY_CONSUMER_OFFSET"}, {15, "UPDATE_CONSUMER_OFFSET"}, {17, "UPDATE_AND_CREATE_TOPIC"},
    {26, "GET_BROKER_CONFIG"}, {28, "GET_BROKER_RUNTIME_INFO"}, {29, "SEARCH_OFFSET_BY_TIMESTAMP"},
    {30, "GET_MAX_OFFSET"}, {31, "GET_MIN_OFFSET"}, {32, "GET_EARLIEST_MSG_STORETIME"},
    {33, "VIEW_MESSAGE_BY_ID"}, {34, "HEART_BEAT"}, {35, "UNREGISTER_CLIENT"},
    {36, "CONSUMER_SEND_MSG_BACK"}, {37, "END_TRANSACTION"}, {38, "GET_CONSUMER_LIST_BY_GROUP"},
    {39, "CHECK_TRANSACTION_STATE"}, {40, "NOTIFY_CONSUMER_IDS_CHANGED"}, {41, "LOCK_BATCH_MQ"},
    {42, "UNLOCK_BATCH_MQ"}, {46, "CHECK_CLIENT_CONFIG"}, {103, "REGISTER_BROKER"},
    {104, "UNREGISTER_BROKER"}, {105, "GET_ROUTEINFO_BY_TOPIC"}, {106, "GET_BROKER_CLUSTER_INFO"},
    {202, "GET_TOPIC_STATS_INFO"}, {203, "GET_CONSUMER_CONNECTION_LIST"},
    {206, "GET_ALL_TOPIC_LIST_FROM_NAMESERVER"}, {220, "RESET_CONSUMER_CLIENT_OFFSET"},
    {221, "GET_CONSUMER_STATUS_FROM_CLIENT"}, {224, "GET_TOPICS_BY_CLUSTER"},
    {307, "GET_CONSUMER_RUNNING_INFO"}, {309, "CONSUME_MESSAGE_DIRECTLY"},
    {310, "SEND_MESSAGE_V2"}, {320, "SEND_BATCH_MESSAGE"}, {324, "SEND_REPLY_MESSAGE"},
    {325, "SEND_REPLY_MESSAGE_V2"}, {326, "PUSH_REPLY_MESSAGE_TO_CLIENT"},
    {361, "LITE_PULL_MESSAGE"},
};

template <std::size_t N>
const char* find_name(const code_name (&table)[N], int code) noexcept
{
    for (const auto& e : table)
        if (e.code == code)
            return e.name;
    return nullptr;
}

class client_category_impl final : public error_category {
public:
    const char* name() const noexcept override { return "corocket.client"; }
    std::string message(int ev) const override
    {
        switch (static_cast<client_errc>(ev)) {
        case client_errc::timeout: return "the call timed out";
        case client_errc::connection_closed: return "the connection was closed";
        case client_errc::connect_failed: return "could not connect";
        case client_errc::frame_too_large: return "frame larger than the maximum frame size";
        case client_errc::corrupt_frame: return "corrupt frame (bad length or serialize type)";
        case client_errc::bad_header: return "malformed command header";
        case client_errc::bad_body: return "malformed response body";
        case client_errc::bad_message: return "malformed stored message";
        case client_errc::invalid_argument: return "invalid argument";
        case client_errc::invalid_topic: return "invalid topic name";
        case client_errc::empty_body: return "message body is empty";
        case client_errc::message_too_large: return "message body exceeds the size limit";
        case client_errc::reserved_property: return "property name is reserved by RocketMQ";
        case client_errc::no_route: return "no route info for the topic";
        case client_errc::no_name_server: return "no name server available";
        case client_errc::no_broker_address: return "no address for the broker";
        case client_errc::not_running: return "not running";
        case client_errc::operation_aborted: return "operation aborted";
        case client_errc::unexpected_response: return "unexpected response";
        case client_errc::compression_failed: return "compression failed";
        case client_errc::tls_failed: return "TLS set-up failed";
        }
        return fmt::format("corocket.client error {}", ev);
    }
};

class broker_category_impl final : public error_category {
public:
    const char* name() const noexcept override { return "corocket.broker"; }
    std::string message(int ev) const override { return response_code_name(ev); }
};

}  // namespace

const error_category& client_category() noexcept
{
    static const client_category_impl c;
    return c;
}

const error_category& broker_category() noexcept
{
    static const broker_category_impl c;
    return c;
}

std::string response_code_name(int code)
{
    if (const char* n = find_name(response_names, code))
        return n;
    return fmt::format("RESPONSE_CODE_{}", code);
}

std::string request_code_name(int code)
{
    if (const char* n = find_name(request_names, code))
        return n;
    return fmt::format("REQUEST_CODE_{}", code);
}

bool is_retriable(const error_code& ec) noexcept
{
    namespace rc = remoting::response_code;
    if (!ec)
        return false;
    if (ec.category() == broker_category()) {
        switch (ec.value()) {
        case rc::topic_not_exist: case rc::service_not_available: case rc::system_error:
        case rc::system_busy: case rc::no_permission: case rc::no_buyer_id:
        case rc::not_in_current_unit: case rc::go_away:
            return true;
        default:
            return false;
        }
    }
    if (ec.category() == client_category()) {
        switch (static_cast<client_errc>(ec.value())) {
        case client_errc::timeout: case client_errc::connection_closed:
        case client_errc::connect_failed: case client_errc::no_broker_address:
            return true;
        default:
            return false;
        }
    }
    // Asio / system errors are network failures.
    return true;
}

std::string diagnostics::to_string() const
{
    if (remark.empty())
        return client_message;
    if (client_message.empty())
        return remark;
    return client_message + ": " + remark;
}

const char* to_string(log_level l) noexcept
{
    switch (l) {
    case log_level::trace: return "TRACE";
    case log_level::debug: return "DEBUG";
    case log_level::info: return "INFO";
    case log_level::warn: return "WARN";
    case log_level::error: return "ERROR";
    case log_level::off: return "OFF";
    }
    return "?";
}

}  // namespace corocket
