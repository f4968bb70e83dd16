// ACL request signing (protocol.md §7.14): AccessKey, SecurityToken and an HMAC-SHA1 Signature
// over the sorted extFields values and the body.
#pragma once

#include <corocket/remoting/command.hpp>
#include <corocket/remoting/connection.hpp>

#include <string>
#include <string_view>

namespace corocket {

struct credentials {
    std::string access_key;
    std::string secret_key;
    std::string security_token;  ///< STS token; empty = none

    bool empty() const noexcept { return access_key.empty() && secret_key.empty(); }
};

/// The Signature value: Base64 (with padding) of HMAC-SHA1(secret_key, values of all fields except
/// "Signature", sorted by key in Java String order, concatenated, followed by the body).
std::string acl_signature(const remoting::ext_fields& fields_without_signature, std::string_view body,
                          std::string_view secret_key);

/// Signs every request the client originates. Drops `_UNIQUE_KEY_QUERY` (brokers disagree on
/// whether it is signed) and, in binary headers, empty-valued fields (the broker decodes them as
/// null and signs "null" for them), then adds AccessKey, SecurityToken (if set) and Signature.
class acl_hook : public remoting::rpc_hook {
public:
    explicit acl_hook(credentials creds) : credentials_(std::move(creds)) {}

    void before_request(std::string_view address, remoting::command& request) override;

private:
    credentials credentials_;
};

}  // namespace corocket
