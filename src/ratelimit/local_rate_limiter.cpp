// LocalRateLimiter: the strategies of algorithms.hpp over an LRU table of per-key states.
#include "asyncredis/ratelimit/local_rate_limiter.hpp"

#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <variant>

#include "asyncredis/error.hpp"
#include "ratelimit/algorithms.hpp"

namespace asyncredis {

namespace rl = detail::ratelimit;

namespace {

using State = std::variant<rl::FixedWindowState, rl::SlidingWindowState, rl::GcraState>;

struct Entry {
  std::string table_key;
  std::string key;
  std::int64_t window_us = 0;
  State state;
  std::int64_t expires_at_us = 0;
};

State fresh_state(RateLimitStrategy strategy) {
  switch (strategy) {
    case RateLimitStrategy::sliding_window:
      return rl::SlidingWindowState{};
    case RateLimitStrategy::gcra:
      return rl::GcraState{};
    case RateLimitStrategy::fixed_window:
      break;
  }
  return rl::FixedWindowState{};
}

// Runs the strategy on `state`, and says until when the state matters.
rl::Decision decide(State& state, std::int64_t now_us, const RateLimit& rate, std::int64_t cost,
                    std::int64_t& expires_at_us) {
  const std::int64_t window_us = rate.window.count() * 1000;
  return std::visit(
      [&](auto& s) {
        using S = std::decay_t<decltype(s)>;
        rl::Decision d;
        if constexpr (std::is_same_v<S, rl::FixedWindowState>) {
          d = rl::fixed_window(s, now_us, rate.limit, window_us, cost);
          expires_at_us = rl::expires_at_us(s, window_us);
        } else if constexpr (std::is_same_v<S, rl::SlidingWindowState>) {
          d = rl::sliding_window(s, now_us, rate.limit, window_us, cost);
          expires_at_us = rl::expires_at_us(s, window_us);
        } else {
          d = rl::gcra(s, now_us, rate.limit, window_us, rate.effective_burst(), cost);
          expires_at_us = rl::expires_at_us(s);
        }
        return d;
      },
      state);
}

}  // namespace

struct LocalRateLimiter::Impl {
  RateLimitStrategy strategy;
  std::size_t max_keys;
  mutable std::mutex mutex;
  std::list<Entry> lru;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> table;

  void erase(std::list<Entry>::iterator it) {
    table.erase(it->table_key);
    lru.erase(it);
  }

  // Makes room for one more state: expired states at the cold end go first, and if none
  // was expired, the least recently used one.
  void make_room(std::int64_t now_us) {
    while (!lru.empty() && lru.back().expires_at_us <= now_us) erase(std::prev(lru.end()));
    while (table.size() >= max_keys) erase(std::prev(lru.end()));
  }
};

LocalRateLimiter::LocalRateLimiter(RateLimitStrategy strategy, std::size_t max_keys) {
  if (max_keys == 0) {
    throw Error(errc::invalid_argument, "LocalRateLimiter: max_keys must be at least 1");
  }
  impl_ = std::make_unique<Impl>();
  impl_->strategy = strategy;
  impl_->max_keys = max_keys;
}

LocalRateLimiter::~LocalRateLimiter() = default;

RateLimitResult LocalRateLimiter::check(std::string_view key, const RateLimit& rate,
                                        std::int64_t cost) {
  return check(key, rate, cost, std::chrono::system_clock::now());
}

RateLimitResult LocalRateLimiter::check(std::string_view key, const RateLimit& rate,
                                        std::int64_t cost,
                                        std::chrono::system_clock::time_point now) {
  detail::validate_check(rate, cost, impl_->strategy);
  const std::int64_t now_us = rl::to_unix_us(now);
  const std::int64_t window_us = rate.window.count() * 1000;
  // The window leads: digits then ':' cannot be confused with any key's bytes. A GCRA state
  // means something for one rate only (as its Redis key, which carries the rate).
  std::string table_key = std::to_string(window_us) + ':';
  if (impl_->strategy == RateLimitStrategy::gcra) {
    table_key += std::to_string(rate.limit) + ':' + std::to_string(rate.effective_burst()) + ':';
  }
  table_key.append(key);

  std::lock_guard lock(impl_->mutex);
  auto found = impl_->table.find(table_key);
  if (found != impl_->table.end() && found->second->expires_at_us <= now_us) {
    impl_->erase(found->second);
    found = impl_->table.end();
  }
  rl::Decision decision;
  if (found != impl_->table.end()) {
    impl_->lru.splice(impl_->lru.begin(), impl_->lru, found->second);
    Entry& entry = *found->second;
    decision = decide(entry.state, now_us, rate, cost, entry.expires_at_us);
  } else if (cost == 0) {
    // A peek at an unknown key must not take a slot (or evict someone else's count).
    State scratch = fresh_state(impl_->strategy);
    std::int64_t unused = 0;
    decision = decide(scratch, now_us, rate, cost, unused);
  } else {
    impl_->make_room(now_us);
    Entry entry{table_key, std::string(key), window_us, fresh_state(impl_->strategy), 0};
    decision = decide(entry.state, now_us, rate, cost, entry.expires_at_us);
    impl_->lru.push_front(std::move(entry));
    impl_->table.emplace(std::move(table_key), impl_->lru.begin());
  }
  return rl::make_result(decision, now_us, rate, DecidedBy::local_fallback);
}

void LocalRateLimiter::reset(std::string_view key) {
  std::lock_guard lock(impl_->mutex);
  for (auto it = impl_->lru.begin(); it != impl_->lru.end();) {
    auto next = std::next(it);
    if (it->key == key) impl_->erase(it);
    it = next;
  }
}

void LocalRateLimiter::clear() {
  std::lock_guard lock(impl_->mutex);
  impl_->table.clear();
  impl_->lru.clear();
}

std::size_t LocalRateLimiter::size() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->table.size();
}

std::size_t LocalRateLimiter::max_keys() const noexcept {
  return impl_->max_keys;
}

RateLimitStrategy LocalRateLimiter::strategy() const noexcept {
  return impl_->strategy;
}

}  // namespace asyncredis
