// KeyBuilder's non-template half: the encoding's primitives, JSON values, and SHA-256; and
// what keeps cached() memoizers' keys apart.
#include "asyncredis/cache/key_builder.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "asyncredis/error.hpp"

namespace asyncredis::detail {

namespace {

// Big-endian, whatever the machine: keys must not depend on it.
void store_big_endian(char* out, std::uint64_t value) noexcept {
  if constexpr (std::endian::native == std::endian::little) value = __builtin_bswap64(value);
  std::memcpy(out, &value, 8);
}

}  // namespace

void key_put_u64(std::string& out, std::uint64_t value) {
  char bytes[8];
  store_big_endian(bytes, value);
  out.append(bytes, sizeof bytes);
}

void key_put_tagged(std::string& out, char tag, std::uint64_t value) {
  // One append, not two: every cached() call encodes its arguments.
  char bytes[9];
  bytes[0] = tag;
  store_big_endian(bytes + 1, value);
  out.append(bytes, sizeof bytes);
}

void key_put_int(std::string& out, std::int64_t value) {
  key_put_tagged(out, 'i', static_cast<std::uint64_t>(value));
}

void key_put_uint(std::string& out, std::uint64_t value) {
  // The same number must give the same key whatever type carried it, so only values that
  // no signed type can hold get a tag of their own.
  if (value <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    key_put_int(out, static_cast<std::int64_t>(value));
    return;
  }
  key_put_tagged(out, 'u', value);
}

void key_put_double(std::string& out, double value) {
  if (value == 0.0) value = 0.0;  // -0.0 == 0.0: equal arguments, equal keys
  std::uint64_t bits = std::bit_cast<std::uint64_t>(value);
  if (std::isnan(value)) bits = 0x7ff8000000000000ull;  // NaN payloads and signs vary
  key_put_tagged(out, 'f', bits);
}

void key_put_text(std::string& out, char tag, std::string_view bytes) {
  key_put_tagged(out, tag, bytes.size());
  out.append(bytes);
}

void key_put_sorted(std::string& out, char tag, std::vector<std::string>& items) {
  // Encodings are prefix-free, so bytewise order of "key value" strings is the order of keys.
  std::sort(items.begin(), items.end());
  key_put_tagged(out, tag, items.size());
  for (const std::string& item : items) out += item;
}

void key_encode_json(std::string& out, const nlohmann::json& value) {
  using Type = nlohmann::json::value_t;
  switch (value.type()) {
    case Type::null:
      out += 'n';
      return;
    case Type::boolean:
      key_encode(out, value.get<bool>());
      return;
    case Type::number_integer:
      key_put_int(out, value.get<std::int64_t>());
      return;
    case Type::number_unsigned:
      key_put_uint(out, value.get<std::uint64_t>());
      return;
    case Type::number_float:
      key_put_double(out, value.get<double>());
      return;
    case Type::string:
      key_put_text(out, 's', value.get_ref<const std::string&>());
      return;
    case Type::binary: {
      const auto& bytes = value.get_binary();
      key_put_text(out, 'y',
                   std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      return;
    }
    case Type::array:
      key_put_tagged(out, 'l', value.size());
      for (const auto& item : value) key_encode_json(out, item);
      return;
    case Type::object: {
      std::vector<std::string> entries;
      entries.reserve(value.size());
      for (const auto& [k, v] : value.items()) {
        std::string entry;
        key_put_text(entry, 's', k);
        key_encode_json(entry, v);
        entries.push_back(std::move(entry));
      }
      key_put_sorted(out, 'm', entries);
      return;
    }
    case Type::discarded:
      break;
  }
  throw Error(errc::invalid_argument, "cache key: a discarded JSON value has no encoding");
}

namespace {

// OpenSSL 3 looks the algorithm up on every EVP_DigestInit with EVP_sha256(); fetching it
// once and reusing one context per thread keeps a key build well under a microsecond.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct DigestContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  DigestContext() = default;
  DigestContext(const DigestContext&) = delete;
  DigestContext& operator=(const DigestContext&) = delete;
  ~DigestContext() { EVP_MD_CTX_free(ctx); }
};

void sha256_hex_into(std::string& out, std::string_view bytes) {
  thread_local DigestContext context;
  const EVP_MD* md = sha256_md();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (md == nullptr || context.ctx == nullptr ||
      EVP_DigestInit_ex2(context.ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(context.ctx, bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(context.ctx, digest, &length) != 1) {
    throw Error(errc::invalid_argument, "cache key: OpenSSL SHA-256 is unavailable");
  }
  static constexpr char hex[] = "0123456789abcdef";
  const std::size_t at = out.size();
  out.resize(at + 2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out[at + 2 * i] = hex[digest[i] >> 4];
    out[at + 2 * i + 1] = hex[digest[i] & 0x0f];
  }
}

}  // namespace

namespace {

struct ScratchSlot {
  std::string buffer;
  bool in_use = false;
};

thread_local ScratchSlot scratch_slot;

}  // namespace

KeyScratch::KeyScratch() : buffer_(&own_) {
  if (!scratch_slot.in_use) {
    scratch_slot.in_use = true;
    borrowed_ = true;
    buffer_ = &scratch_slot.buffer;
  }
  buffer_->clear();
}

KeyScratch::~KeyScratch() {
  if (!borrowed_) return;
  // A huge argument should not pin its memory to the thread for good.
  if (scratch_slot.buffer.capacity() > 4096) std::string().swap(scratch_slot.buffer);
  scratch_slot.in_use = false;
}

std::string key_sha256_hex(std::string_view bytes) {
  std::string out;
  sha256_hex_into(out, bytes);
  return out;
}

std::string cached_digest_glob() {
  std::string glob;
  glob.reserve(64 * 8);
  for (int i = 0; i < 64; ++i) glob += "[0-9a-f]";
  return glob;
}

void cached_check_own_key(std::string_view prefix, std::string_view own) {
  if (!own.empty() && own.find(':') == std::string_view::npos) return;
  throw Error(errc::invalid_argument,
              "cached \"" + std::string(prefix) + "\": the key function returned \"" +
                  std::string(own) +
                  "\"; it must be non-empty without ':' (so no two memoizers share a key)");
}

std::string key_make(std::string_view prefix, std::string_view encoding) {
  std::string key;
  key.reserve(prefix.size() + 65);
  key.append(prefix);
  if (!prefix.empty()) key += ':';
  sha256_hex_into(key, encoding);
  return key;
}

}  // namespace asyncredis::detail
