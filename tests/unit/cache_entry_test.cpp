// The cache's server-free parts: stored forms, the XFetch draw, decoding into T, encoding
// "not found", option checks and TTL jitter.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <system_error>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/cache/cache_service.hpp"
#include "asyncredis/error.hpp"
#include "cache/cache_core.hpp"
#include "cache/entry_codec.hpp"

namespace asyncredis {
namespace {

using detail::CacheEntry;
using detail::Computed;
using detail::RefreshHeader;
using namespace std::chrono_literals;
using namespace std::string_literals;

struct User {
  std::string name;
  int age = 0;
  friend void to_json(nlohmann::json& j, const User& u) { j = {{"name", u.name}, {"age", u.age}}; }
  friend void from_json(const nlohmann::json& j, User& u) {
    j.at("name").get_to(u.name);
    j.at("age").get_to(u.age);
  }
};

template <class F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no asyncredis::Error thrown";
  return Error(errc{}, "");
}

CacheEntry parsed(std::string stored, RefreshHeader* header_out = nullptr) {
  CacheEntry entry;
  RefreshHeader header;
  detail::parse_stored(std::move(stored), "k", entry, header);
  if (header_out) *header_out = header;
  return entry;
}

TEST(CacheEntry, StoredForms) {
  CacheEntry value = parsed(R"({"a":1})");
  EXPECT_EQ(value.kind, CacheEntry::Kind::value);
  EXPECT_EQ(value.json, R"({"a":1})");

  EXPECT_EQ(parsed("null").kind, CacheEntry::Kind::value) << "JSON null is a value";
  CacheEntry empty = parsed("");
  EXPECT_EQ(empty.kind, CacheEntry::Kind::value) << "an empty string is not a miss";
  EXPECT_EQ(empty.json, "");

  EXPECT_EQ(parsed("\0N"s).kind, CacheEntry::Kind::not_found);

  RefreshHeader header;
  CacheEntry refreshed = parsed("\0X125:1700000000000:[1,2]"s, &header);
  EXPECT_EQ(refreshed.kind, CacheEntry::Kind::value);
  EXPECT_EQ(refreshed.json, "[1,2]");
  EXPECT_TRUE(header.present);
  EXPECT_EQ(header.delta_ms, 125);
  EXPECT_EQ(header.expiry_ms, 1700000000000);
  parsed("{}", &header);
  EXPECT_FALSE(header.present);
}

TEST(CacheEntry, UnknownStoredFormsAreErrorsNamingTheKey) {
  for (std::string bad : {"\0"s, "\0Z"s, "\0N "s, "\0X"s, "\0X12:"s, "\0Xa:1:{}"s, "\0X1:2"s}) {
    Error e = error_of([&] {
      CacheEntry entry;
      RefreshHeader header;
      detail::parse_stored(bad, "user:7", entry, header);
    });
    EXPECT_EQ(e.code(), errc::decode_error);
    EXPECT_NE(e.message().find("user:7"), std::string::npos) << e.message();
  }
}

TEST(CacheEntry, WrittenFormsReadBack) {
  Computed value;
  value.json = R"({"x":true})";
  EXPECT_EQ(detail::stored_form(value), value.json) << "plain JSON, as the Python side writes";
  RefreshHeader header;
  CacheEntry back = parsed(detail::stored_form(value, 40, 99), &header);
  EXPECT_EQ(back.json, value.json);
  EXPECT_EQ(header.delta_ms, 40);
  EXPECT_EQ(header.expiry_ms, 99);

  Computed none;
  none.kind = CacheEntry::Kind::not_found;
  EXPECT_EQ(detail::stored_form(none), "\0N"s);
  EXPECT_EQ(detail::stored_form(none, 40, 99), "\0N"s) << "a not-found has no refresh header";
  EXPECT_EQ(parsed(detail::stored_form(none)).kind, CacheEntry::Kind::not_found);
}

TEST(CacheEntry, XFetchDraw) {
  RefreshHeader header{true, 100, 10'000};
  // early = -delta * beta * ln(random)
  EXPECT_TRUE(detail::refresh_due(header, 10'000, 1.0, 1.0)) << "at expiry";
  EXPECT_FALSE(detail::refresh_due(header, 9'999, 1.0, 1.0)) << "ln(1) = 0: never early";
  EXPECT_TRUE(detail::refresh_due(header, 9'900, 1.0, std::exp(-1.0)));   // early = 100
  EXPECT_FALSE(detail::refresh_due(header, 9'899, 1.0, std::exp(-1.0)));  // 99 short
  EXPECT_TRUE(detail::refresh_due(header, 9'800, 2.0, std::exp(-1.0)));   // beta doubles it
  EXPECT_FALSE(detail::refresh_due(header, 9'800, 1.0, std::exp(-1.0)));
  EXPECT_FALSE(detail::refresh_due(header, 20'000, 0.0, 0.5)) << "beta 0: off";
  EXPECT_FALSE(detail::refresh_due(RefreshHeader{}, 20'000, 1.0, 0.5)) << "no header";
}

TEST(CacheEntry, DecodeIntoT) {
  CacheEntry value;
  value.kind = CacheEntry::Kind::value;
  value.json = R"({"name":"ada","age":36})";
  EXPECT_EQ(detail::cache_value_as<User>(value, "k").name, "ada");
  EXPECT_EQ(detail::cache_value_as<nlohmann::json>(value, "k")["age"], 36);
  EXPECT_EQ(detail::cache_value_as<std::optional<User>>(value, "k")->age, 36);

  CacheEntry miss;
  EXPECT_EQ(detail::cache_decode<User>(miss, "k"), std::nullopt);

  CacheEntry null_value;
  null_value.kind = CacheEntry::Kind::value;
  null_value.json = "null";
  auto as_json = detail::cache_decode<std::optional<nlohmann::json>>(null_value, "k");
  ASSERT_TRUE(as_json.has_value());
  ASSERT_TRUE(as_json->has_value()) << "JSON null is a value, not \"not found\"";
  EXPECT_TRUE((*as_json)->is_null());

  CacheEntry not_found;
  not_found.kind = CacheEntry::Kind::not_found;
  auto cached_none = detail::cache_decode<std::optional<User>>(not_found, "k");
  ASSERT_TRUE(cached_none.has_value()) << "cached, not a miss";
  EXPECT_FALSE(cached_none->has_value()) << "and not found";
  EXPECT_EQ(error_of([&] { detail::cache_value_as<User>(not_found, "user:1"); }).code(),
            errc::decode_error);
  EXPECT_EQ(error_of([&] { detail::cache_value_as<nlohmann::json>(not_found, "k"); }).code(),
            errc::decode_error)
      << "a \"not found\" never reads as JSON null";

  CacheEntry wrong = value;
  wrong.json = R"({"name":"ada","age":"old"})";
  Error e = error_of([&] { detail::cache_value_as<User>(wrong, "user:9"); });
  EXPECT_EQ(e.code(), errc::decode_error);
  EXPECT_NE(e.message().find("user:9"), std::string::npos) << e.message();

  CacheEntry garbage = value;
  garbage.json = "{not json";
  EXPECT_EQ(error_of([&] { detail::cache_value_as<nlohmann::json>(garbage, "k"); }).code(),
            errc::decode_error);
  garbage.json = "";
  EXPECT_EQ(error_of([&] { detail::cache_value_as<int>(garbage, "k"); }).code(),
            errc::decode_error);
  EXPECT_EQ(error_of([&] { detail::cache_value_as<std::optional<User>>(null_value, "k"); }).code(),
            errc::decode_error)
      << "null is not a User";
}

TEST(CacheEntry, EncodeFromT) {
  Computed out;
  detail::cache_encode(User{"bob", 5}, out);
  EXPECT_EQ(out.kind, CacheEntry::Kind::value);
  EXPECT_EQ(nlohmann::json::parse(out.json), nlohmann::json({{"name", "bob"}, {"age", 5}}));

  detail::cache_encode(std::optional<User>(), out);
  EXPECT_EQ(out.kind, CacheEntry::Kind::not_found);
  detail::cache_encode(std::nullopt, out);
  EXPECT_EQ(out.kind, CacheEntry::Kind::not_found);
  detail::cache_encode(std::optional<int>(3), out);
  EXPECT_EQ(out.kind, CacheEntry::Kind::value);
  EXPECT_EQ(out.json, "3");
  detail::cache_encode(nlohmann::json(nullptr), out);
  EXPECT_EQ(out.kind, CacheEntry::Kind::value);
  EXPECT_EQ(out.json, "null");

  EXPECT_EQ(error_of([&] { detail::cache_encode(std::string("\xff\xfe"), out); }).code(),
            errc::invalid_argument);
}

TEST(CacheOptionsCheck, BadOptionsAreRefusedByName) {
  boost::asio::io_context io;
  auto refused = [&](CacheOptions options, const char* field) {
    Error e = error_of([&] { CacheService(Commands{}, io.get_executor(), options); });
    EXPECT_EQ(e.code(), errc::invalid_argument);
    EXPECT_NE(e.message().find(field), std::string::npos) << e.message();
  };
  refused(CacheOptions{.default_ttl = -5s}, "default_ttl");
  refused(CacheOptions{.negative_ttl = 0ms}, "negative_ttl");
  refused(CacheOptions{.ttl_jitter = 1.0}, "ttl_jitter");
  refused(CacheOptions{.ttl_jitter = -0.1}, "ttl_jitter");
  refused(CacheOptions{.generation_refresh = -1ms}, "generation_refresh");
  refused(CacheOptions{.scan_count = 0}, "scan_count");
  refused(CacheOptions{.unlink_batch = 0}, "unlink_batch");

  CacheService ok(Commands{}, io.get_executor(), CacheOptions{.key_namespace = "users"});
  EXPECT_EQ(ok.key_namespace(), "users");
  EXPECT_EQ(ok.options().default_ttl, 300s) << "0, the default: RedisSettings' (the seed's)";
  EXPECT_EQ(ok.in_namespace("orders").key_namespace(), "orders");
  EXPECT_EQ(ok.in_namespace("").key_namespace(), "");
  EXPECT_EQ(ok.stats().hits, 0u);
}

TEST(CacheOptionsCheck, TtlJitterStaysWithinItsFraction) {
  boost::asio::io_context io;
  detail::CacheCore plain(Commands{}, io.get_executor(), CacheOptions{});
  EXPECT_EQ(plain.effective_ttl(0ms, 300s), 300s) << "0: the fallback";
  EXPECT_EQ(plain.effective_ttl(1500ms, 300s), 1500ms) << "no jitter by default";
  EXPECT_EQ(error_of([&] { (void)plain.effective_ttl(-1ms, 300s); }).code(),
            errc::invalid_argument);

  detail::CacheCore jittered(Commands{}, io.get_executor(), CacheOptions{.ttl_jitter = 0.2});
  std::chrono::milliseconds low = 10s, high = 0ms;
  for (int i = 0; i < 2000; ++i) {
    auto ttl = jittered.effective_ttl(10s, 1s);
    low = std::min(low, ttl);
    high = std::max(high, ttl);
  }
  EXPECT_GE(low, 8000ms);
  EXPECT_LE(high, 10000ms);
  EXPECT_LT(low, 8500ms) << "the jitter is actually applied";
  EXPECT_GT(high, 9500ms);
  EXPECT_EQ(jittered.effective_ttl(1ms, 1s), 1ms) << "never below 1 ms";
}

}  // namespace
}  // namespace asyncredis
