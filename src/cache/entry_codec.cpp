// Stored forms of cache entries (see entry_codec.hpp).
#include "cache/entry_codec.hpp"

#include <charconv>
#include <cmath>

#include "asyncredis/error.hpp"

namespace asyncredis::detail {

namespace {

// Reads "<digits>:" at `at`, advancing past the ':'.
bool read_number(std::string_view text, std::size_t& at, std::int64_t& out) {
  const char* begin = text.data() + at;
  const char* end = text.data() + text.size();
  auto [next, ec] = std::from_chars(begin, end, out);
  if (ec != std::errc() || next == end || *next != ':') return false;
  at = static_cast<std::size_t>(next - text.data()) + 1;
  return true;
}

}  // namespace

void parse_stored(std::string stored, std::string_view key, CacheEntry& entry,
                  RefreshHeader& header) {
  header = RefreshHeader{};
  if (stored_as_plain_json(stored)) {
    // Plain JSON (an empty string too: it is not JSON, and decoding says so, never a miss).
    entry.kind = CacheEntry::Kind::value;
    entry.json = std::move(stored);
    return;
  }
  if (stored.size() == 2 && stored[1] == 'N') {
    entry.kind = CacheEntry::Kind::not_found;
    entry.json.clear();
    return;
  }
  if (stored.size() > 2 && stored[1] == 'X') {
    std::size_t at = 2;
    if (read_number(stored, at, header.delta_ms) && read_number(stored, at, header.expiry_ms)) {
      header.present = true;
      entry.kind = CacheEntry::Kind::value;
      stored.erase(0, at);
      entry.json = std::move(stored);
      return;
    }
  }
  cache_decode_error(key, "unknown stored form (a 0x00 byte, but not one of this library's)");
}

std::string stored_form(const Computed& value) {
  if (value.kind == CacheEntry::Kind::not_found) return std::string("\0N", 2);
  return value.json;
}

std::string stored_form(const Computed& value, std::int64_t delta_ms, std::int64_t expiry_ms) {
  if (value.kind == CacheEntry::Kind::not_found) return stored_form(value);
  std::string out;
  out.reserve(value.json.size() + 32);
  out += stored_form_marker;
  out += 'X';
  out += std::to_string(delta_ms);
  out += ':';
  out += std::to_string(expiry_ms);
  out += ':';
  out += value.json;
  return out;
}

bool refresh_due(const RefreshHeader& header, std::int64_t now_ms, double beta,
                 double random) noexcept {
  if (!header.present || beta <= 0 || random <= 0) return false;
  const double early = -static_cast<double>(header.delta_ms) * beta * std::log(random);
  return static_cast<double>(now_ms) + early >= static_cast<double>(header.expiry_ms);
}

}  // namespace asyncredis::detail

// ---- the JSON helpers of cache_values.hpp -------------------------------------------------

namespace asyncredis::detail {

std::string cache_dump(const nlohmann::json& value) {
  try {
    return value.dump();
  } catch (const nlohmann::json::exception& e) {
    // dump() refuses strings that are not UTF-8; JSON cannot carry them.
    throw Error(errc::invalid_argument,
                std::string("cache: the value has no JSON text: ") + e.what());
  }
}

nlohmann::json cache_parse(const CacheEntry& entry, std::string_view key) {
  try {
    return nlohmann::json::parse(entry.json);
  } catch (const nlohmann::json::exception& e) {
    cache_decode_error(key, e.what());
  }
}

void cache_decode_error(std::string_view key, std::string_view what) {
  throw Error(errc::decode_error, "cache entry \"" + std::string(key) + "\": " + std::string(what));
}

}  // namespace asyncredis::detail
