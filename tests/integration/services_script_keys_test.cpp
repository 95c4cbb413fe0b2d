// The script-key audit: every Lua script of the services (rate limiter, sessions, cache) touches
// only keys it was given in KEYS, which a Redis Cluster needs to route it.
//
// Behavioural, against a real redis-server and through the services' own call sites: the
// services run over a command surface whose sink answers every EVALSHA with NOSCRIPT, so the
// library sends EVAL with the script's source, which the sink wraps in an audit prelude before
// it goes out. The prelude shadows `redis` for the script with one whose call() and pcall()
// first append {script, KEYS, command} to a list; afterwards the server itself says which
// arguments of each logged command are keys (COMMAND GETKEYS), and each must be in the KEYS
// the service passed. A script the services add later is audited without being listed here.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/append.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/asyncredis.hpp"
#include "cache/cache_scripts.hpp"
#include "support/async_test.hpp"
#include "support/shared_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;

constexpr std::string_view kAuditList = "__script_audit__";

// The prelude and epilogue around a script's source. Scripts only ever reach Redis through
// redis.call/pcall, which now log first; every other field of `redis` is the real one.
std::string audited(std::string_view source, const std::string& sha1) {
  std::string out = R"lua(
local __audit_real = redis
local function __audit_log(...)
  local args = {...}
  for i = 1, #args do args[i] = tostring(args[i]) end
  __audit_real.call('RPUSH', ')lua";
  out += kAuditList;
  out += R"lua(', cjson.encode({script = ')lua";
  out += sha1;
  out += R"lua(', keys = KEYS, call = args}))
end
local redis = setmetatable({
  call = function(...) __audit_log(...) return __audit_real.call(...) end,
  pcall = function(...) __audit_log(...) return __audit_real.pcall(...) end,
}, {__index = __audit_real})
local function __audit_body()
)lua";
  out += source;
  out += "\nend\nreturn __audit_body()\n";
  return out;
}

// The bulk strings of one RESP command (what the library sends is always that form).
std::vector<std::string> parse_command(std::string_view bytes) {
  std::vector<std::string> args;
  auto number = [&bytes](char tag) {
    if (bytes.empty() || bytes[0] != tag) throw std::runtime_error("not a RESP command");
    const std::size_t end = bytes.find("\r\n");
    const long n = std::stol(std::string(bytes.substr(1, end - 1)));
    bytes.remove_prefix(end + 2);
    return static_cast<std::size_t>(n);
  };
  const std::size_t count = number('*');
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t length = number('$');
    args.emplace_back(bytes.substr(0, length));
    bytes.remove_prefix(length + 2);
  }
  if (!bytes.empty()) throw std::runtime_error("more than one command in a request");
  return args;
}

std::string encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) {
    out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  }
  return out;
}

bool is(const std::string& arg, std::string_view name) {
  if (arg.size() != name.size()) return false;
  for (std::size_t i = 0; i < arg.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(arg[i])) != name[i]) return false;
  }
  return true;
}

// Forwards to the client's sink, turning every script call into an audited EVAL.
class AuditSink : public detail::RequestSink {
 public:
  explicit AuditSink(detail::RequestSink* inner) : inner_(inner) {}

  void submit(detail::Request&& request, detail::ReplyHandler&& handler) override {
    std::vector<std::string> args = parse_command(request.bytes());
    if (!args.empty() && is(args[0], "EVALSHA")) {
      // The library then sends EVAL with the source, which is what the audit needs.
      asio::post(inner_->executor(), [handler = std::move(handler)]() mutable {
        asio::dispatch(asio::append(std::move(handler), std::exception_ptr(),
                                    Reply::error("NOSCRIPT the audit wants the source")));
      });
      return;
    }
    if (args.size() >= 2 && is(args[0], "EVAL")) {
      const std::string sha1 = Script(args[1]).sha1();
      sources_.emplace(sha1, args[1]);
      args[1] = audited(args[1], sha1);
      request.payload = encode(args);
    }
    inner_->submit(std::move(request), std::move(handler));
  }

  asio::any_io_executor executor() const override { return inner_->executor(); }

  // The scripts seen, by the SHA1 of their source.
  const std::map<std::string, std::string>& sources() const { return sources_; }

 private:
  detail::RequestSink* inner_;
  std::map<std::string, std::string> sources_;  // only touched on the test's one thread
};

// Commands over any sink (the constructor is protected), and a client's own sink.
class SinkCommands : public Commands {
 public:
  explicit SinkCommands(detail::RequestSink* sink) : Commands(sink) {}
  static detail::RequestSink* sink_of(const Commands& commands) {
    return SinkCommands(commands).sink_;
  }

 private:
  explicit SinkCommands(const Commands& commands) : Commands(commands) {}
};

struct Violation {
  std::string script;
  std::string command;
  std::string key;
};

