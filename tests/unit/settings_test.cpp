// RedisSettings: defaults and URL format shared with the Python service, URL parsing, the
// environment, validate(), and that no error message ever shows a password.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "asyncredis/error.hpp"
#include "asyncredis/settings.hpp"
#include "unit/invalid_setting.hpp"

namespace asyncredis {

// Readable failures: the URL plus the fields a URL does not carry.
void PrintTo(const RedisSettings& s, std::ostream* os) {
  *os << s.url() << " (host " << s.host << ", port " << s.port << ", client_name '" << s.client_name
      << "', max_connections " << s.max_connections << ", connect_timeout "
      << s.connect_timeout.count() << "ms, command_timeout " << s.command_timeout.count()
      << "ms, health_check_interval " << s.health_check_interval.count() << "ms)";
}

namespace {

using namespace std::chrono_literals;

using test::invalid_setting_message;

void expect_message_has(const std::string& message, std::initializer_list<std::string> parts) {
  for (const auto& part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
  }
}

std::string url_error(std::string_view url) {
  return invalid_setting_message([&] { RedisSettings::from_url(url); });
}

// ---------------------------------------------------------------------------------------------
// Defaults and url(): the Python RedisSettings and its get_url().

TEST(SettingsDefaults, MatchThePythonSettings) {
  const RedisSettings s;
  EXPECT_EQ(s.host, "localhost");
  EXPECT_EQ(s.port, 6379);
  EXPECT_FALSE(s.password.has_value());
  EXPECT_FALSE(s.username.has_value());
  EXPECT_EQ(s.cache_db, 0);
  EXPECT_EQ(s.celery_broker_db, 1);
  EXPECT_EQ(s.celery_result_db, 2);
  EXPECT_EQ(s.session_db, 3);
  EXPECT_EQ(s.max_connections, 10u);
  EXPECT_EQ(s.default_ttl, 300s);
  EXPECT_FALSE(s.tls);
  EXPECT_TRUE(s.unix_socket.empty());
  EXPECT_NO_THROW(s.validate());
}

TEST(SettingsUrl, MatchesPythonGetUrlWithoutPassword) {
  RedisSettings s;
  EXPECT_EQ(s.url(), "redis://localhost:6379/0");
  s.host = "redis.internal";
  s.port = 6380;
  EXPECT_EQ(s.url(2), "redis://redis.internal:6380/2");
}

TEST(SettingsUrl, MatchesPythonGetUrlWithPassword) {
  RedisSettings s;
  s.password = "s3cret";
  EXPECT_EQ(s.url(), "redis://:s3cret@localhost:6379/0");
  EXPECT_EQ(s.url(s.session_db), "redis://:s3cret@localhost:6379/3");
}

TEST(SettingsUrl, EmptyPasswordIsNoPasswordLikePython) {
  RedisSettings s;
  s.password = "";
  EXPECT_EQ(s.url(), "redis://localhost:6379/0");
}

TEST(SettingsUrl, DefaultDbIsCacheDbAndExplicitZeroStaysZero) {
  RedisSettings s;
  s.cache_db = 5;
  EXPECT_EQ(s.url(), "redis://localhost:6379/5");
  EXPECT_EQ(s.url(std::nullopt), "redis://localhost:6379/5");
  // Seed mistake 1: `db or settings.cache_db` turned an explicit 0 into cache_db.
  EXPECT_EQ(s.url(0), "redis://localhost:6379/0");
  EXPECT_EQ(s.url(1), "redis://localhost:6379/1");
}

TEST(SettingsUrl, TlsUsesRediss) {
  RedisSettings s;
  s.tls = true;
  s.password = "pw";
  EXPECT_EQ(s.url(), "rediss://:pw@localhost:6379/0");
}

TEST(SettingsUrl, UsernameRendersUserColonPassword) {
  RedisSettings s;
  s.username = "app";
  s.password = "pw";
  EXPECT_EQ(s.url(1), "redis://app:pw@localhost:6379/1");
  s.password.reset();
  EXPECT_EQ(s.url(1), "redis://app@localhost:6379/1");
  s.username = "";
  EXPECT_EQ(s.url(1), "redis://localhost:6379/1");
}

TEST(SettingsUrl, Ipv6HostInBrackets) {
  RedisSettings s;
  s.host = "::1";
  EXPECT_EQ(s.url(), "redis://[::1]:6379/0");
  s.host = "fe80::1%eth0";
  EXPECT_EQ(s.url(), "redis://[fe80::1%25eth0]:6379/0");
}

TEST(SettingsUrl, UnixSocket) {
  RedisSettings s;
  s.unix_socket = "/run/redis/redis.sock";
  EXPECT_EQ(s.url(), "unix:///run/redis/redis.sock?db=0");
  s.password = "pw";
  EXPECT_EQ(s.url(3), "unix://:pw@/run/redis/redis.sock?db=3");
  s.unix_socket = "/tmp/my sock?#";
  EXPECT_EQ(s.url(), "unix://:pw@/tmp/my%20sock%3F%23?db=0");
}

TEST(SettingsUrl, EscapesReservedCharactersInUserAndPassword) {
  RedisSettings s;
  s.username = "me@corp";
  s.password = "p@ss:w/rd?#%";
  EXPECT_EQ(s.url(), "redis://me%40corp:p%40ss%3Aw%2Frd%3F%23%25@localhost:6379/0");
  s.password = "a-b_c.d~e";  // unreserved: as is, like the Python URL
  EXPECT_EQ(s.url(), "redis://me%40corp:a-b_c.d~e@localhost:6379/0");
}

// redacted_url(): url() with the password hidden, for logs.

TEST(SettingsRedactedUrl, HidesThePasswordAndKeepsTheRest) {
  RedisSettings s;
  s.password = "s3cret";
  EXPECT_EQ(s.redacted_url(), "redis://:***@localhost:6379/0");
  EXPECT_EQ(s.redacted_url(2), "redis://:***@localhost:6379/2");
  EXPECT_EQ(s.url(), "redis://:s3cret@localhost:6379/0") << "url() stays the shared format";
}

TEST(SettingsRedactedUrl, PasswordWithReservedCharacters) {
  RedisSettings s;
  s.password = "p@ss:w/rd?#%*";
  const std::string redacted = s.redacted_url();
  EXPECT_EQ(redacted, "redis://:***@localhost:6379/0");
  for (const std::string piece : {"p@ss", "p%40ss", "w%2Frd", "rd?#", "%25"}) {
    EXPECT_EQ(redacted.find(piece), std::string::npos) << piece << " in " << redacted;
  }
}

TEST(SettingsRedactedUrl, UserIsKeptPasswordIsNot) {
  RedisSettings s;
  s.username = "me@corp";
  s.password = "hunter2";
  EXPECT_EQ(s.redacted_url(1), "redis://me%40corp:***@localhost:6379/1");
  s.password.reset();
  EXPECT_EQ(s.redacted_url(1), "redis://me%40corp@localhost:6379/1");  // nothing to hide
  s.password = "";  // an empty password is no password, as in url()
  EXPECT_EQ(s.redacted_url(1), "redis://me%40corp@localhost:6379/1");
}

TEST(SettingsRedactedUrl, UnixSocket) {
  RedisSettings s;
  s.unix_socket = "/run/redis/redis.sock";
  s.password = "pw-unix";
  EXPECT_EQ(s.redacted_url(3), "unix://:***@/run/redis/redis.sock?db=3");
}

TEST(SettingsRedactedUrl, Rediss) {
  RedisSettings s;
  s.tls = true;
  s.host = "cache.example.com";
  s.port = 6380;
  s.username = "app";
  s.password = "tls-secret";
  EXPECT_EQ(s.redacted_url(), "rediss://app:***@cache.example.com:6380/0");
}

TEST(SettingsRedactedUrl, WithoutCredentialsEqualsUrl) {
  RedisSettings s;
  s.host = "::1";
  EXPECT_EQ(s.redacted_url(), s.url());
  s.unix_socket = "/tmp/my sock?#";
  EXPECT_EQ(s.redacted_url(4), s.url(4));
}

TEST(SettingsRedactedUrl, ParsesToTheSameServerWithoutTheSecret) {
  const RedisSettings s = RedisSettings::from_url("rediss://app:p%40ss@[::1]:6390/7");
  const RedisSettings shown = RedisSettings::from_url(s.redacted_url());
  EXPECT_EQ(shown.password, "***");
  RedisSettings same_but_password = shown;
  same_but_password.password = s.password;
  EXPECT_EQ(same_but_password, s);
}

// ---------------------------------------------------------------------------------------------
// from_url(): every accepted form.

TEST(SettingsFromUrl, HostPortDb) {
  const auto s = RedisSettings::from_url("redis://cache.example.com:6380/4");
  EXPECT_EQ(s.host, "cache.example.com");
  EXPECT_EQ(s.port, 6380);
  EXPECT_EQ(s.cache_db, 4);
  EXPECT_FALSE(s.tls);
  EXPECT_FALSE(s.password.has_value());
  EXPECT_FALSE(s.username.has_value());
}

TEST(SettingsFromUrl, OmittedPartsKeepDefaults) {
  for (const auto* url : {"redis://myhost", "redis://myhost/", "redis://myhost?"}) {
    const auto s = RedisSettings::from_url(url);
    RedisSettings expected;
    expected.host = "myhost";
    EXPECT_EQ(s, expected) << url;
  }
}

TEST(SettingsFromUrl, OtherFieldsKeepDefaults) {
  auto s = RedisSettings::from_url("redis://h:1/2");
  s.host = "localhost";
  s.port = 6379;
  s.cache_db = 0;
  EXPECT_EQ(s, RedisSettings{});
}

TEST(SettingsFromUrl, PasswordOnly) {
  const auto s = RedisSettings::from_url("redis://:pw@h:6379/0");
  EXPECT_FALSE(s.username.has_value());
  EXPECT_EQ(s.password, "pw");
}

TEST(SettingsFromUrl, UserAndPassword) {
  const auto s = RedisSettings::from_url("redis://app:pw:with:colons@h");
  EXPECT_EQ(s.username, "app");
  EXPECT_EQ(s.password, "pw:with:colons");
}

TEST(SettingsFromUrl, UserOnly) {
  const auto s = RedisSettings::from_url("redis://app@h");
  EXPECT_EQ(s.username, "app");
  EXPECT_FALSE(s.password.has_value());
  const auto empty_password = RedisSettings::from_url("redis://app:@h");
  EXPECT_EQ(empty_password.username, "app");
  EXPECT_FALSE(empty_password.password.has_value());
}

TEST(SettingsFromUrl, RawAtInPasswordSplitsAtTheLastAt) {
  const auto s = RedisSettings::from_url("redis://:p@ss@h/1");
  EXPECT_EQ(s.password, "p@ss");
  EXPECT_EQ(s.host, "h");
  EXPECT_EQ(s.cache_db, 1);
}

TEST(SettingsFromUrl, PercentEscapesAreDecoded) {
  const auto s = RedisSettings::from_url("redis://me%40corp:p%40ss%2Fw%3a%25@h");
  EXPECT_EQ(s.username, "me@corp");
  EXPECT_EQ(s.password, "p@ss/w:%");
}

TEST(SettingsFromUrl, Rediss) {
  const auto s = RedisSettings::from_url("rediss://:pw@secure.example.com:6390/1");
  EXPECT_TRUE(s.tls);
  EXPECT_EQ(s.host, "secure.example.com");
  EXPECT_EQ(s.port, 6390);
  EXPECT_EQ(s.cache_db, 1);
}

TEST(SettingsFromUrl, SchemeIsCaseInsensitive) {
  EXPECT_TRUE(RedisSettings::from_url("REDISS://h").tls);
}

TEST(SettingsFromUrl, Ipv6Literal) {
  auto s = RedisSettings::from_url("redis://[::1]:7000/2");
  EXPECT_EQ(s.host, "::1");
  EXPECT_EQ(s.port, 7000);
  EXPECT_EQ(s.cache_db, 2);
  s = RedisSettings::from_url("redis://[2001:db8::5]");
  EXPECT_EQ(s.host, "2001:db8::5");
  EXPECT_EQ(s.port, 6379);
  s = RedisSettings::from_url("redis://[fe80::1%25eth0]:6379");
  EXPECT_EQ(s.host, "fe80::1%eth0");
}

TEST(SettingsFromUrl, UnixSocketWithDb) {
  auto s = RedisSettings::from_url("unix:///run/redis/redis.sock?db=3");
  EXPECT_EQ(s.unix_socket, "/run/redis/redis.sock");
  EXPECT_EQ(s.cache_db, 3);
  EXPECT_FALSE(s.tls);
  s = RedisSettings::from_url("unix://:pw@/tmp/r%20s.sock");
  EXPECT_EQ(s.password, "pw");
  EXPECT_EQ(s.unix_socket, "/tmp/r s.sock");
  EXPECT_EQ(s.cache_db, 0);
  s = RedisSettings::from_url("unix://app:pw@/tmp/r.sock?db=0");
  EXPECT_EQ(s.username, "app");
}

TEST(SettingsFromUrl, QueryParameters) {
  const auto s = RedisSettings::from_url(
      "redis://h?db=7&client_name=billing-api&max_connections=32&connect_timeout=2s"
      "&command_timeout=250ms&health_check_interval=0s");
  EXPECT_EQ(s.cache_db, 7);
  EXPECT_EQ(s.client_name, "billing-api");
  EXPECT_EQ(s.max_connections, 32u);
  EXPECT_EQ(s.connect_timeout, 2000ms);
  EXPECT_EQ(s.command_timeout, 250ms);
  EXPECT_EQ(s.health_check_interval, 0ms);
}

TEST(SettingsFromUrl, EmptyQueryItemsAreSkipped) {
  EXPECT_EQ(RedisSettings::from_url("redis://h?&db=2&&").cache_db, 2);
}

// ---------------------------------------------------------------------------------------------
// Round trips.

TEST(SettingsRoundTrip, FromUrlOfUrlGivesTheSameSettings) {
  std::vector<RedisSettings> cases;
  RedisSettings s;
  cases.push_back(s);
  s.host = "redis.internal";
  s.port = 6380;
  s.cache_db = 9;
  s.password = "s3cret";
  cases.push_back(s);
  s.username = "user name@x";
  s.password = "p@ss/w:rd?#% &=+\t\xc3\xa9";
  cases.push_back(s);
  s.tls = true;
  cases.push_back(s);
  s.tls = false;
  s.host = "2001:db8::1";
  cases.push_back(s);
  s.host = "fe80::1%eth0";
  cases.push_back(s);
  s.host = "localhost";  // a unix:// URL carries no host or port
  s.port = 6379;
  s.unix_socket = "/var/run/redis dir/redis?.sock";
  s.cache_db = 0;
  cases.push_back(s);
  s.unix_socket = "/run/user@host/redis#1.sock";
  cases.push_back(s);
  for (const auto& original : cases) {
    EXPECT_EQ(RedisSettings::from_url(original.url()), original) << original.url();
  }
}

TEST(SettingsRoundTrip, UrlOfFromUrlIsTheSameText) {
  for (const auto* url :
       {"redis://localhost:6379/0", "redis://:pw@h:1/2", "rediss://u:p@h:6380/15",
        "redis://[::1]:6379/0", "unix:///tmp/redis.sock?db=4", "unix://:pw@/tmp/redis.sock?db=0"}) {
    EXPECT_EQ(RedisSettings::from_url(url).url(), url);
  }
}

// ---------------------------------------------------------------------------------------------
// from_url(): bad input names the part and the value.

TEST(SettingsFromUrlErrors, Scheme) {
  expect_message_has(
      url_error("http://h:6379/0"),
      {"REDIS URL scheme: 'http' is not redis, rediss, unix, redis-sentinel or rediss-sentinel"});
  expect_message_has(url_error("localhost:6379"), {"REDIS URL scheme", "'localhost:6379'"});
  expect_message_has(url_error("://h"), {"REDIS URL scheme"});
}

TEST(SettingsFromUrlErrors, Empty) {
  expect_message_has(url_error(""), {"REDIS URL", "empty"});
}

TEST(SettingsFromUrlErrors, PortNotANumber) {
  expect_message_has(url_error("redis://h:abc/0"),
                     {"REDIS URL port: 'abc' is not a number in 1-65535"});
  expect_message_has(url_error("redis://h:63x9"), {"REDIS URL port: '63x9'"});
  expect_message_has(url_error("redis://h:+80"), {"REDIS URL port: '+80'"});
  expect_message_has(url_error("redis://h:-1"), {"REDIS URL port: '-1'"});
  expect_message_has(url_error("redis://h:/0"), {"REDIS URL port: ''"});
}

TEST(SettingsFromUrlErrors, PortOutOfRange) {
  expect_message_has(url_error("redis://h:70000/0"),
                     {"REDIS URL port: '70000' is not a number in 1-65535"});
  expect_message_has(url_error("redis://h:0"), {"REDIS URL port: '0'"});
  expect_message_has(url_error("redis://[::1]:99999999999999999999"),
                     {"REDIS URL port: '99999999999999999999'"});
}

TEST(SettingsFromUrlErrors, Database) {
  expect_message_has(url_error("redis://h/abc"),
                     {"REDIS URL database: 'abc' is not a number in 0-1000000"});
  expect_message_has(url_error("redis://h/-1"), {"REDIS URL database: '-1'"});
  expect_message_has(url_error("redis://h/1/2"), {"REDIS URL database: '1/2'"});
  expect_message_has(url_error("redis://h/2000000"), {"REDIS URL database: '2000000'"});
  expect_message_has(url_error("redis://h?db=x"), {"REDIS URL database: 'x'"});
  expect_message_has(url_error("unix:///s?db=-3"), {"REDIS URL database: '-3'"});
  expect_message_has(url_error("redis://h/1?db=2"), {"REDIS URL database", "/1", "db=2"});
}

TEST(SettingsFromUrlErrors, BadPercentEscape) {
  expect_message_has(url_error("redis://us%zzer@h"),
                     {"REDIS URL username: 'us%zzer' has a bad percent-escape '%zz'"});
  expect_message_has(url_error("redis://h%4"), {"REDIS URL host: 'h%4'", "'%4'"});
  expect_message_has(url_error("unix:///tmp/a%g0"), {"REDIS URL socket path", "'%g0'"});
  expect_message_has(url_error("redis://:pw%@h"), {"REDIS URL password", "percent-escape"});
}

TEST(SettingsFromUrlErrors, Host) {
  expect_message_has(url_error("redis://:6379/0"), {"REDIS URL host", "empty"});
  expect_message_has(url_error("redis://"), {"REDIS URL host", "empty"});
  expect_message_has(url_error("redis://:pw@/0"), {"REDIS URL host", "empty"});
  expect_message_has(url_error("redis://bad$host"), {"REDIS URL host: 'bad$host'", "'$'"});
  expect_message_has(url_error("redis://::1:6379"), {"REDIS URL host: '::1:6379'", "brackets"});
  expect_message_has(url_error("redis://[::1"), {"REDIS URL host: '[::1'", "']'"});
  expect_message_has(url_error("redis://[::1]x"), {"REDIS URL host: '[::1]x'"});
  expect_message_has(url_error("redis://[zz::1]"), {"REDIS URL host: '[zz::1]'", "IPv6"});
  expect_message_has(url_error("redis://[127.0.0.1]"), {"REDIS URL host: '[127.0.0.1]'"});
  expect_message_has(url_error("unix://h/tmp/s"), {"REDIS URL host: 'h'", "unix://"});
}

TEST(SettingsFromUrlErrors, UnixWithoutPath) {
  expect_message_has(url_error("unix://"), {"REDIS URL socket path", "empty"});
  expect_message_has(url_error("unix:///?db=1"), {"REDIS URL socket path", "empty"});
}

TEST(SettingsFromUrlErrors, Garbage) {
  expect_message_has(url_error("redis://h:6379/0 "), {"REDIS URL database", "space"});
  expect_message_has(url_error("redis://my host"), {"REDIS URL host: 'my host'", "space"});
  expect_message_has(url_error("redis://h\n"), {"REDIS URL host: 'h\\x0a'"});
  expect_message_has(url_error("redis://h/0#frag"), {"REDIS URL fragment: '#frag'"});
  expect_message_has(url_error("garbage"), {"REDIS URL scheme", "'garbage'"});
  expect_message_has(url_error("redis:/h"), {"REDIS URL scheme"});
}

TEST(SettingsFromUrlErrors, QueryParameters) {
  expect_message_has(url_error("redis://h?timeout=5&db=1"),
                     {"REDIS URL query: unknown parameter 'timeout'", "accepted: db"});
  expect_message_has(url_error("redis://h?db=1&db=1"), {"REDIS URL query", "'db'", "twice"});
  expect_message_has(url_error("redis://h?max_connections=0"),
                     {"REDIS URL max_connections: '0' is not a number in 1-10000"});
  expect_message_has(url_error("redis://h?connect_timeout=5"),
                     {"REDIS URL connect_timeout: '5'", "500ms or 5s"});
  expect_message_has(url_error("redis://h?command_timeout=0ms"),
                     {"REDIS URL command_timeout: '0ms'", "> 0"});
  expect_message_has(url_error("redis://h?health_check_interval=-1s"),
                     {"REDIS URL health_check_interval: '-1s'"});
  expect_message_has(url_error("redis://h?client_name=a%2"), {"REDIS URL client_name", "'%2'"});
}

TEST(SettingsFromUrlErrors, PasswordNeverInMessage) {
  const std::string secret = "Sup3rS3cr3tValue";
  const std::vector<std::string> urls = {
      "http://:" + secret + "@h:6379/0",  // bad scheme
      "localhost:" + secret + "@h",       // no scheme at all: the URL is shown masked
      secret + "@h",                      // a password written without its colon
      "redis://:" + secret + "@h:abc/0",  // bad port
      "redis://:" + secret + "@h:70000",  // port out of range
      "redis://:" + secret + "@h/abc",    // bad db
      "redis://:" + secret + "%zz@h",     // bad escape in the password
      "redis://:" + secret + " x@h",      // space in the password
      "redis://u:" + secret + "/x@h/0",   // '/' in the password splits the URL
      "redis://u:" + secret + "?x@h/0",   // '?' in the password
      "redis://u:" + secret + "#x@h/0",   // '#' in the password
      "redis://:" + secret + "@",         // empty host
      "redis://:" + secret + "@[::1",     // bad IPv6
      "redis://h?password=" + secret,     // unknown query parameter carrying a secret
      "unix://:" + secret + "@/s?db=x",   // bad db in a unix URL
  };
  for (const auto& url : urls) {
    const std::string message = url_error(url);
    EXPECT_FALSE(message.empty()) << url;
    EXPECT_EQ(message.find(secret), std::string::npos) << message;
    EXPECT_EQ(message.find("Sup3r"), std::string::npos) << message;
  }
}

// ---------------------------------------------------------------------------------------------
// from_env().

RedisSettings from_env_map(const std::map<std::string, std::string, std::less<>>& env) {
  return RedisSettings::from_env([&](std::string_view name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

std::string env_error(const std::map<std::string, std::string, std::less<>>& env) {
  return invalid_setting_message([&] { from_env_map(env); });
}

TEST(SettingsFromEnv, NothingSetGivesDefaults) {
  EXPECT_EQ(from_env_map({}), RedisSettings{});
}

TEST(SettingsFromEnv, EmptyValuesCountAsUnset) {
  EXPECT_EQ(from_env_map(
                {{"REDIS_URL", ""}, {"REDIS_PORT", ""}, {"REDIS_PASSWORD", ""}, {"REDIS_TLS", ""}}),
            RedisSettings{});
}

TEST(SettingsFromEnv, RedisUrlIsTheBase) {
  const auto s = from_env_map({{"REDIS_URL", "rediss://app:pw@cache:6390/5"}});
  EXPECT_EQ(s, RedisSettings::from_url("rediss://app:pw@cache:6390/5"));
}

TEST(SettingsFromEnv, SingleVariablesOverrideTheUrl) {
  const auto s = from_env_map({{"REDIS_URL", "redis://u:p@urlhost:1111/5"},
                               {"REDIS_HOST", "envhost"},
                               {"REDIS_PORT", "2222"},
                               {"REDIS_PASSWORD", "envpw"}});
  EXPECT_EQ(s.host, "envhost");
  EXPECT_EQ(s.port, 2222);
  EXPECT_EQ(s.password, "envpw");
  EXPECT_EQ(s.username, "u");  // not overridden: kept from the URL
  EXPECT_EQ(s.cache_db, 5);
}

TEST(SettingsFromEnv, EveryVariable) {
  const auto s = from_env_map({
      {"REDIS_HOST", "[::1]"},
      {"REDIS_PORT", "6380"},
      {"REDIS_USERNAME", "app"},
      {"REDIS_PASSWORD", "pw"},
      {"REDIS_CACHE_DB", "4"},
      {"REDIS_CELERY_BROKER_DB", "5"},
      {"REDIS_CELERY_RESULT_DB", "6"},
      {"REDIS_SESSION_DB", "7"},
      {"REDIS_MAX_CONNECTIONS", "42"},
      {"REDIS_DEFAULT_TTL", "600"},
      {"REDIS_CLIENT_NAME", "worker-1"},
      {"REDIS_SOCKET", "/run/redis.sock"},
      {"REDIS_TLS", "YES"},
      {"REDIS_CONNECT_TIMEOUT_MS", "1500"},
      {"REDIS_COMMAND_TIMEOUT_MS", "750"},
      {"REDIS_HEALTH_CHECK_INTERVAL_MS", "0"},
      {"REDIS_ABANDONED_REPLY_TIMEOUT_MS", "1200"},
      {"REDIS_DISCONNECT_TIMEOUT_MS", "2500"},
      {"REDIS_MAX_QUEUED_REQUESTS", "5000"},
      {"REDIS_MAX_QUEUED_BYTES", "1048576"},
      {"REDIS_FAIL_FAST", "1"},
      {"REDIS_TLS_CA_FILE", "/etc/ca.pem"},
      {"REDIS_TLS_CA_PATH", "/etc/ssl/certs"},
      {"REDIS_TLS_CERT_FILE", "/etc/client.pem"},
      {"REDIS_TLS_KEY_FILE", "/etc/client.key"},
      {"REDIS_TLS_SERVER_NAME", "redis.example.com"},
      {"REDIS_TLS_VERIFY", "false"},
  });
  EXPECT_EQ(s.host, "::1");
  EXPECT_EQ(s.port, 6380);
  EXPECT_EQ(s.username, "app");
  EXPECT_EQ(s.password, "pw");
  EXPECT_EQ(s.cache_db, 4);
  EXPECT_EQ(s.celery_broker_db, 5);
  EXPECT_EQ(s.celery_result_db, 6);
  EXPECT_EQ(s.session_db, 7);
  EXPECT_EQ(s.max_connections, 42u);
  EXPECT_EQ(s.default_ttl, 600s);
  EXPECT_EQ(s.client_name, "worker-1");
  EXPECT_EQ(s.unix_socket, "/run/redis.sock");
  EXPECT_TRUE(s.tls);
  EXPECT_EQ(s.connect_timeout, 1500ms);
  EXPECT_EQ(s.command_timeout, 750ms);
  EXPECT_EQ(s.health_check_interval, 0ms);
  EXPECT_EQ(s.abandoned_reply_timeout, 1200ms);
  EXPECT_EQ(s.disconnect_timeout, 2500ms);
  EXPECT_EQ(s.max_queued_requests, 5000u);
  EXPECT_EQ(s.max_queued_bytes, 1048576u);
  EXPECT_TRUE(s.fail_fast);
  EXPECT_EQ(s.tls_options.ca_file, "/etc/ca.pem");
  EXPECT_EQ(s.tls_options.ca_path, "/etc/ssl/certs");
  EXPECT_EQ(s.tls_options.cert_file, "/etc/client.pem");
  EXPECT_EQ(s.tls_options.key_file, "/etc/client.key");
  EXPECT_EQ(s.tls_options.server_name, "redis.example.com");
  EXPECT_FALSE(s.tls_options.verify_peer);
}

TEST(SettingsFromEnv, Booleans) {
  for (const auto* yes : {"true", "TRUE", "True", "1", "yes", "Yes"}) {
    EXPECT_TRUE(from_env_map({{"REDIS_TLS", yes}}).tls) << yes;
  }
  for (const auto* no : {"false", "FALSE", "0", "no", "NO"}) {
    EXPECT_FALSE(from_env_map({{"REDIS_URL", "rediss://h"}, {"REDIS_TLS", no}}).tls) << no;
    EXPECT_FALSE(from_env_map({{"REDIS_TLS_VERIFY", no}}).tls_options.verify_peer) << no;
  }
  expect_message_has(env_error({{"REDIS_TLS", "maybe"}}), {"REDIS_TLS: 'maybe' is not a boolean"});
  expect_message_has(env_error({{"REDIS_TLS_VERIFY", "on"}}), {"REDIS_TLS_VERIFY: 'on'"});
}

TEST(SettingsFromEnv, BadNumbersNameTheVariable) {
  expect_message_has(env_error({{"REDIS_PORT", "abc"}}),
                     {"REDIS_PORT: 'abc' is not a number in 1-65535"});
  for (const auto* bad : {"0", "65536", "-1", "+80", " 80", "80 ", "80x", "0x50", "8.0"}) {
    expect_message_has(env_error({{"REDIS_PORT", bad}}),
                       {"REDIS_PORT: '" + std::string(bad) + "'", "1-65535"});
  }
  for (const auto* var :
       {"REDIS_CACHE_DB", "REDIS_CELERY_BROKER_DB", "REDIS_CELERY_RESULT_DB", "REDIS_SESSION_DB"}) {
    expect_message_has(env_error({{var, "-1"}}),
                       {std::string(var) + ": '-1' is not a number in 0-1000000"});
    expect_message_has(env_error({{var, "two"}}), {std::string(var) + ": 'two'"});
    expect_message_has(env_error({{var, "99999999999999999999"}}),
                       {std::string(var) + ": '99999999999999999999'"});
  }
  expect_message_has(env_error({{"REDIS_MAX_CONNECTIONS", "0"}}),
                     {"REDIS_MAX_CONNECTIONS: '0' is not a number in 1-10000"});
  expect_message_has(env_error({{"REDIS_MAX_CONNECTIONS", "10001"}}),
                     {"REDIS_MAX_CONNECTIONS: '10001'"});
  expect_message_has(env_error({{"REDIS_DEFAULT_TTL", "0"}}),
                     {"REDIS_DEFAULT_TTL: '0' is not a number >= 1"});
  expect_message_has(env_error({{"REDIS_DEFAULT_TTL", "5m"}}), {"REDIS_DEFAULT_TTL: '5m'"});
  expect_message_has(env_error({{"REDIS_CONNECT_TIMEOUT_MS", "0"}}),
                     {"REDIS_CONNECT_TIMEOUT_MS: '0' is not a number >= 1"});
  expect_message_has(env_error({{"REDIS_COMMAND_TIMEOUT_MS", "1s"}}),
                     {"REDIS_COMMAND_TIMEOUT_MS: '1s'"});
  expect_message_has(env_error({{"REDIS_HEALTH_CHECK_INTERVAL_MS", "-5"}}),
                     {"REDIS_HEALTH_CHECK_INTERVAL_MS: '-5' is not a number >= 0"});
  expect_message_has(env_error({{"REDIS_ABANDONED_REPLY_TIMEOUT_MS", "0"}}),
                     {"REDIS_ABANDONED_REPLY_TIMEOUT_MS: '0' is not a number >= 1"});
  expect_message_has(env_error({{"REDIS_DISCONNECT_TIMEOUT_MS", "soon"}}),
                     {"REDIS_DISCONNECT_TIMEOUT_MS: 'soon'"});
  expect_message_has(env_error({{"REDIS_MAX_QUEUED_REQUESTS", "0"}}),
                     {"REDIS_MAX_QUEUED_REQUESTS: '0' is not a number >= 1"});
  expect_message_has(env_error({{"REDIS_MAX_QUEUED_BYTES", "64MiB"}}),
                     {"REDIS_MAX_QUEUED_BYTES: '64MiB'"});
  expect_message_has(env_error({{"REDIS_FAIL_FAST", "sometimes"}}),
                     {"REDIS_FAIL_FAST: 'sometimes' is not a boolean"});
}

TEST(SettingsFromEnv, ControlCharactersAreShownEscaped) {
  expect_message_has(env_error({{"REDIS_PORT", "6379\n"}}), {"REDIS_PORT: '6379\\x0a'"});
}

TEST(SettingsFromEnv, BadUrlNamesTheVariableAndThePart) {
  expect_message_has(env_error({{"REDIS_URL", "redis://h:70000"}}),
                     {"REDIS_URL", "port: '70000' is not a number in 1-65535"});
}

TEST(SettingsFromEnv, PasswordNeverInMessage) {
  const std::string message =
      env_error({{"REDIS_URL", "redis://:Sup3rS3cr3t@h:bad"}, {"REDIS_PASSWORD", "Sup3rS3cr3t"}});
  expect_message_has(message, {"REDIS_URL", "port"});
  EXPECT_EQ(message.find("Sup3rS3cr3t"), std::string::npos) << message;
}

TEST(SettingsFromEnv, ProcessEnvironment) {
  ::setenv("REDIS_SESSION_DB", "9", 1);
  ::setenv("REDIS_CLIENT_NAME", "from-process-env", 1);
  const auto s = RedisSettings::from_env();
  ::unsetenv("REDIS_SESSION_DB");
  ::unsetenv("REDIS_CLIENT_NAME");
  EXPECT_EQ(s.session_db, 9);
  EXPECT_EQ(s.client_name, "from-process-env");
}

// ---------------------------------------------------------------------------------------------
// validate().

std::string validate_error(const std::function<void(RedisSettings&)>& change) {
  RedisSettings s;
  change(s);
  return invalid_setting_message([&] { s.validate(); });
}

void expect_valid(const std::function<void(RedisSettings&)>& change) {
  RedisSettings s;
  change(s);
  EXPECT_NO_THROW(s.validate());
}

TEST(SettingsValidate, Port) {
  expect_message_has(validate_error([](auto& s) { s.port = 0; }),
                     {"RedisSettings.port: 0 is out of range 1-65535"});
  expect_valid([](auto& s) { s.port = 1; });
  expect_valid([](auto& s) { s.port = 65535; });
  expect_valid([](auto& s) {
    s.port = 0;
    s.unix_socket = "/tmp/redis.sock";
  });
}

TEST(SettingsValidate, Host) {
  expect_message_has(validate_error([](auto& s) { s.host.clear(); }),
                     {"RedisSettings.host", "empty"});
  expect_valid([](auto& s) {
    s.host.clear();
    s.unix_socket = "/tmp/redis.sock";
  });
}

TEST(SettingsValidate, Databases) {
  expect_message_has(validate_error([](auto& s) { s.cache_db = -1; }),
                     {"RedisSettings.cache_db: -1 is out of range 0-1000000"});
  expect_message_has(validate_error([](auto& s) { s.celery_broker_db = 1'000'001; }),
                     {"RedisSettings.celery_broker_db: 1000001"});
  expect_message_has(validate_error([](auto& s) { s.celery_result_db = -2; }),
                     {"RedisSettings.celery_result_db: -2"});
  expect_message_has(validate_error([](auto& s) { s.session_db = -3; }),
                     {"RedisSettings.session_db: -3"});
  expect_valid([](auto& s) { s.cache_db = 1'000'000; });
}

TEST(SettingsValidate, MaxConnections) {
  expect_message_has(validate_error([](auto& s) { s.max_connections = 0; }),
                     {"RedisSettings.max_connections: 0 is out of range 1-10000"});
  expect_message_has(validate_error([](auto& s) { s.max_connections = 10'001; }),
                     {"RedisSettings.max_connections: 10001"});
  expect_valid([](auto& s) { s.max_connections = 1; });
  expect_valid([](auto& s) { s.max_connections = 10'000; });
}

TEST(SettingsValidate, Timeouts) {
  expect_message_has(validate_error([](auto& s) { s.default_ttl = 0s; }),
                     {"RedisSettings.default_ttl: 0s", "> 0"});
  expect_message_has(validate_error([](auto& s) { s.connect_timeout = 0ms; }),
                     {"RedisSettings.connect_timeout: 0ms", "> 0"});
  expect_message_has(validate_error([](auto& s) { s.command_timeout = -1ms; }),
                     {"RedisSettings.command_timeout: -1ms"});
  expect_message_has(validate_error([](auto& s) { s.health_check_interval = -1ms; }),
                     {"RedisSettings.health_check_interval: -1ms"});
  expect_valid([](auto& s) { s.health_check_interval = 0ms; });
  expect_message_has(validate_error([](auto& s) { s.abandoned_reply_timeout = 0ms; }),
                     {"RedisSettings.abandoned_reply_timeout: 0ms must be > 0"});
  expect_message_has(validate_error([](auto& s) { s.disconnect_timeout = -1ms; }),
                     {"RedisSettings.disconnect_timeout: -1ms must be > 0"});
  expect_message_has(validate_error([](auto& s) { s.max_queued_requests = 0; }),
                     {"RedisSettings.max_queued_requests: 0 must be >= 1"});
  expect_message_has(validate_error([](auto& s) { s.max_queued_bytes = 0; }),
                     {"RedisSettings.max_queued_bytes: 0 must be >= 1"});
}

TEST(SettingsValidate, ReconnectDelays) {
  expect_message_has(validate_error([](auto& s) { s.reconnect_min_delay = 0ms; }),
                     {"RedisSettings.reconnect_min_delay: 0ms"});
  expect_message_has(validate_error([](auto& s) {
                       s.reconnect_min_delay = 6000ms;
                       s.reconnect_max_delay = 5000ms;
                     }),
                     {"RedisSettings.reconnect_min_delay: 6000ms", "reconnect_max_delay (5000ms)"});
  expect_valid([](auto& s) {
    s.reconnect_min_delay = 100ms;
    s.reconnect_max_delay = 100ms;
  });
}

TEST(SettingsValidate, ReplyLimits) {
  expect_message_has(validate_error([](auto& s) { s.max_reply_size = 1023; }),
                     {"RedisSettings.max_reply_size: 1023"});
  expect_valid([](auto& s) { s.max_reply_size = 1024; });
  expect_message_has(validate_error([](auto& s) { s.max_nesting_depth = 0; }),
                     {"RedisSettings.max_nesting_depth: 0 is out of range 1-1000"});
  expect_message_has(validate_error([](auto& s) { s.max_nesting_depth = 1001; }),
                     {"RedisSettings.max_nesting_depth: 1001"});
  expect_valid([](auto& s) { s.max_nesting_depth = 1; });
  expect_valid([](auto& s) { s.max_nesting_depth = 1000; });
}

TEST(SettingsValidate, TlsOverUnixSocket) {
  expect_message_has(validate_error([](auto& s) {
                       s.tls = true;
                       s.unix_socket = "/tmp/redis.sock";
                     }),
                     {"RedisSettings.tls", "TLS works over TCP only", "/tmp/redis.sock"});
  expect_valid([](auto& s) { s.tls = true; });
}

TEST(SettingsValidate, UnixSocketPathLength) {
  expect_message_has(validate_error([](auto& s) { s.unix_socket = "/" + std::string(107, 'a'); }),
                     {"RedisSettings.unix_socket", "108 bytes"});
  expect_valid([](auto& s) { s.unix_socket = "/" + std::string(106, 'a'); });
}

TEST(SettingsValidate, TlsMinVersion) {
  expect_message_has(validate_error([](auto& s) { s.tls_options.min_version = "1.1"; }),
                     {"RedisSettings.tls_options.min_version: '1.1'"});
  expect_valid([](auto& s) { s.tls_options.min_version = "1.3"; });
}

TEST(SettingsValidate, ClientName) {
  expect_message_has(validate_error([](auto& s) { s.client_name = "my app"; }),
                     {"RedisSettings.client_name: 'my app'"});
  expect_message_has(validate_error([](auto& s) { s.client_name = "a\nb"; }),
                     {"RedisSettings.client_name: 'a\\x0ab'"});
  expect_valid([](auto& s) { s.client_name = "billing-api:v2"; });
}

TEST(SettingsValidate, PasswordNeverInMessage) {
  const std::string message = validate_error([](auto& s) {
    s.password = "Sup3rS3cr3t";
    s.port = 0;
  });
  EXPECT_EQ(message.find("Sup3rS3cr3t"), std::string::npos) << message;
}

}  // namespace
}  // namespace asyncredis
