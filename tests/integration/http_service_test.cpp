// The HTTP demo service (examples/http_service), tested over real HTTP against a real
// redis-server: statuses, headers, cookies, cache hits, sessions, the rate limit and who the
// client is, errors, Redis going down; and that no example program prints the Redis password.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "example_process.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

#ifndef ASYNCREDIS_HTTP_SERVICE
#error "ASYNCREDIS_HTTP_SERVICE must name the http_service executable (tests/CMakeLists.txt)"
#endif
#if !defined(ASYNCREDIS_EXAMPLES_DIR) || !defined(ASYNCREDIS_EXAMPLES)
#error "ASYNCREDIS_EXAMPLES_DIR and ASYNCREDIS_EXAMPLES: set by examples/CMakeLists.txt"
#endif

namespace {

using asyncredis::test::Answer;
using asyncredis::test::Call;
using asyncredis::test::ChildProcess;
using asyncredis::test::DemoService;
using asyncredis::test::RedisServer;
using asyncredis::test::send;
using asyncredis::test::wait_until;
namespace http = boost::beast::http;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string ada = "3f2b8c1e-5d4a-4b6f-9e7d-1a2b3c4d5e6f";  // seeded by the service
const std::string alan = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

std::string login_body(const std::string& user) {
  return R"({"user_id": ")" + user + R"("})";
}

// The index of the fixed window the rate limiter counts in now.
long window_index(long window_seconds) {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() /
         window_seconds;
}

class HttpService : public ::testing::Test {
 protected:
  RedisServer redis_;
};

TEST_F(HttpService, UsersAreCachedAndInvalidatedOnUpdate) {
  DemoService service(redis_, {"--rate-limit", "1000"});
  const std::string path = "/users/" + ada;
  Answer first = send(service.port(), http::verb::get, path);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("X-Cache"), "MISS");
  EXPECT_EQ(first.body["name"], "Ada Lovelace");
  EXPECT_GE(first.took, 45ms) << "a miss goes to the slow gateway";
  EXPECT_FALSE(first.header("X-RateLimit-Remaining").empty());

  Answer second = send(service.port(), http::verb::get, path);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("X-Cache"), "HIT");
  EXPECT_EQ(second.body, first.body);

  Answer put = send(service.port(), http::verb::put, path,
                    R"({"name": "Ada King", "email": "ada@king.example"})");
  EXPECT_EQ(put.status, 200);
  Answer after = send(service.port(), http::verb::get, path);
  EXPECT_EQ(after.header("X-Cache"), "MISS") << "the update invalidated the cached user";
  EXPECT_EQ(after.body["name"], "Ada King");
  EXPECT_EQ(send(service.port(), http::verb::get, path).header("X-Cache"), "HIT");

  EXPECT_EQ(send(service.port(), http::verb::put, path, "not json").status, 400);
  EXPECT_EQ(send(service.port(), http::verb::get, "/nowhere").status, 404);
}

TEST_F(HttpService, UnknownUsersAreCachedAsNotFound) {
  DemoService service(redis_, {"--rate-limit", "1000"});
  const std::string path = "/users/00000000-0000-4000-8000-000000000000";
  Answer first = send(service.port(), http::verb::get, path);
  EXPECT_EQ(first.status, 404);
  EXPECT_EQ(first.header("X-Cache"), "MISS");
  Answer second = send(service.port(), http::verb::get, path);
  EXPECT_EQ(second.status, 404);
  EXPECT_EQ(second.header("X-Cache"), "HIT");
}

TEST_F(HttpService, LoginMeLogout) {
  DemoService service(redis_, {"--rate-limit", "1000"});
  EXPECT_EQ(send(service.port(), http::verb::get, "/me").status, 401);
  EXPECT_EQ(send(service.port(), http::verb::post, "/login", R"({"user_id": "nope"})").status, 400);

  Answer login = send(service.port(), http::verb::post, "/login", login_body(alan));
  ASSERT_EQ(login.status, 200);
  const std::string cookie = login.session_cookie();
  ASSERT_FALSE(cookie.empty()) << login.header("Set-Cookie");
  const std::string id = cookie.substr(std::string("session_id=").size());
  // Sessions live in the session database (3), in the seed's format.
  EXPECT_EQ(redis_.cli({"-n", "3", "EXISTS", "session:" + id}), "1");
  json stored = json::parse(redis_.cli({"-n", "3", "GET", "session:" + id}));
  EXPECT_EQ(stored["user_id"], alan);

  Answer me = send(service.port(), http::verb::get, "/me", {}, cookie);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.body["user_id"], alan);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me", {}, "session_id=forged").status, 401);

  Answer logout = send(service.port(), http::verb::post, "/logout", {}, cookie);
  EXPECT_EQ(logout.status, 200);
  EXPECT_NE(logout.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me", {}, cookie).status, 401);
  EXPECT_EQ(redis_.cli({"-n", "3", "EXISTS", "session:" + id}), "0");
}

