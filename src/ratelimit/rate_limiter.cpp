// RateLimiter: one script per check on Redis, the OnUnavailable policy when Redis is out of
// reach, and reset() by SCAN.
#include "asyncredis/ratelimit/rate_limiter.hpp"

#include <array>
#include <atomic>
#include <mutex>
#include <tuple>
#include <vector>

#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/client.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/scan.hpp"
#include "ratelimit/algorithms.hpp"
#include "ratelimit/lua_scripts.hpp"

namespace asyncredis {

namespace asio = boost::asio;
namespace rl = detail::ratelimit;
using asio::use_awaitable;

namespace {

std::error_code code_of(const std::exception_ptr& error) {
  std::error_code code = error_code_of(error);
  return code ? code : make_error_code(errc::not_connected);
}

void validate_options(const RateLimiterOptions& options) {
  if (options.local_max_keys == 0) {
    throw Error(errc::invalid_argument, "RateLimiterOptions: local_max_keys must be at least 1");
  }
  if (options.timeout.count() < 0 || options.cooldown.count() < 0) {
    throw Error(errc::invalid_argument,
                "RateLimiterOptions: timeout and cooldown must not be negative");
  }
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "<digits>:<digits>:<digits>": the rate part of a GCRA key.
bool is_gcra_rate(std::string_view s) {
  for (int field = 0; field < 2; ++field) {
    const std::size_t colon = s.find(':');
    if (colon == std::string_view::npos || !all_digits(s.substr(0, colon))) return false;
    s.remove_prefix(colon + 1);
  }
  return all_digits(s);
}

// Tries at the current window: the first guess comes from this machine's clock, the next from
// the reply's (Redis's) clock, so only a window shorter than a round trip can use them all.
constexpr int kWindowAttempts = 3;

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using ScriptReply =
    std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>;

}  // namespace

struct RateLimiter::State {
  State(Commands c, RateLimiterOptions o)
      : commands(std::move(c)),
        options(std::move(o)),
        local(options.strategy, options.local_max_keys) {}

  Commands commands;
  const RateLimiterOptions options;
  // On a cluster a script may only touch keys of one slot (see run_script and window_stem).
  // Set from the client's settings, or when a cluster client refuses a script with
  // errc::cross_slot (a Commands view does not say what it is over; nothing was sent).
  mutable std::atomic<bool> cluster{false};
  LocalRateLimiter local;

  // Cooldown after an outage: until this steady_clock time (ns since its epoch), the policy
  // decides without asking Redis; `last_error` is the failure that started it.
  std::atomic<std::int64_t> skip_until_ns{0};
  std::mutex mutex;
  std::error_code last_error;

  std::string base_key(std::string_view key) const {
    if (options.key_prefix.empty()) return std::string(key);
    std::string out = options.key_prefix;
    out += ':';
    out += key;
    return out;
  }

  // What precedes a window's index: "<base>:" (fixed window, the seed's layout) or
  // "<base>:sw:". On a cluster the sliding window's base is a hash tag ("{<base>}:sw:"): its
  // script reads two windows at once, and they must share a slot.
  std::string window_stem(std::string_view base) const {
    if (options.strategy != RateLimitStrategy::sliding_window) return std::string(base) + ":";
    if (cluster.load(std::memory_order_relaxed)) return "{" + std::string(base) + "}:sw:";
    return std::string(base) + ":sw:";
  }
  std::string window_key(std::string_view base, std::int64_t index) const {
    return window_stem(base) + std::to_string(index);
  }

  // "<base>:gcra:<limit>:<window ms>:<burst>": a TAT means something only for one rate, so
  // each rate of a key has its own.
  std::string gcra_key(std::string_view key, const RateLimit& rate) const {
    std::string out = base_key(key);
    out += ":gcra:";
    out += std::to_string(rate.limit);
    out += ':';
    out += std::to_string(rate.window.count());
    out += ':';
    out += std::to_string(rate.effective_burst());
    return out;
  }

