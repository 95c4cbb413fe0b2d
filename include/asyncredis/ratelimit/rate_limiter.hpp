// RateLimiter: fixed window, sliding window or GCRA, counted atomically in Redis.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>

#include "asyncredis/commands.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/ratelimit/local_rate_limiter.hpp"
#include "asyncredis/ratelimit/types.hpp"

namespace asyncredis {

class RedisClient;

/// How a RateLimiter counts and what it does when Redis is unreachable; checked by its
/// constructor.
struct RateLimiterOptions {
  RateLimitStrategy strategy = RateLimitStrategy::fixed_window;  ///< how requests are counted
  /// Keys are "<key_prefix>:<key>..." ("<key>..." when empty). The default matches the seed.
  std::string key_prefix = "ratelimit";
  OnUnavailable on_unavailable =
      OnUnavailable::fail_open;  ///< what decides when Redis cannot be reached
  /// How long a check waits for Redis before the policy decides (errc::timeout counts as
  /// unreachable). A rate limiter sits in front of every request, so this is deliberately much
  /// shorter than the client's command_timeout. 0: the client's command_timeout.
  std::chrono::milliseconds timeout{500};
  /// After Redis was found unreachable, decide by the policy without asking Redis for this
  /// long, so an outage does not add `timeout` to every request. 0: ask Redis every time.
  std::chrono::milliseconds cooldown{0};
  /// Size bound of the local fallback limiter's table (OnUnavailable::local_fallback).
  std::size_t local_max_keys = 10'000;
};

/// Counts requests per key in Redis with one atomic script per check, on Redis's clock.
///
/// Every operation is an Asio asynchronous operation taking any completion token (deferred when
/// omitted), with signature void(std::exception_ptr, RateLimitResult) for check/peek and
/// void(std::exception_ptr) for reset; it may be started from any thread, and runs on the
/// client's executor. The RedisClient (or the connection behind the Commands) must outlive
/// every operation. A RateLimiter is cheap to copy; copies share the fallback limiter.
///
/// Keys (see RateLimitStrategy): fixed window "<prefix>:<key>:<index>", exactly the Python
/// seed's layout and a plain integer, so a seed service and this one share a budget; sliding
/// window "<prefix>:<key>:sw:<index>" ("{<prefix>:<key>}:sw:<index>" on a Redis Cluster, so
/// that the two windows it reads share a hash slot; the fixed window's counters are checked one
/// key at a time there, and keep the seed's layout); GCRA "<prefix>:<key>:gcra:<limit>:<window
/// ms>:<burst>" (burst as effective_burst()), one state per rate: two limits on one key never share
/// a state, and a changed limit starts afresh. Every key is written with its expiry in the same
/// script, so none can exist without a TTL. Every key a script touches is passed in KEYS: a
/// window check passes the counters of the windows around this machine's current one and the
/// script, on Redis's clock, uses the right ones (if the clocks are a window or more apart it
/// asks again around Redis's window). In a Redis Cluster put a hash tag in the key
/// ("{user:42}") so a check's keys share a slot.
///
/// Sharing with the Python seed: its window index is int(datetime.utcnow().timestamp()) //
/// window, and utcnow() is naive, so timestamp() reads it as local time: on a host whose zone
/// is not UTC its index is off by the UTC offset and the two services count in different keys.
/// Run the Python side with TZ=UTC (or fix it to time.time()) to share one budget.
class RateLimiter {
 public:
  /// The client must outlive the limiter's operations. Throws Error(errc::invalid_argument) for
  /// local_max_keys == 0 or a negative timeout/cooldown.
  explicit RateLimiter(RedisClient& client, RateLimiterOptions options = {});
  /// Over any command surface (a client, client.with(...), a Lease); `executor` runs the
  /// operations. `commands` must come from a client or lease, not be default-constructed.
  /// Over a cluster client's view it learns the cluster layout from the first check the
  /// client refuses (errc::cross_slot, before anything is sent) and asks again.
  RateLimiter(Commands commands, boost::asio::any_io_executor executor,
              RateLimiterOptions options = {});