TEST_F(HttpService, SessionIdOnlyInTheCookie) {
  DemoService service(redis_, {"--rate-limit", "1000"});
  Answer login = send(service.port(), http::verb::post, "/login", login_body(alan));
  ASSERT_EQ(login.status, 200);
  const std::string cookie = login.session_cookie();
  const std::string id = cookie.substr(std::string("session_id=").size());
  ASSERT_FALSE(id.empty());
  Answer me = send(service.port(), http::verb::get, "/me", {}, cookie);
  ASSERT_EQ(me.status, 200);
  // A script on the page cannot read an HttpOnly cookie; it could read a body.
  for (const Answer* answer : {&login, &me}) {
    EXPECT_EQ(answer->raw_body.find(id), std::string::npos) << answer->raw_body;
    EXPECT_FALSE(answer->body.contains("session_id")) << answer->raw_body;
    EXPECT_EQ(answer->body["user_id"], alan);
    EXPECT_TRUE(answer->body.contains("expires_at"));
  }
}

TEST_F(HttpService, SessionCookieAttributes) {
  DemoService service(redis_, {"--rate-limit", "1000"});
  Answer login = send(service.port(), http::verb::post, "/login", login_body(ada));
  const std::string set = login.header("Set-Cookie");
  for (const char* attribute : {"; Path=/", "; HttpOnly", "; SameSite=Lax", "; Max-Age=3600"}) {
    EXPECT_NE(set.find(attribute), std::string::npos) << attribute << " not in " << set;
  }
  EXPECT_EQ(set.find("Secure"), std::string::npos) << "plain HTTP, no flag: " << set;
  // A client's own X-Forwarded-Proto means nothing without --trust-proxy.
  Call call{http::verb::post, "/login", login_body(ada), {{"X-Forwarded-Proto", "https"}}};
  EXPECT_EQ(send(service.port(), call).header("Set-Cookie").find("Secure"), std::string::npos);
}

TEST_F(HttpService, SecureCookiesFlag) {
  DemoService service(redis_, {"--rate-limit", "1000", "--secure-cookies"});
  Answer login = send(service.port(), http::verb::post, "/login", login_body(ada));
  ASSERT_EQ(login.status, 200);
  const std::string set = login.header("Set-Cookie");
  EXPECT_NE(set.find("; Secure"), std::string::npos) << set;
  EXPECT_NE(set.find("; SameSite=Lax"), std::string::npos) << set;
  Answer logout = send(service.port(), http::verb::post, "/logout", {}, login.session_cookie());
  EXPECT_NE(logout.header("Set-Cookie").find("; Secure"), std::string::npos)
      << "the clearing cookie must match the one it replaces";
}

TEST_F(HttpService, SecureCookieBehindATrustedTlsProxy) {
  DemoService service(redis_, {"--rate-limit", "1000", "--trust-proxy"});
  Call over_tls{http::verb::post, "/login", login_body(ada), {{"X-Forwarded-Proto", "https"}}};
  EXPECT_NE(send(service.port(), over_tls).header("Set-Cookie").find("; Secure"),
            std::string::npos);
  Call plain{http::verb::post, "/login", login_body(ada), {{"X-Forwarded-Proto", "http"}}};
  EXPECT_EQ(send(service.port(), plain).header("Set-Cookie").find("Secure"), std::string::npos);
}

TEST_F(HttpService, ServerErrorsAreLoggedNotAnswered) {
  // A WRONGTYPE on this client's rate-limit counter: an error that is not an outage (500).
  const long window = window_index(3600);
  for (long w : {window, window + 1}) {
    redis_.cli({"HSET", "ratelimit:ip:127.0.0.1:" + std::to_string(w), "not", "a counter"});
  }
  DemoService service(redis_, {"--rate-limit", "1000", "--rate-window", "3600"});
  Answer answer = send(service.port(), http::verb::get, "/me");
  EXPECT_EQ(answer.status, 500);
  EXPECT_EQ(answer.body, json({{"detail", "Internal server error"}})) << answer.raw_body;
  EXPECT_EQ(answer.raw_body.find("WRONGTYPE"), std::string::npos);
  // The detail goes to the log instead, with the request it belongs to.
  ASSERT_TRUE(wait_until([&] { return service.log().find("WRONGTYPE") != std::string::npos; }))
      << service.log();
  const std::string log = service.log();
  const std::string line = log.substr(log.rfind('\n', log.find("WRONGTYPE")) + 1);
  EXPECT_NE(line.find("GET /me"), std::string::npos) << line;
  EXPECT_NE(line.find("500"), std::string::npos) << line;
}