  // Runs the strategy's script for one check (see lua_scripts.hpp).
  asio::awaitable<ScriptReply> run_script(const std::string& key, const RateLimit& rate,
                                          std::int64_t cost) const;

  // The view of the connection(s) a check uses: the limiter's own timeout.
  Commands check_commands() const {
    return options.timeout.count() > 0 ? commands.with_timeout(options.timeout) : commands;
  }

  static std::int64_t steady_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // The reason to skip Redis now, or an empty code when Redis should be asked.
  std::error_code cooling_down() {
    if (options.cooldown.count() <= 0) return {};
    if (steady_now_ns() >= skip_until_ns.load(std::memory_order_relaxed)) return {};
    std::lock_guard lock(mutex);
    return last_error;
  }

  void record_outage(std::error_code why) {
    if (options.cooldown.count() <= 0) return;
    {
      std::lock_guard lock(mutex);
      last_error = why;
    }
    const auto cooldown_ns = std::chrono::nanoseconds(options.cooldown).count();
    skip_until_ns.store(steady_now_ns() + cooldown_ns, std::memory_order_relaxed);
  }
};

RateLimiter::RateLimiter(RedisClient& client, RateLimiterOptions options)
    : RateLimiter(static_cast<Commands&>(client), client.get_executor(), std::move(options)) {
  state_->cluster.store(client.settings().is_cluster(), std::memory_order_relaxed);
}

RateLimiter::RateLimiter(Commands commands, asio::any_io_executor executor,
                         RateLimiterOptions options)
    : executor_(std::move(executor)) {
  validate_options(options);
  state_ = std::make_shared<State>(std::move(commands), std::move(options));
}

const RateLimiterOptions& RateLimiter::options() const noexcept {
  return state_->options;
}

LocalRateLimiter& RateLimiter::local_limiter() const noexcept {
  return state_->local;
}

std::string RateLimiter::redis_key(std::string_view key, std::int64_t index) const {
  if (state_->options.strategy == RateLimitStrategy::gcra) {
    throw Error(errc::invalid_argument,
                "RateLimiter::redis_key: a GCRA key carries its rate; call redis_key(key, rate)");
  }
  return state_->window_key(state_->base_key(key), index);
}

std::string RateLimiter::redis_key(std::string_view key, const RateLimit& rate) const {
  if (state_->options.strategy != RateLimitStrategy::gcra) {
    throw Error(errc::invalid_argument,
                "RateLimiter::redis_key: a window key carries its window index; call "
                "redis_key(key, index)");
  }
  return state_->gcra_key(key, rate);
}

// The strategy's script, with every key it may touch in KEYS: the GCRA state of this rate, or
// the counters of the windows around the current one (see lua_scripts.hpp).
asio::awaitable<ScriptReply> RateLimiter::State::run_script(const std::string& key,
                                                            const RateLimit& rate,
                                                            std::int64_t cost) const {
  const Commands commands = check_commands();
  const std::int64_t window_ms = rate.window.count();
  if (options.strategy == RateLimitStrategy::gcra) {
    const std::string redis_key = gcra_key(key, rate);
    const std::array<std::int64_t, 4> args{rate.limit, window_ms, cost, rate.effective_burst()};
    co_return co_await commands.eval<ScriptReply>(rl::gcra_script(), redis_key, args,
                                                  use_awaitable);
  }
  const bool sliding = options.strategy == RateLimitStrategy::sliding_window;
  const Script& script = sliding ? rl::sliding_window_script() : rl::fixed_window_script();
  const std::string base = base_key(key);
  std::int64_t current = unix_ms_now() / window_ms;
  for (int attempt = 0; attempt < kWindowAttempts; ++attempt) {
    // The sliding window reads the window before the current one as well. On a cluster the
    // fixed window's counters (the seed's keys, one slot each) go one at a time: Redis's
    // window is then the guess, or the next attempt's.
    const bool one = cluster.load(std::memory_order_relaxed) && !sliding;
    const std::int64_t first = one ? current : current - (sliding ? 2 : 1);
    const std::int64_t last = one ? current : current + 1;
    std::vector<std::string> keys;
    for (std::int64_t index = first; index <= last; ++index) {
      keys.push_back(window_key(base, index));
    }
    const std::array<std::int64_t, 4> args{rate.limit, window_ms, cost, first};
    ScriptReply reply;
    bool refused = false;
    try {
      reply = co_await commands.eval<ScriptReply>(script, keys, args, use_awaitable);
    } catch (const Error& e) {
      if (e.code() != make_error_code(errc::cross_slot) || cluster.load()) throw;
      refused = true;
    }
    if (refused) {
      cluster.store(true, std::memory_order_relaxed);
      continue;  // the same window, in the cluster's layout
    }
    if (std::get<0>(reply) != rl::window_not_given) co_return reply;
    current = std::get<2>(reply) / 1000 / window_ms;  // Redis's window
  }
  throw Error(errc::timeout, "rate limit " + base + ": the window moved on " +
                                 std::to_string(kWindowAttempts) +
                                 " times before a check reached Redis (window " +
                                 std::to_string(window_ms) + " ms)");
}

asio::awaitable<RateLimitResult> RateLimiter::run_check(std::shared_ptr<State> state,
                                                        std::string key, RateLimit rate,
                                                        std::int64_t cost) {
  std::error_code why = state->cooling_down();
  if (!why) {
    std::exception_ptr failure;
    try {
      const ScriptReply reply = co_await state->run_script(key, rate, cost);
      const auto [allowed, remaining, now_us, reset_after_us, retry_after_us] = reply;
      const rl::Decision decision{allowed != 0, remaining, reset_after_us, retry_after_us};
      co_return rl::make_result(decision, now_us, rate, DecidedBy::redis);
    } catch (...) {
      failure = std::current_exception();
    }
    if (!is_unavailable(failure)) std::rethrow_exception(failure);
    why = code_of(failure);
    state->record_outage(why);
  }
  switch (state->options.on_unavailable) {
    case OnUnavailable::fail_open:
      co_return rl::policy_result(true, rate, cost, std::chrono::system_clock::now(), why);
    case OnUnavailable::fail_closed:
      co_return rl::policy_result(false, rate, cost, std::chrono::system_clock::now(), why);
    case OnUnavailable::local_fallback:
      break;
  }
  RateLimitResult result = state->local.check(key, rate, cost);
  result.unavailable_error = why;
  co_return result;
}

asio::awaitable<void> RateLimiter::run_reset(std::shared_ptr<State> state, std::string key) {
  state->local.reset(key);
  const std::string base = state->base_key(key);
  const RateLimitStrategy strategy = state->options.strategy;
  const bool gcra = strategy == RateLimitStrategy::gcra;
  // Only keys of exactly this key's shape: "<base>:<digits>", ":sw:<digits>" or
  // ":gcra:<digits>:<digits>:<digits>". The pattern alone would also match another key's,
  // such as "<base>:x:<digits>" of key "<key>:x".
  const std::string stem = gcra ? base + ":gcra:" : state->window_stem(base);
  ScanOptions scan_options;
  scan_options.match = escape_glob(stem) + "*";
  scan_options.count = 1000;
  ScanIterator it = state->commands.scan(std::move(scan_options));
  std::vector<std::string> doomed;
  // The GCRA state of versions before the rate was part of its key.
  if (gcra) doomed.push_back(base + ":gcra");
  while (auto keys = co_await it.next(use_awaitable)) {
    for (std::string& k : *keys) {
      const std::string_view rest = std::string_view(k).substr(stem.size());
      if (gcra ? is_gcra_rate(rest) : all_digits(rest)) doomed.push_back(std::move(k));
    }
    if (doomed.size() >= 500) {
      co_await state->commands.unlink(doomed, use_awaitable);
      doomed.clear();
    }
  }
  if (!doomed.empty()) co_await state->commands.unlink(doomed, use_awaitable);
}

}  // namespace asyncredis
