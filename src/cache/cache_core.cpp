// CacheCore: option checks, the unreachable-Redis policy, TTL jitter, namespace generations,
// and releasing the callers that wait for a computation.
#include "cache/cache_core.hpp"
#include "cache/near_tier.hpp"

#include <algorithm>
#include <random>
#include <system_error>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "asyncredis/error.hpp"

namespace asyncredis::detail {

namespace {

void require(bool ok, const char* field, const std::string& why) {
  if (!ok) throw Error(errc::invalid_argument, std::string("CacheOptions.") + field + ": " + why);
}

std::string ms_text(std::chrono::milliseconds ms) {
  return std::to_string(ms.count()) + " ms";
}

// Completes a waiter on its own executor, never inside the caller. any_completion_handler's
// executor cannot be required to be non-blocking, so the hop goes through the service's.
void complete_later(const asio::any_io_executor& executor, FlightHandler handler,
                    std::exception_ptr error, CacheEntry entry) {
  asio::post(executor, [handler = std::move(handler), error = std::move(error),
                        entry = std::move(entry)]() mutable {
    asio::dispatch(asio::append(std::move(handler), std::move(error), std::move(entry)));
  });
}

// Removes a waiter whose caller cancelled and completes it with errc::cancelled.
struct CancelWaiter {
  // A constructor, not an aggregate: the slot's emplace() constructs with parentheses, which
  // clang 14 does not accept for aggregates.
  CancelWaiter(std::weak_ptr<CacheCore> core, std::weak_ptr<Flight> flight, std::uint64_t id)
      : core(std::move(core)), flight(std::move(flight)), id(id) {}

  std::weak_ptr<CacheCore> core;
  std::weak_ptr<Flight> flight;
  std::uint64_t id;

  void operator()(asio::cancellation_type type) const {
    if (type == asio::cancellation_type::none) return;
    auto core_ptr = core.lock();
    auto flight_ptr = flight.lock();
    if (!core_ptr || !flight_ptr) return;
    MovableHandler<FlightHandler> handler;
    {
      std::lock_guard lock(core_ptr->mutex);
      auto& waiters = flight_ptr->waiters;
      auto it = std::find_if(waiters.begin(), waiters.end(),
                             [this](const Flight::Waiter& waiter) { return waiter.id == id; });
      if (it != waiters.end()) {
        handler = std::move(it->handler);
        waiters.erase(it);
      }
    }
    if (!handler) return;  // already released with the result
    auto error = std::make_exception_ptr(
        Error(errc::cancelled, "cache: the wait for a computation in flight was cancelled"));
    complete_later(core_ptr->executor, handler.take(), error, CacheEntry{});
  }
};

}  // namespace

CacheCore::CacheCore(Commands commands_in, asio::any_io_executor executor_in,
                     CacheOptions options_in)
    : commands(std::move(commands_in)),
      executor(std::move(executor_in)),
      options(with_default_ttl(std::move(options_in), RedisSettings{})) {
  require(options.default_ttl.count() > 0, "default_ttl",
          "must be positive, got " + ms_text(options.default_ttl));
  require(options.negative_ttl.count() > 0, "negative_ttl",
          "must be positive, got " + ms_text(options.negative_ttl));
  require(options.ttl_jitter >= 0.0 && options.ttl_jitter < 1.0, "ttl_jitter",
          "must be in [0, 1), got " + std::to_string(options.ttl_jitter));
  require(options.generation_refresh.count() >= 0, "generation_refresh",
          "must not be negative, got " + ms_text(options.generation_refresh));
  require(options.flight_timeout.count() > 0, "flight_timeout",
          "must be positive, got " + ms_text(options.flight_timeout));
  require(options.scan_count > 0, "scan_count", "must be at least 1");
  require(options.unlink_batch > 0, "unlink_batch", "must be at least 1");
}

CacheOptions with_default_ttl(CacheOptions options, const RedisSettings& settings) {
  if (options.default_ttl.count() == 0) options.default_ttl = settings.default_ttl;
  return options;
}

bool CacheCore::absorb(const std::exception_ptr& error) noexcept {
  counters.errors.fetch_add(1, std::memory_order_relaxed);
  return options.when_unavailable == WhenUnavailable::treat_as_miss && is_unavailable(error);
}

std::chrono::milliseconds CacheCore::effective_ttl(std::chrono::milliseconds ttl,
                                                   std::chrono::milliseconds fallback) const {
  if (ttl.count() < 0) {
    throw Error(errc::invalid_argument, "cache: a TTL must not be negative, got " + ms_text(ttl));
  }
  if (ttl.count() == 0) ttl = fallback;
  if (options.ttl_jitter > 0) {
    const double cut =
        static_cast<double>(ttl.count()) * options.ttl_jitter * (1.0 - cache_random());
    ttl -= std::chrono::milliseconds(static_cast<std::int64_t>(cut));
  }
  return std::max(ttl, std::chrono::milliseconds(1));
}

bool CacheCore::fresh_generation(const std::string& ns, std::int64_t& generation) {
  std::lock_guard lock(generations_mutex_);
  auto it = generations_.find(ns);
  if (it == generations_.end()) return false;
  if (std::chrono::steady_clock::now() - it->second.read_at >= options.generation_refresh) {
    return false;
  }
  generation = it->second.value;
  return true;
}

void CacheCore::remember_generation(const std::string& ns, std::int64_t generation) {
  std::lock_guard lock(generations_mutex_);
  auto [it, inserted] = generations_.try_emplace(ns);
  // Generations only grow: a read that started before an invalidation and ends after it must
  // not put the old generation back.
  if (inserted || generation > it->second.value) it->second.value = generation;
  it->second.read_at = std::chrono::steady_clock::now();
}

std::shared_ptr<Flight> CacheCore::join_or_lead(const std::string& key,
                                                std::chrono::milliseconds limit, bool& leader) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex);
  auto [it, inserted] = flights.try_emplace(key);
  // A flight past its time limit is left to its leader and waiters (they fail with
  // errc::timeout by themselves); the key is free for a new one.
  leader = inserted || it->second->deadline <= now;
  if (leader) it->second = std::make_shared<Flight>(now + limit);
  return it->second;
}

