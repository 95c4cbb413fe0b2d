// The HTTP demo service (examples/http_service), tested over real HTTP against a real
// redis-server: statuses, headers, cookies, cache hits, sessions and the rate limit.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "support/redis_server.hpp"

#ifndef ASYNCREDIS_HTTP_SERVICE
#error "ASYNCREDIS_HTTP_SERVICE must name the http_service executable (tests/CMakeLists.txt)"
#endif

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string ada = "3f2b8c1e-5d4a-4b6f-9e7d-1a2b3c4d5e6f";  // seeded by the service

// The service as a child process, stopped with SIGTERM.
class Service {
 public:
  Service(const asyncredis::test::RedisServer& redis, std::vector<std::string> flags) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      const std::string url = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";
      setenv("REDIS_URL", url.c_str(), 1);
      std::vector<std::string> args{ASYNCREDIS_HTTP_SERVICE, "--port", "0"};
      args.insert(args.end(), flags.begin(), flags.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    output_ = fdopen(out[0], "r");
    // The first line says where it listens: "http_service: listening on http://ADDR:PORT ...".
    char line[512];
    while (std::fgets(line, sizeof line, output_) != nullptr) {
      std::string text(line);
      auto at = text.find("listening on http://");
      if (at == std::string::npos) continue;
      auto colon = text.find(':', at + 20);
      port_ = static_cast<std::uint16_t>(std::stoi(text.substr(colon + 1)));
      break;
    }
    if (port_ == 0) throw std::runtime_error("http_service did not start");
    // Keep draining its log so it never blocks on a full pipe.
    drain_ = std::thread([this] {
      char buffer[512];
      while (std::fgets(buffer, sizeof buffer, output_) != nullptr) log_ += buffer;
    });
  }

  ~Service() {
    if (pid_ > 0) stop();
  }

  // SIGTERM; returns the exit status (0 for a clean stop).
  int stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        drain_.join();
        std::fclose(output_);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(50ms);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    drain_.join();
    std::fclose(output_);
    return -1;
  }

  std::uint16_t port() const { return port_; }
  const std::string& log() const { return log_; }

 private:
  pid_t pid_ = -1;
  FILE* output_ = nullptr;
  std::uint16_t port_ = 0;
  std::thread drain_;
  std::string log_;
};

struct Answer {
  int status = 0;
  std::map<std::string, std::string> headers;
  json body;
  std::chrono::milliseconds took{0};

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  // "session_id=<value>" out of Set-Cookie.
  std::string session_cookie() const {
    std::string set = header("Set-Cookie");
    if (!set.starts_with("session_id=")) return {};
    return set.substr(0, set.find(';'));
  }
};

Answer send(std::uint16_t port, http::verb method, const std::string& target,
            const std::string& body = {}, const std::string& cookie = {}) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> request(method, target, 11);
  request.set(http::field::host, "127.0.0.1");
  if (!cookie.empty()) request.set(http::field::cookie, cookie);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();
  const auto started = std::chrono::steady_clock::now();
  http::write(socket, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  Answer answer;
  answer.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  answer.status = response.result_int();
  for (const auto& field : response) {
    answer.headers[std::string(field.name_string())] = std::string(field.value());
  }
  answer.body = json::parse(response.body(), nullptr, false);
  return answer;
}

class HttpService : public ::testing::Test {
 protected:
  asyncredis::test::RedisServer redis_;
};

