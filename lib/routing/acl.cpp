// ACL signing: HMAC-SHA1 over the sorted extFields values and the body (protocol.md §7.14).
#include <corocket/acl.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace corocket {
namespace {

constexpr std::string_view signature_key = "Signature";
constexpr std::string_view access_key_key = "AccessKey";
constexpr std::string_view security_token_key = "SecurityToken";
constexpr std::string_view unique_key_query_key = "_UNIQUE_KEY_QUERY";

std::string base64(const unsigned char* data, int size)
{
    std::string out(static_cast<std::size_t>(4 * ((size + 2) / 3)), '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, size);
    out.resize(static_cast<std::size_t>(written));
    return out;
}

}  // namespace

std::string acl_signature(const remoting::ext_fields& fields_without_signature, std::string_view body,
                          std::string_view secret_key)
{
    // Java sorts the keys as Strings (UTF-16 code units); RocketMQ's keys are ASCII, where that is
    // plain byte order.
    std::vector<const remoting::ext_fields::value_type*> sorted;
    sorted.reserve(fields_without_signature.size());
    for (const auto& field : fields_without_signature) {
        if (field.first != signature_key)
            sorted.push_back(&field);
    }
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });

    std::string content;
    for (const auto* field : sorted)
        content += field->second;
    content.append(body);

    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    // An empty string_view may carry a null pointer, which OpenSSL reads as "no key".
    const char* key = secret_key.empty() ? "" : secret_key.data();
    HMAC(EVP_sha1(), key, static_cast<int>(secret_key.size()),
         reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &mac_size);
    return base64(mac, static_cast<int>(mac_size));
}

void acl_hook::before_request(std::string_view /*address*/, remoting::command& request)
{
    auto& fields = request.ext_fields;
    fields.erase(unique_key_query_key);
    fields.erase(signature_key);
    if (request.type == remoting::serialize_type::rocketmq) {
        std::vector<std::string> empty_keys;
        for (const auto& [key, value] : fields) {
            if (value.empty())
                empty_keys.push_back(key);
        }
        for (const auto& key : empty_keys)
            fields.erase(key);
    }
    fields.set(access_key_key, credentials_.access_key);
    if (!credentials_.security_token.empty())
        fields.set(security_token_key, credentials_.security_token);
    fields.set(signature_key, acl_signature(fields, request.body, credentials_.secret_key));
}

}  // namespace corocket