// Every logged command's keys (as the server finds them) that its script was not given.
asio::awaitable<std::vector<Violation>> undeclared_keys(RedisClient& client,
                                                        std::set<std::string>& audited_scripts) {
  std::vector<Violation> violations;
  const auto entries =
      co_await client.command<std::vector<std::string>>("LRANGE", kAuditList, 0, -1, use_awaitable);
  for (const std::string& text : entries) {
    const nlohmann::json entry = nlohmann::json::parse(text);
    audited_scripts.insert(entry.at("script").get<std::string>());
    std::set<std::string> declared;
    for (const auto& key : entry.at("keys")) declared.insert(key.get<std::string>());
    std::vector<std::string> call{"COMMAND", "GETKEYS"};
    for (const auto& arg : entry.at("call")) call.push_back(arg.get<std::string>());
    const Reply keys = co_await client.command<Reply>(call, use_awaitable);
    if (keys.is_error()) continue;  // a command without keys (TIME)
    for (const Reply& key : keys.elements()) {
      if (!declared.contains(key.str())) {
        violations.push_back({entry.at("script").get<std::string>(), call[2], key.str()});
      }
    }
  }
  co_return violations;
}

class ScriptKeys : public test::SharedServerTest {};

TEST_F(ScriptKeys, EveryScriptTouchesOnlyTheKeysItIsGiven) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    AuditSink sink(SinkCommands::sink_of(client));
    const SinkCommands audited_commands(&sink);
    const Commands& commands = audited_commands;

    // The rate limiter: every strategy, counting and peeking (which reads instead of writing).
    for (const auto strategy : {RateLimitStrategy::fixed_window, RateLimitStrategy::sliding_window,
                                RateLimitStrategy::gcra}) {
      RateLimiter limiter(commands, io.get_executor(), {.strategy = strategy});
      for (int i = 0; i < 3; ++i) co_await limiter.check("k", 2, 1h, use_awaitable);
      co_await limiter.peek("k", 2, 1h, use_awaitable);
      co_await limiter.peek("fresh", 2, 1h, use_awaitable);
    }

    // Sessions: each write, both index scripts, and the branches that touch other keys.
    const Uuid alice = Uuid::random();
    RedisSessionRepository sessions(commands, io.get_executor());
    Session kept = co_await sessions.create(alice, 1h, use_awaitable);
    const Session dangling = co_await sessions.create(alice, 1h, use_awaitable);
    const Session removed = co_await sessions.create(alice, 1h, use_awaitable);
    kept.data = {{"saved", true}};
    EXPECT_EQ(co_await sessions.save(kept, use_awaitable), SaveResult::stored);
    EXPECT_TRUE((co_await sessions.touch(kept.id, 2h, use_awaitable)).has_value());
    EXPECT_TRUE(co_await sessions.remove(removed.id, use_awaitable));
    EXPECT_EQ(co_await sessions.save(removed, use_awaitable), SaveResult::missing);
    Session expired = co_await sessions.create(alice, 1h, use_awaitable);
    expired.expires_at = std::chrono::system_clock::now() - 1s;
    EXPECT_EQ(co_await sessions.save(expired, use_awaitable), SaveResult::expired);
    co_await client.del(sessions.key_of(dangling.id), use_awaitable);
    EXPECT_EQ((co_await sessions.list_for_user(alice, use_awaitable)).size(), 1u);
    co_await sessions.create(alice, 1h, use_awaitable);
    EXPECT_EQ(co_await sessions.revoke_all(alice, use_awaitable), 2u);

    // The cache: a namespace's generation, read and bumped, and the stale-store cleanup.
    CacheOptions options;
    options.generation_refresh = 0ms;
    CacheService cache(commands, io.get_executor(), options);
    CacheService ns = cache.in_namespace("ns");
    co_await ns.set("a", 1, use_awaitable);
    co_await cache.invalidate_namespace("ns", use_awaitable);
    EXPECT_EQ(co_await ns.get<int>("a", use_awaitable), std::nullopt);
    co_await client.set("stale", "1", use_awaitable);
    EXPECT_EQ(co_await commands.eval<long long>(detail::delete_if_unchanged_script(), "stale", "1",
                                                use_awaitable),
              1);

    std::set<std::string> audited_scripts;
    for (const Violation& v : co_await undeclared_keys(client, audited_scripts)) {
      ADD_FAILURE() << v.command << " " << v.key << " is not in KEYS, in script " << v.script
                    << ":\n"
                    << sink.sources().at(v.script);
    }
    // Each script the services sent was run, audited: fixed, sliding, GCRA; create, save,
    // touch, list, revoke; generation read and bump; the stale-store cleanup.
    EXPECT_EQ(sink.sources().size(), 11u);
    for (const auto& [sha1, source] : sink.sources()) {
      EXPECT_TRUE(audited_scripts.contains(sha1)) << "no command logged by\n" << source;
    }
    co_await client.disconnect(use_awaitable);
  });
}

// The audit itself catches a key built inside a script (as the window scripts once did).
TEST_F(ScriptKeys, TheAuditSeesAKeyBuiltInsideAScript) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    AuditSink sink(SinkCommands::sink_of(client));
    const SinkCommands commands(&sink);
    const Script builds("return redis.call('INCR', KEYS[1] .. ':7')");
    EXPECT_EQ(co_await commands.eval<long long>(builds, "counter", std::vector<std::string>{},
                                                use_awaitable),
              1);
    std::set<std::string> audited_scripts;
    const std::vector<Violation> violations = co_await undeclared_keys(client, audited_scripts);
    EXPECT_EQ(violations.size(), 1u);
    if (violations.size() == 1) {
      EXPECT_EQ(violations[0].key, "counter:7");
      EXPECT_EQ(violations[0].script, builds.sha1());
    }
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