TEST_F(HttpService, TrustProxyTakesTheClientFromXForwardedFor) {
  DemoService service(redis_, {"--rate-limit", "2", "--rate-window", "86400", "--trust-proxy"});
  auto from = [&](const std::string& forwarded_for) {
    return send(service.port(), {http::verb::get, "/me", {}, {{"X-Forwarded-For", forwarded_for}}})
        .status;
  };
  EXPECT_EQ(from("203.0.113.7"), 401);
  // The proxy appends the address it saw: the last entry. Earlier ones are the client's claim.
  EXPECT_EQ(from("198.51.100.1, 203.0.113.7"), 401);
  EXPECT_EQ(from("203.0.113.7"), 429) << "two requests from 203.0.113.7 already";
  EXPECT_EQ(from("203.0.113.7, 198.51.100.2"), 401) << "another client, its own budget";
  EXPECT_EQ(from("not an address"), 401) << "unusable: the peer's address counts";
  const std::string window = std::to_string(window_index(86400));
  EXPECT_EQ(redis_.cli({"GET", "ratelimit:ip:203.0.113.7:" + window}), "3");
  EXPECT_EQ(redis_.cli({"GET", "ratelimit:ip:198.51.100.2:" + window}), "1");
  EXPECT_EQ(redis_.cli({"GET", "ratelimit:ip:127.0.0.1:" + window}), "1");
}

TEST_F(HttpService, XForwardedForIgnoredWithoutTrustProxy) {
  DemoService service(redis_, {"--rate-limit", "2", "--rate-window", "86400"});
  for (const char* claimed : {"203.0.113.7", "203.0.113.8"}) {
    EXPECT_EQ(
        send(service.port(), {http::verb::get, "/me", {}, {{"X-Forwarded-For", claimed}}}).status,
        401);
  }
  EXPECT_EQ(send(service.port(), {http::verb::get, "/me", {}, {{"X-Forwarded-For", "203.0.113.9"}}})
                .status,
            429)
      << "a client cannot get a fresh budget by claiming another address";
  const std::string window = std::to_string(window_index(86400));
  EXPECT_EQ(redis_.cli({"GET", "ratelimit:ip:127.0.0.1:" + window}), "3");
  EXPECT_EQ(redis_.cli({"EXISTS", "ratelimit:ip:203.0.113.7:" + window}), "0");
}

TEST_F(HttpService, LogoutAllRevokesEverySessionOfTheUser) {
  DemoService service(redis_, {"--rate-limit", "1000"});
  const std::string body = login_body(ada);
  const std::string a = send(service.port(), http::verb::post, "/login", body).session_cookie();
  const std::string b = send(service.port(), http::verb::post, "/login", body).session_cookie();
  ASSERT_NE(a, b);
  Answer all = send(service.port(), http::verb::post, "/logout-all", {}, a);
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(all.body["revoked"], 2);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me", {}, a).status, 401);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me", {}, b).status, 401);
}

TEST_F(HttpService, RateLimitAnswers429WithHeaders) {
  DemoService service(redis_, {"--rate-limit", "5", "--rate-window", "60"});
  for (int i = 0; i < 5; ++i) {
    Answer allowed = send(service.port(), http::verb::get, "/me");
    EXPECT_EQ(allowed.status, 401);
    EXPECT_EQ(allowed.header("X-RateLimit-Remaining"), std::to_string(4 - i));
    EXPECT_EQ(allowed.header("X-RateLimit-Limit"), "5");
  }
  Answer denied = send(service.port(), http::verb::get, "/me");
  EXPECT_EQ(denied.status, 429);
  EXPECT_EQ(denied.body["detail"], "Rate limit exceeded");
  EXPECT_EQ(denied.header("X-RateLimit-Remaining"), "0");
  EXPECT_FALSE(denied.header("Retry-After").empty());
  EXPECT_GE(std::stoi(denied.header("Retry-After")), 1);
  EXPECT_EQ(denied.header("RateLimit-Policy"), "5;w=60");
  EXPECT_FALSE(denied.header("X-RateLimit-Reset").empty());
  // The counter is the seed's: ratelimit:ip:<address>:<window>, a plain integer.
  const long window = window_index(60);
  std::string count = redis_.cli({"GET", "ratelimit:ip:127.0.0.1:" + std::to_string(window)});
  if (count.empty()) {  // the window turned over between the requests and now
    count = redis_.cli({"GET", "ratelimit:ip:127.0.0.1:" + std::to_string(window - 1)});
  }
  EXPECT_GE(std::stoi(count), 6);
}