  /// Counts `cost` units of `key` against `limit` per `window` and says whether they are
  /// allowed. The fixed window counts denied units too (see RateLimitStrategy); the sliding
  /// window and GCRA count only allowed ones. cost 0 is peek().
  /// Throws Error(errc::invalid_argument) at once for a limit, window, burst or cost out of
  /// range (cost above the limit, or GCRA's burst, could never be allowed). Fails with:
  ///
  ///   - nothing when Redis is unreachable (is_unavailable()): the policy decides and the
  ///     result's decided_by and unavailable_error say so (errc::timeout also when a window
  ///     shorter than a round trip moved on before each of 3 tries reached Redis);
  ///   - errc::server_error for any other error reply (WRONGTYPE on the key, ...), whatever
  ///     the policy; errc::cancelled when the caller cancels.
  ///
  /// Signature void(std::exception_ptr, RateLimitResult).
  template <class Token = boost::asio::deferred_t>
  auto check(std::string_view key, const RateLimit& rate, std::int64_t cost = 1,
             Token&& token = {}) const {
    detail::validate_check(rate, cost, options().strategy);
    return boost::asio::co_spawn(executor_, run_check(state_, std::string(key), rate, cost),
                                 std::forward<Token>(token));
  }
  /// check(key, rate, 1, token): one unit.
  template <class Token>
  requires(!std::convertible_to<Token, std::int64_t>) auto check(std::string_view key,
                                                                 const RateLimit& rate,
                                                                 Token&& token) const {
    return check(key, rate, 1, std::forward<Token>(token));
  }
  /// check(key, RateLimit{limit, window}, cost, token): a rate without a burst.
  template <class Token = boost::asio::deferred_t>
  auto check(std::string_view key, std::int64_t limit, std::chrono::milliseconds window,
             std::int64_t cost = 1, Token&& token = {}) const {
    return check(key, RateLimit{limit, window}, cost, std::forward<Token>(token));
  }
  /// check(key, RateLimit{limit, window}, 1, token): one unit of a rate without a burst.
  template <class Token>
  requires(!std::convertible_to<Token, std::int64_t>) auto check(std::string_view key,
                                                                 std::int64_t limit,
                                                                 std::chrono::milliseconds window,
                                                                 Token&& token) const {
    return check(key, RateLimit{limit, window}, 1, std::forward<Token>(token));
  }

  /// The state of `key` without counting anything: `allowed` says whether one more unit would
  /// be allowed now, `remaining` how many, `retry_after` how long until one would be. Errors
  /// and the unreachable policy as check().
  template <class Token = boost::asio::deferred_t>
  auto peek(std::string_view key, const RateLimit& rate, Token&& token = {}) const {
    return check(key, rate, 0, std::forward<Token>(token));
  }
  /// peek(key, RateLimit{limit, window}, token).
  template <class Token = boost::asio::deferred_t>
  auto peek(std::string_view key, std::int64_t limit, std::chrono::milliseconds window,
            Token&& token = {}) const {
    return check(key, RateLimit{limit, window}, 0, std::forward<Token>(token));
  }

  /// Forgets `key`'s usage for this limiter's strategy (every window length), in Redis and in
  /// the local fallback. The window strategies' keys carry the window index, so this SCANs for
  /// them (O(keyspace), never KEYS): meant for administration, not per request. Fails with the
  /// client's errors (unreachable Redis included: no policy applies to a reset). Signature
  /// void(std::exception_ptr).
  template <class Token = boost::asio::deferred_t>
  auto reset(std::string_view key, Token&& token = {}) const {
    return boost::asio::co_spawn(executor_, run_reset(state_, std::string(key)),
                                 std::forward<Token>(token));
  }

  /// The options it was made with.
  const RateLimiterOptions& options() const noexcept;
  /// The Redis key a check of `key` counts in at window `index` (fixed and sliding window).
  /// Throws Error(errc::invalid_argument) for a GCRA limiter (its keys carry the rate).
  std::string redis_key(std::string_view key, std::int64_t index) const;
  /// The Redis key of `key`'s GCRA state for `rate`. Throws Error(errc::invalid_argument) for
  /// a window strategy.
  std::string redis_key(std::string_view key, const RateLimit& rate) const;
  /// The in-process limiter used by OnUnavailable::local_fallback.
  LocalRateLimiter& local_limiter() const noexcept;

 private:
  struct State;

  static boost::asio::awaitable<RateLimitResult> run_check(std::shared_ptr<State> state,
                                                           std::string key, RateLimit rate,
                                                           std::int64_t cost);
  static boost::asio::awaitable<void> run_reset(std::shared_ptr<State> state, std::string key);

  std::shared_ptr<State> state_;
  boost::asio::any_io_executor executor_;
};

}  // namespace asyncredis
