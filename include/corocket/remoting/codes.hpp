// Request and response codes of the remoting protocol (RequestCode / ResponseCode in the
// Java sources), as plain integers: brokers may answer codes this list does not name.
#pragma once

namespace corocket::remoting {

namespace request_code {
inline constexpr int send_message = 10;
inline constexpr int pull_message = 11;
inline constexpr int query_message = 12;
inline constexpr int query_consumer_offset = 14;
inline constexpr int update_consumer_offset = 15;
inline constexpr int update_and_create_topic = 17;
inline constexpr int get_broker_config = 26;
inline constexpr int get_broker_runtime_info = 28;
inline constexpr int search_offset_by_timestamp = 29;
inline constexpr int get_max_offset = 30;
inline constexpr int get_min_offset = 31;
inline constexpr int get_earliest_msg_storetime = 32;
inline constexpr int view_message_by_id = 33;
inline constexpr int heart_beat = 34;
inline constexpr int unregister_client = 35;
inline constexpr int consumer_send_msg_back = 36;
inline constexpr int end_transaction = 37;
inline constexpr int get_consumer_list_by_group = 38;
inline constexpr int check_transaction_state = 39;
inline constexpr int notify_consumer_ids_changed = 40;
inline constexpr int lock_batch_mq = 41;
inline constexpr int unlock_batch_mq = 42;
inline constexpr int check_client_config = 46;
inline constexpr int register_broker = 103;
inline constexpr int unregister_broker = 104;
inline constexpr int get_routeinfo_by_topic = 105;
inline constexpr int get_broker_cluster_info = 106;
inline constexpr int get_topic_stats_info = 202;
inline constexpr int get_consumer_connection_list = 203;
inline constexpr int get_all_topic_list_from_nameserver = 206;
inline constexpr int reset_consumer_client_offset = 220;
inline constexpr int get_consumer_status_from_client = 221;
inline constexpr int get_topics_by_cluster = 224;
inline constexpr int get_consumer_running_info = 307;
inline constexpr int consume_message_directly = 309;
inline constexpr int send_message_v2 = 310;
inline constexpr int send_batch_message = 320;
inline constexpr int send_reply_message = 324;
inline constexpr int send_reply_message_v2 = 325;
inline constexpr int push_reply_message_to_client = 326;
inline constexpr int lite_pull_message = 361;
}  // namespace request_code

namespace response_code {
inline constexpr int success = 0;
inline constexpr int system_error = 1;
inline constexpr int system_busy = 2;
inline constexpr int request_code_not_supported = 3;
inline constexpr int transaction_failed = 4;
inline constexpr int flush_disk_timeout = 10;
inline constexpr int slave_not_available = 11;
inline constexpr int flush_slave_timeout = 12;
inline constexpr int message_illegal = 13;
inline constexpr int service_not_available = 14;
inline constexpr int version_not_supported = 15;
inline constexpr int no_permission = 16;
inline constexpr int topic_not_exist = 17;
inline constexpr int topic_exist_already = 18;
inline constexpr int pull_not_found = 19;
inline constexpr int pull_retry_immediately = 20;
inline constexpr int pull_offset_moved = 21;
inline constexpr int query_not_found = 22;
inline constexpr int subscription_parse_failed = 23;
inline constexpr int subscription_not_exist = 24;
inline constexpr int subscription_not_latest = 25;
inline constexpr int subscription_group_not_exist = 26;
inline constexpr int filter_data_not_exist = 27;
inline constexpr int filter_data_not_latest = 28;
inline constexpr int invalid_parameter = 29;
inline constexpr int transaction_should_commit = 200;
inline constexpr int transaction_should_rollback = 201;
inline constexpr int transaction_state_unknow = 202;
inline constexpr int transaction_state_group_wrong = 203;
inline constexpr int no_buyer_id = 204;
inline constexpr int not_in_current_unit = 205;
inline constexpr int consumer_not_online = 206;
inline constexpr int consume_msg_timeout = 207;
inline constexpr int no_message = 208;
inline constexpr int flow_control = 215;
inline constexpr int illegal_operation = 604;
inline constexpr int go_away = 1500;
}  // namespace response_code

}  // namespace corocket::remoting