// Redis stopped under the running service: users come from the gateway (BYPASS), sessions
// answer 503, all within the demo's own Redis deadline (250 ms a call by default), and the
// service recovers once Redis is back. REDIS_FAIL_FAST=false: the bound must hold without it.
TEST_F(HttpService, AnswersWithinItsDeadlineWhileRedisIsDown) {
  DemoService service(redis_, {"--rate-limit", "1000"}, {{"REDIS_FAIL_FAST", "false"}});
  const std::string user_path = "/users/" + ada;
  ASSERT_EQ(send(service.port(), http::verb::get, user_path).header("X-Cache"), "MISS");
  const std::string cookie =
      send(service.port(), http::verb::post, "/login", login_body(ada)).session_cookie();
  ASSERT_FALSE(cookie.empty());

  redis_.stop();
  // Generous for a loaded 2-core machine; the demo's own bound is ~2 x 250 ms + the gateway.
  constexpr auto bound = 2500ms;
  std::map<std::string, std::chrono::milliseconds> slowest;
  auto expect_unavailable = [&](const Answer& answer, const std::string& what) {
    EXPECT_EQ(answer.status, 503) << what << ": " << answer.raw_body;
    EXPECT_EQ(answer.body, json({{"detail", "Service unavailable"}})) << what;
    EXPECT_LT(answer.took, bound) << what;
    slowest[what] = std::max(slowest[what], answer.took);
  };
  for (int round = 0; round < 3; ++round) {
    Answer user = send(service.port(), http::verb::get, user_path);
    EXPECT_EQ(user.status, 200) << user.raw_body;
    EXPECT_EQ(user.header("X-Cache"), "BYPASS");
    EXPECT_EQ(user.body["name"], "Ada Lovelace") << "served from the gateway";
    EXPECT_LT(user.took, bound);
    slowest["GET /users"] = std::max(slowest["GET /users"], user.took);
    expect_unavailable(send(service.port(), http::verb::post, "/login", login_body(ada)),
                       "POST /login");
    expect_unavailable(send(service.port(), http::verb::get, "/me", {}, cookie), "GET /me");
  }
  // The update reaches the database, but the cached copy cannot be invalidated: that is an
  // error (a stale entry could outlive the outage), not a silent success.
  expect_unavailable(send(service.port(), http::verb::put, user_path,
                          R"({"name": "Ada King", "email": "ada@king.example"})"),
                     "PUT /users");
  EXPECT_EQ(send(service.port(), http::verb::get, user_path).body["name"], "Ada King");
  std::ostringstream timings;
  for (const auto& [what, took] : slowest) timings << what << " " << took.count() << " ms; ";
  std::cout << "slowest answers while Redis was down: " << timings.str() << std::endl;
  RecordProperty("outage_timings", timings.str());
  EXPECT_NE(service.log().find("Redis unavailable"), std::string::npos) << "the reason is logged:\n"
                                                                        << service.log();

  redis_.start();
  // Each client (cache, sessions) reconnects on its own, with backoff (reconnect_max_delay,
  // 5 s, apart at most): the demo has recovered once both routes work again.
  EXPECT_TRUE(wait_until(
      [&] {
        return send(service.port(), http::verb::get, user_path).header("X-Cache") != "BYPASS";
      },
      20s));
  std::string new_cookie;
  EXPECT_TRUE(wait_until(
      [&] {
        new_cookie =
            send(service.port(), http::verb::post, "/login", login_body(ada)).session_cookie();
        return !new_cookie.empty();
      },
      20s));
  EXPECT_EQ(send(service.port(), http::verb::get, "/me", {}, new_cookie).status, 200);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me", {}, cookie).status, 401)
      << "the restarted server kept nothing";
  EXPECT_EQ(service.stop(), 0);
}

