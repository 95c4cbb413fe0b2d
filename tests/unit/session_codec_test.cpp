// The stored JSON of a session: our exact output, the Python seed's output (fixture), every
// malformed form as a decode_error naming the key, and session ids.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "asyncredis/error.hpp"
#include "asyncredis/session/session.hpp"

namespace asyncredis {
namespace {

using std::chrono::system_clock;

system_clock::time_point at_us(std::int64_t micros) {
  return system_clock::time_point(std::chrono::microseconds(micros));
}

std::string fixture(const char* name) {
  const auto path = std::filesystem::path(ASYNCREDIS_TEST_FIXTURES) / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Session sample() {
  Session s;
  s.id = "abc-DEF_123";
  s.user_id = Uuid::parse("1b4e28ba-2fa1-11d2-883f-0016d3cca427");
  s.created_at = at_us(1795758807123456);  // 2026-11-27T05:53:27.123456Z
  s.expires_at = at_us(1795762407000000);  // 2026-11-27T06:53:27Z
  s.data = {{"role", "admin"}, {"n", 3}};
  return s;
}

// The message of the decode_error `text` raises when read from `key`.
std::string decode_error(const std::string& text, const std::string& key = "session:k") {
  try {
    decode_session(text, key);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::decode_error)) << e.message();
    EXPECT_NE(e.message().find("\"" + key + "\""), std::string::npos)
        << "the message must name the key: " << e.message();
    return e.message();
  }
  ADD_FAILURE() << "decoded " << text;
  return {};
}

TEST(SessionCodec, WritesTheSeedsFieldsInItsOrderThenData) {
  EXPECT_EQ(encode_session(sample()),
            R"({"id":"abc-DEF_123","user_id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427",)"
            R"("created_at":"2026-11-27T05:53:27.123456+00:00",)"
            R"("expires_at":"2026-11-27T06:53:27+00:00","data":{"n":3,"role":"admin"}})");
}

TEST(SessionCodec, WritesNullDataAsAnEmptyObject) {
  Session s = sample();
  s.data = nullptr;
  const auto json = nlohmann::json::parse(encode_session(s));
  EXPECT_EQ(json.at("data"), nlohmann::json::object());
}

TEST(SessionCodec, RoundTrips) {
  const Session s = sample();
  EXPECT_EQ(decode_session(encode_session(s), "session:abc-DEF_123"), s);
  Session unicode = s;
  unicode.data = {{"name", "Zoë ☃"}, {"nested", {{"a", {1, 2.5, nullptr, true}}}}};
  EXPECT_EQ(decode_session(encode_session(unicode), "k"), unicode);
}

TEST(SessionCodec, ReadsTheSeedsFixture) {
  const std::string text = fixture("session_seed.json");
  ASSERT_EQ(text.back(), '}') << "the fixture is the Redis value's bytes, no newline";
  const Session s = decode_session(text, "session:Qm9vbS1zZXNzaW9uLWlkLWZyb20tcHl0aG9uLXNlZWQ");
  EXPECT_EQ(s.id, "Qm9vbS1zZXNzaW9uLWlkLWZyb20tcHl0aG9uLXNlZWQ");
  EXPECT_EQ(s.user_id.to_string(), "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
  EXPECT_EQ(s.created_at, at_us(1795758807123456));
  EXPECT_EQ(format_iso8601(s.created_at), "2026-11-27T05:53:27.123456+00:00");
  EXPECT_EQ(format_iso8601(s.expires_at), "2096-11-27T05:53:27.654321+00:00");
  EXPECT_EQ(s.data, nlohmann::json::object()) << "the seed writes no data: {}";
}

TEST(SessionCodec, ReadsOtherOffsetsAsUtcAndIgnoresUnknownFields) {
  const Session s = decode_session(
      R"({"id": "x", "user_id": "1B4E28BA-2FA1-11D2-883F-0016D3CCA427",)"
      R"( "created_at": "2026-11-27T11:23:27.123456+05:30", "expires_at": "2026-11-27T06:53:27Z",)"
      R"( "ip": "10.0.0.1", "data": null})",
      "session:x");
  EXPECT_EQ(s.created_at, at_us(1795758807123456));
  EXPECT_EQ(s.expires_at, at_us(1795762407000000));
  EXPECT_EQ(s.user_id, sample().user_id);
  EXPECT_EQ(s.data, nlohmann::json::object());
}

TEST(SessionCodec, MalformedValuesAreDecodeErrorsNamingKeyAndField) {
  const std::string good_times =
      R"("created_at": "2026-11-27T05:53:27+00:00", "expires_at": "2026-11-27T06:53:27+00:00")";
  const std::string uuid = R"("user_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427")";
  const std::pair<std::string, std::string> cases[] = {
      {"", "not JSON"},
      {"not json", "not JSON"},
      {R"({"id": "x", )", "not JSON"},
      {"[1, 2]", "array, expected an object"},
      {"\"session\"", "string, expected an object"},
      {"null", "null, expected an object"},
      {"{" + uuid + ", " + good_times + "}", "\"id\" is missing"},
      {R"({"id": 7, )" + uuid + ", " + good_times + "}", "\"id\" is number"},
      {R"({"id": "a:b", )" + uuid + ", " + good_times + "}", "not a valid session id"},
      {R"({"id": "", )" + uuid + ", " + good_times + "}", "not a valid session id"},
      {R"({"id": "x", )" + good_times + "}", "\"user_id\" is missing"},
      {R"({"id": "x", "user_id": null, )" + good_times + "}", "\"user_id\" is null"},
      {R"({"id": "x", "user_id": "42", )" + good_times + "}", "\"user_id\" \"42\" is not a UUID"},
      {R"({"id": "x", )" + uuid + R"(, "expires_at": "2026-11-27T06:53:27+00:00"})",
       "\"created_at\" is missing"},
      {R"({"id": "x", )" + uuid + R"(, "created_at": "2026-11-27T05:53:27+00:00"})",
       "\"expires_at\" is missing"},
      {R"({"id": "x", )" + uuid +
           R"(, "created_at": "2026-11-27T05:53:27", "expires_at": "2026-11-27T06:53:27+00:00"})",
       "\"created_at\": invalid ISO 8601"},
      {R"({"id": "x", )" + uuid +
           R"(, "created_at": "2026-11-27T05:53:27+00:00", "expires_at": "2026-02-30T00:00:00Z"})",
       "\"expires_at\": invalid ISO 8601"},
      {R"({"id": "x", )" + uuid +
           R"(, "created_at": 1795758807, "expires_at": "2026-11-27T06:53:27+00:00"})",
       "\"created_at\" is number"},
      {R"({"id": "x", )" + uuid + ", " + good_times + R"(, "data": [1]})",
       "\"data\" is array, expected an object"},
      {R"({"id": "x", )" + uuid + ", " + good_times + R"(, "data": "text"})", "\"data\" is string"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string message = decode_error(text);
    EXPECT_NE(message.find(expected), std::string::npos)
        << "for " << text << "\nwanted \"" << expected << "\" in: " << message;
  }
}

TEST(SessionCodec, ErrorMessagesShowStoredBytesHarmlessly) {
  const std::string message = decode_error("\x1b]0;pwned\x07 not json", "session:abc");
  EXPECT_EQ(message.find('\x1b'), std::string::npos) << message;
  EXPECT_EQ(message.find('\x07'), std::string::npos) << message;
  EXPECT_NE(message.find("\\x1b]0;pwned\\x07"), std::string::npos) << message;
}

TEST(SessionCodec, RefusesToWriteWhatCannotBeStored) {
  auto invalid_argument = [](const Session& s, const std::string& expected) {
    try {
      encode_session(s);
      ADD_FAILURE() << "encoded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
      EXPECT_NE(e.message().find(expected), std::string::npos) << e.message();
    }
  };
  Session s = sample();
  s.id = "";
  invalid_argument(s, "session id \"\" is not valid");
  s.id = "user:1b4e28ba-2fa1-11d2-883f-0016d3cca427";
  invalid_argument(s, "is not valid");
  s.id = "quote\"";
  invalid_argument(s, "is not valid");
  s = sample();
  s.data = nlohmann::json::array({1, 2});
  invalid_argument(s, "must be a JSON object, got array");
  s.data = {{"bad", "\xff\xfe"}};
  invalid_argument(s, "cannot be written as JSON");
}

TEST(SessionId, TenThousandGeneratedIdsAreDistinctUrlSafeAnd43Chars) {
  std::unordered_set<std::string> seen;
  std::set<char> alphabet;
  for (int i = 0; i < 10000; ++i) {
    std::string id = generate_session_id();
    ASSERT_EQ(id.size(), kSessionIdLength) << id;
    for (char c : id) {
      ASSERT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_')
          << id;
      alphabet.insert(c);
    }
    EXPECT_TRUE(is_valid_session_id(id));
    EXPECT_TRUE(seen.insert(std::move(id)).second) << "duplicate id";
  }
  // 430,000 characters from a uniform source use every one of the 64 symbols.
  EXPECT_EQ(alphabet.size(), 64u);
  static_assert(kSessionIdBytes * 8 >= 128, "at least 128 bits");
}

TEST(SessionId, LastCharacterCarriesOnlyTheRemainingFourBits) {
  // 32 bytes = 10 groups of 3 + 2 bytes: the 43rd symbol holds 4 bits and 2 zero bits, so it
  // is one of the 16 symbols whose low 2 bits are 0 (base64url without padding, as Python's
  // base64.urlsafe_b64encode(...).rstrip(b"=") writes it).
  const std::string allowed = "AEIMQUYcgkosw048";
  for (int i = 0; i < 500; ++i) {
    const std::string id = generate_session_id();
    EXPECT_NE(allowed.find(id.back()), std::string::npos) << id;
  }
}

TEST(SessionId, ValidIdsAreUrlUnreservedText) {
  EXPECT_TRUE(is_valid_session_id("a"));
  EXPECT_TRUE(is_valid_session_id("1b4e28ba-2fa1-11d2-883f-0016d3cca427"));  // str(uuid4())
  EXPECT_TRUE(is_valid_session_id("A.b~c_d-e"));
  EXPECT_TRUE(is_valid_session_id(std::string(kMaxSessionIdLength, 'x')));
  EXPECT_FALSE(is_valid_session_id(""));
  EXPECT_FALSE(is_valid_session_id(std::string(kMaxSessionIdLength + 1, 'x')));
  for (const char* bad : {"user:abc", "a b", "a/b", "a+b", "a=b", "a%20", "a\nb", "é", "a*"}) {
    EXPECT_FALSE(is_valid_session_id(bad)) << bad;
  }
  EXPECT_FALSE(is_valid_session_id(std::string("a\0b", 3)));
}

// What we write, read by the seed's own code (RedisSessionRepository.get plus json.loads), in
// the Python on this machine: the strongest check that the formats match.
TEST(SessionCodec, PythonSeedReadsWhatWeWrite) {
  if (std::system("python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' "
                  ">/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 >= 3.11 not available";
  }
  Session s = sample();
  s.data = {{"name", "Zoë"}};
  const auto path = std::filesystem::temp_directory_path() /
                    ("asyncredis_session_" + generate_session_id().substr(0, 12) + ".json");
  std::ofstream(path, std::ios::binary) << encode_session(s);
  const std::string script = R"PY(
import json, sys
from datetime import datetime, timedelta, timezone
from uuid import UUID
data = json.loads(open(sys.argv[1], encoding="utf-8").read())
created = datetime.fromisoformat(data["created_at"])
expires = datetime.fromisoformat(data["expires_at"])
epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
us = lambda d: (d - epoch) // timedelta(microseconds=1)
print(data["id"], UUID(data["user_id"]), us(created), us(expires),
      created.utcoffset().total_seconds(), created.isoformat() == data["created_at"],
      expires.isoformat() == data["expires_at"], data["data"]["name"] == "Zo\u00eb")
)PY";
  const std::string command = "python3 -c '" + script + "' " + path.string();
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[512] = {};
  const std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, pipe);
  const int status = pclose(pipe);
  std::filesystem::remove(path);
  ASSERT_EQ(status, 0) << std::string(buffer, n);
  EXPECT_EQ(std::string(buffer, n),
            "abc-DEF_123 1b4e28ba-2fa1-11d2-883f-0016d3cca427 1795758807123456 1795762407000000 "
            "0.0 True True True\n");
}

}  // namespace
}  // namespace asyncredis
