// RedisSettings::url() and from_url() round trips found by fuzz/url_fuzz.cpp: what from_url()
// accepts, url() writes back so that it parses to the same settings, and no host, however it
// was set, makes url() name another server.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "asyncredis/error.hpp"
#include "asyncredis/settings.hpp"

namespace asyncredis {

void PrintTo(const RedisSettings& s, std::ostream* os) {
  *os << s.url() << " (host '" << s.host << "', port " << s.port << ")";
}

namespace {

// url() of the settings that `url` parses to must parse to the same settings, and say so
// in the same words again.
void expect_round_trip(const std::string& url) {
  SCOPED_TRACE(url);
  const RedisSettings first = RedisSettings::from_url(url);
  const std::string written = first.url();
  RedisSettings second;
  ASSERT_NO_THROW(second = RedisSettings::from_url(written)) << written;
  EXPECT_EQ(second, first) << written;
  EXPECT_EQ(second.url(), written);
}

TEST(SettingsRoundTrip, Ipv6ZoneWithBytesThatEndTheHost) {
  // Found by the fuzzer: url() wrote the zone's ']' as is, so "[fe80::1%25a]b]" ended at the
  // first ']' and was refused.
  expect_round_trip("redis://[fe80::1%25a%5Db]:1/0");
  EXPECT_EQ(RedisSettings::from_url("redis://[fe80::1%25a%5Db]:1/0").url(),
            "redis://[fe80::1%25a%5Db]:1/0");
  for (const char* zone : {"%2F", "%40", "%3F", "%23", "%20", "%25", "%5B", "%3A"}) {
    expect_round_trip(std::string("redis://[fe80::1%25eth") + zone + "0]:6379/2");
  }
}

TEST(SettingsRoundTrip, PlainHostsAndAddressesAreWrittenAsBefore) {
  for (const char* url :
       {"redis://localhost:6379/0", "redis://cache-1.example.com:6380/15", "redis://my_host:1/0",
        "redis://127.0.0.1:6379/2", "redis://[::1]:6379/0", "redis://[fe80::1%25eth0]:6379/0",
        "redis://[::ffff:192.0.2.1]:6379/0", "rediss://[2001:db8::7334]:7000/3"}) {
    EXPECT_EQ(RedisSettings::from_url(url).url(), url);
  }
}

TEST(SettingsRoundTrip, HostSetInCodeNeverNamesAnotherServer) {
  // These hosts did not come from a URL (from code, or REDIS_HOST, which validate() does not
  // check character by character). Written as is, "h@evil" read back as user "h" at host
  // "evil", and "h/1" as host "h" and database 1. Escaped, from_url() refuses them by name.
  for (const char* host : {"h@evil", "h/1", "h?db=1", "h#x", "a b", "h%41"}) {
    SCOPED_TRACE(host);
    RedisSettings settings;
    settings.host = host;
    try {
      const RedisSettings parsed = RedisSettings::from_url(settings.url());
      ADD_FAILURE() << settings.url() << " parsed, to host '" << parsed.host << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_setting));
      EXPECT_NE(e.message().find("REDIS URL host"), std::string::npos) << e.message();
    }
  }
  RedisSettings settings;
  settings.host = "h@evil";
  EXPECT_EQ(settings.url(), "redis://h%40evil:6379/0");
  settings.host = "::1]:1/2@evil";
  EXPECT_EQ(settings.url(), "redis://[::1%5D:1%2F2%40evil]:6379/0");
}

TEST(SettingsRoundTrip, RedactedUrlParsesToTheSameServerWithoutThePassword) {
  // Passwords that could confuse a redaction done on the text: the mask itself, '@' and ':'
  // (the userinfo's own separators), escapes, and a password equal to the user's name.
  for (const char* url :
       {"redis://:pw@localhost:6379/0", "redis://app:app@cache.example.com:6380/15",
        "rediss://u:%2A%2A%2A@[::1]:7000/3", "redis://:a%40b%3Ac@127.0.0.1:1/2",
        "unix://:%25%2F%3F%23@/tmp/redis.sock?db=4", "redis://me%40corp:p%40ss@h:6379/0"}) {
    SCOPED_TRACE(url);
    const RedisSettings original = RedisSettings::from_url(url);
    const std::string redacted = original.redacted_url();
    RedisSettings parsed;
    ASSERT_NO_THROW(parsed = RedisSettings::from_url(redacted)) << redacted;
    EXPECT_EQ(parsed.password, "***");
    parsed.password = original.password;
    EXPECT_EQ(parsed, original) << redacted;
    // The userinfo is the user as url() writes it, then ":***": nothing else of the password.
    const std::string written = original.url();
    const auto start = written.find("://") + 3;
    const auto colon = written.find(':', start);
    EXPECT_EQ(redacted.substr(0, redacted.rfind('@')), written.substr(0, colon) + ":***");
  }
}

}  // namespace
}  // namespace asyncredis