TEST_F(HttpService, StopsCleanlyOnSigterm) {
  DemoService service(redis_, {});
  EXPECT_EQ(send(service.port(), http::verb::get, "/users/" + ada).status, 200);
  EXPECT_EQ(service.stop(), 0);
  EXPECT_NE(service.log().find("\"GET /users/" + ada + "\" 200"), std::string::npos)
      << "one log line per request:\n"
      << service.log();
}

// ---------------------------------------------------------------------------------------------
// No example program shows the Redis password, whether it connects or is refused.

// Distinctive, with characters url() percent-escapes: absent in both its forms.
const std::string kPassword = "Tr0ub4dor&3:p@ss/w0rd";
const std::string kPasswordMark = "Tr0ub4dor";
const std::string kWrongPassword = "Wr0ngHorse:b@ttery";
const std::string kWrongPasswordMark = "Wr0ngHorse";

std::vector<std::string> example_programs() {
  std::vector<std::string> names;
  std::stringstream list(ASYNCREDIS_EXAMPLES);
  for (std::string name; std::getline(list, name, ',');) names.push_back(name);
  return names;
}

// Runs example `name` to its end with `env`; its exit status and output.
std::pair<int, std::string> run_example(const std::string& name,
                                        const std::map<std::string, std::string>& env) {
  ChildProcess program({std::string(ASYNCREDIS_EXAMPLES_DIR) + "/" + name}, env);
  const auto status = program.wait(60s);
  return {status.value_or(-1), program.output()};
}

class ExamplePrograms : public ::testing::Test {
 protected:
  RedisServer redis_{{.password = kPassword}};
};

TEST_F(ExamplePrograms, PrintNoPassword) {
  const std::string url = redis_.settings().url(0);
  ASSERT_NE(url.find("Tr0ub4dor%263%3Ap%40ss%2Fw0rd"), std::string::npos) << url;
  const auto names = example_programs();
  ASSERT_GE(names.size(), 5u) << ASYNCREDIS_EXAMPLES;
  for (const auto& name : names) {
    const auto [status, output] = run_example(name, {{"REDIS_URL", url}});
    EXPECT_EQ(status, 0) << name << ":\n" << output;
    EXPECT_EQ(output.find(kPasswordMark), std::string::npos) << name << ":\n" << output;
  }
  // The ones that say where they connected say it redacted.
  EXPECT_NE(run_example("quickstart", {{"REDIS_URL", url}}).second.find(":***@127.0.0.1:"),
            std::string::npos);
}

TEST_F(ExamplePrograms, PrintNoPasswordWhenRefused) {
  asyncredis::RedisSettings wrong = redis_.settings();
  wrong.password = kWrongPassword;
  for (const auto& name : example_programs()) {
    const auto [status, output] = run_example(name, {{"REDIS_URL", wrong.url(0)}});
    EXPECT_NE(status, 0) << name << " connected with a wrong password:\n" << output;
    EXPECT_EQ(output.find(kWrongPasswordMark), std::string::npos) << name << ":\n" << output;
  }
}

TEST_F(ExamplePrograms, DemoStartupPrintsNoPassword) {
  {
    DemoService service(redis_, {});
    EXPECT_EQ(send(service.port(), http::verb::get, "/users/" + ada).status, 200);
    EXPECT_EQ(service.stop(), 0);
    EXPECT_NE(service.log().find("(redis redis://:***@127.0.0.1:"), std::string::npos)
        << service.log();
    EXPECT_EQ(service.log().find(kPasswordMark), std::string::npos) << service.log();
  }
  {  // the password from REDIS_PASSWORD rather than the URL
    const std::map<std::string, std::string> env = {
        {"REDIS_URL", "redis://127.0.0.1:" + std::to_string(redis_.port()) + "/0"},
        {"REDIS_PASSWORD", kPassword}};
    DemoService service(redis_, {}, env);
    EXPECT_EQ(service.stop(), 0);
    EXPECT_EQ(service.log().find(kPasswordMark), std::string::npos) << service.log();
  }
  {  // refused: the service exits, and says why without the password
    asyncredis::RedisSettings wrong = redis_.settings();
    wrong.password = kWrongPassword;
    ChildProcess service({ASYNCREDIS_HTTP_SERVICE, "--port", "0"}, {{"REDIS_URL", wrong.url(0)}});
    EXPECT_EQ(service.wait(), 1) << service.output();
    EXPECT_EQ(service.output().find(kWrongPasswordMark), std::string::npos) << service.output();
  }
}

}  // namespace