void CacheCore::add_waiter(const std::shared_ptr<Flight>& flight, FlightHandler handler) {
  std::unique_lock lock(mutex);
  if (flight->done) {
    std::exception_ptr error = flight->error;
    CacheEntry result = flight->result;
    lock.unlock();
    complete_later(executor, std::move(handler), error, std::move(result));
    return;
  }
  counters.waits.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t id = ++flight->next_id;
  auto slot = asio::get_associated_cancellation_slot(handler);
  flight->waiters.push_back(Flight::Waiter{id, std::move(handler)});
  if (slot.is_connected()) slot.template emplace<CancelWaiter>(weak_from_this(), flight, id);
}

void CacheCore::finish(const std::string& key, const std::shared_ptr<Flight>& flight,
                       std::exception_ptr error, const CacheEntry& result) {
  std::vector<Flight::Waiter> waiters;
  {
    std::lock_guard lock(mutex);
    flight->done = true;
    flight->error = error;
    flight->result = result;
    waiters.swap(flight->waiters);
    // Before the key is free again: a caller that missed meanwhile sees the count move and
    // reads the stored value instead of computing it again.
    flights_completed.fetch_add(1, std::memory_order_acq_rel);
    auto it = flights.find(key);
    if (it != flights.end() && it->second == flight) flights.erase(it);
  }
  // Each waiter resumes on its own executor, never inside this call.
  for (Flight::Waiter& waiter : waiters) {
    complete_later(executor, waiter.handler.take(), error, result);
  }
}

bool CacheCore::hand_over(const std::shared_ptr<Flight>& flight) {
  MovableHandler<FlightHandler> next;
  {
    std::lock_guard lock(mutex);
    if (flight->done || flight->waiters.empty()) return false;
    next = std::move(flight->waiters.back().handler);
    flight->waiters.pop_back();
  }
  complete_later(executor, next.take(), nullptr, CacheEntry{});
  return true;
}

std::uint64_t CacheCore::begin_computation(const std::string& redis_key) {
  std::lock_guard lock(mutex);
  Computing& c = computing_[redis_key];
  ++c.computations;
  return c.generation;
}

void CacheCore::end_computation(const std::string& redis_key) noexcept {
  std::lock_guard lock(mutex);
  auto it = computing_.find(redis_key);
  if (it != computing_.end() && --it->second.computations == 0) computing_.erase(it);
}

bool CacheCore::still_current(const std::string& redis_key, std::uint64_t generation) {
  std::lock_guard lock(mutex);
  auto it = computing_.find(redis_key);
  return it != computing_.end() && it->second.generation == generation;
}

void CacheCore::invalidated(const std::string& redis_key) {
  std::lock_guard lock(mutex);
  auto it = computing_.find(redis_key);
  if (it != computing_.end()) ++it->second.generation;
  // The flight goes on for the callers that joined it; whoever comes now computes afresh.
  flights.erase(flight_key_of(redis_key));
  if (near) near->invalidate(redis_key);
}

void CacheCore::invalidated_all() {
  std::lock_guard lock(mutex);
  for (auto& [key, c] : computing_) ++c.generation;
  flights.clear();
  if (near) near->flush();
}

double cache_random() noexcept {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  // (0, 1]: ln(0) would be -inf.
  return 1.0 - std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace asyncredis::detail