TEST_F(HttpService, UsersAreCachedAndInvalidatedOnUpdate) {
  Service service(redis_, {"--rate-limit", "1000"});
  const std::string path = "/users/" + ada;
  Answer first = send(service.port(), http::verb::get, path);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("X-Cache"), "miss");
  EXPECT_EQ(first.body["name"], "Ada Lovelace");
  EXPECT_GE(first.took, 45ms) << "a miss goes to the slow gateway";
  EXPECT_FALSE(first.header("X-RateLimit-Remaining").empty());

  Answer second = send(service.port(), http::verb::get, path);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("X-Cache"), "hit");
  EXPECT_EQ(second.body, first.body);

  Answer put = send(service.port(), http::verb::put, path,
                    R"({"name": "Ada King", "email": "ada@king.example"})");
  EXPECT_EQ(put.status, 200);
  Answer after = send(service.port(), http::verb::get, path);
  EXPECT_EQ(after.header("X-Cache"), "miss") << "the update invalidated the cached user";
  EXPECT_EQ(after.body["name"], "Ada King");
  EXPECT_EQ(send(service.port(), http::verb::get, path).header("X-Cache"), "hit");

  EXPECT_EQ(send(service.port(), http::verb::put, path, "not json").status, 400);
  EXPECT_EQ(send(service.port(), http::verb::get, "/nowhere").status, 404);
}

TEST_F(HttpService, UnknownUsersAreCachedAsNotFound) {
  Service service(redis_, {"--rate-limit", "1000"});
  const std::string path = "/users/00000000-0000-4000-8000-000000000000";
  Answer first = send(service.port(), http::verb::get, path);
  EXPECT_EQ(first.status, 404);
  EXPECT_EQ(first.header("X-Cache"), "miss");
  Answer second = send(service.port(), http::verb::get, path);
  EXPECT_EQ(second.status, 404);
  EXPECT_EQ(second.header("X-Cache"), "hit");
}

TEST_F(HttpService, LoginMeLogout) {
  Service service(redis_, {"--rate-limit", "1000"});
  EXPECT_EQ(send(service.port(), http::verb::get, "/me").status, 401);
  EXPECT_EQ(send(service.port(), http::verb::post, "/login", R"({"user_id": "nope"})").status, 400);

  const std::string user = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  Answer login =
      send(service.port(), http::verb::post, "/login", R"({"user_id": ")" + user + R"("})");
  ASSERT_EQ(login.status, 200);
  const std::string cookie = login.session_cookie();
  ASSERT_FALSE(cookie.empty()) << login.header("Set-Cookie");
  EXPECT_NE(login.header("Set-Cookie").find("HttpOnly"), std::string::npos);
  const std::string id = cookie.substr(std::string("session_id=").size());
  // Sessions live in the session database (3), in the seed's format.
  EXPECT_EQ(redis_.cli({"-n", "3", "EXISTS", "session:" + id}), "1");
  json stored = json::parse(redis_.cli({"-n", "3", "GET", "session:" + id}));
  EXPECT_EQ(stored["user_id"], user);

  Answer me = send(service.port(), http::verb::get, "/me", {}, cookie);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.body["user_id"], user);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me", {}, "session_id=forged").status, 401);

  Answer logout = send(service.port(), http::verb::post, "/logout", {}, cookie);
  EXPECT_EQ(logout.status, 200);
  EXPECT_NE(logout.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me", {}, cookie).status, 401);
  EXPECT_EQ(redis_.cli({"-n", "3", "EXISTS", "session:" + id}), "0");
}

TEST_F(HttpService, LogoutAllRevokesEverySessionOfTheUser) {
  Service service(redis_, {"--rate-limit", "1000"});
  const std::string body = R"({"user_id": ")" + ada + R"("})";
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
  Service service(redis_, {"--rate-limit", "5", "--rate-window", "60"});
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
  const long window = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() /
                      60;
  std::string count = redis_.cli({"GET", "ratelimit:ip:127.0.0.1:" + std::to_string(window)});
  if (count.empty()) {  // the window turned over between the requests and now
    count = redis_.cli({"GET", "ratelimit:ip:127.0.0.1:" + std::to_string(window - 1)});
  }
  EXPECT_GE(std::stoi(count), 6);
}

TEST_F(HttpService, StopsCleanlyOnSigterm) {
  Service service(redis_, {});
  EXPECT_EQ(send(service.port(), http::verb::get, "/users/" + ada).status, 200);
  EXPECT_EQ(service.stop(), 0);
  EXPECT_NE(service.log().find("\"GET /users/" + ada + "\" 200"), std::string::npos)
      << "one log line per request:\n"
      << service.log();
}

}  // namespace
