// Running the example programs in tests: the HTTP demo service started on a free port (a
// ChildProcess), and one HTTP call to it. Every wait has a deadline.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace asyncredis::test {

// The HTTP demo service (ASYNCREDIS_HTTP_SERVICE) on a free port, connected to `redis`.
class DemoService {
 public:
  // `flags` follow "--port 0"; `env` adds to (or replaces) REDIS_URL, which names `redis`
  // with its password. Returns once the service says where it listens; throws
  // std::runtime_error with its output if it exits or says nothing within the wait limit.
  DemoService(const RedisServer& redis, const std::vector<std::string>& flags,
              std::map<std::string, std::string> env = {})
      : process_(command_line(flags), with_redis_url(redis, std::move(env))) {
    constexpr std::string_view marker = "listening on http://";
    std::string out;
    wait_until([&] {
      out = process_.output();
      return out.find('\n', out.find(marker)) != std::string::npos ||
             process_.wait(std::chrono::milliseconds(0)).has_value();
    });
    const auto at = out.find(marker);
    if (at == std::string::npos) throw std::runtime_error("http_service did not start:\n" + out);
    const auto colon = out.find(':', at + marker.size());
    port_ = static_cast<std::uint16_t>(std::stoi(out.substr(colon + 1)));
  }

  std::uint16_t port() const { return port_; }
  std::string log() const { return process_.output(); }
  ChildProcess& process() { return process_; }
  // SIGTERM; the exit status (0 for a clean stop).
  int stop() { return process_.stop(); }

 private:
  static std::vector<std::string> command_line(const std::vector<std::string>& flags) {
    std::vector<std::string> args{ASYNCREDIS_HTTP_SERVICE, "--port", "0"};
    args.insert(args.end(), flags.begin(), flags.end());
    return args;
  }
  static std::map<std::string, std::string> with_redis_url(const RedisServer& redis,
                                                           std::map<std::string, std::string> env) {
    env.try_emplace("REDIS_URL", redis.settings().url(0));
    return env;
  }

  ChildProcess process_;
  std::uint16_t port_ = 0;
};

namespace http = boost::beast::http;

// One HTTP request.
struct Call {
  http::verb method = http::verb::get;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;  // Cookie, X-Forwarded-For, ...
};

struct Answer {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string raw_body;
  nlohmann::json body;  // discarded when raw_body is not JSON
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

// Sends `call` to 127.0.0.1:port on a new connection and reads the answer; throws (a test
// failure) when the service does not answer within `limit`.
inline Answer send(std::uint16_t port, const Call& call,
                   std::chrono::milliseconds limit = kWaitLimit) {
  namespace asio = boost::asio;
  http::request<http::string_body> request(call.method, call.target, 11);
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : call.headers) request.set(name, value);
  if (!call.body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = call.body;
  }
  request.prepare_payload();

  // Asynchronous operations: only they honour the stream's deadline.
  asio::io_context io;
  boost::beast::tcp_stream stream(io);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  boost::system::error_code failure;
  const auto started = std::chrono::steady_clock::now();
  stream.expires_after(limit);
  stream.async_connect({asio::ip::make_address("127.0.0.1"), port}, [&](auto ec) {
    if (ec) return void(failure = ec);
    http::async_write(stream, request, [&](auto ec, std::size_t) {
      if (ec) return void(failure = ec);
      http::async_read(stream, buffer, response, [&](auto ec, std::size_t) { failure = ec; });
    });
  });
  io.run();
  if (failure) {
    throw std::runtime_error("HTTP " + std::string(http::to_string(call.method)) + " " +
                             call.target + ": " + failure.message());
  }
  Answer answer;
  answer.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  answer.status = response.result_int();
  for (const auto& field : response) {
    answer.headers[std::string(field.name_string())] = std::string(field.value());
  }
  answer.raw_body = response.body();
  answer.body = nlohmann::json::parse(answer.raw_body, nullptr, false);
  return answer;
}

inline Answer send(std::uint16_t port, http::verb method, const std::string& target,
                   const std::string& body = {}, const std::string& cookie = {}) {
  Call call{method, target, body, {}};
  if (!cookie.empty()) call.headers["Cookie"] = cookie;
  return send(port, call);
}

}  // namespace asyncredis::test
