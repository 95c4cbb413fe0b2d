// get_or_set's miss path: one computation per key in the process (single flight), storing its
// result (with the early-refresh header when asked), and releasing the callers that waited.
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "asyncredis/cache/cache_service.hpp"
#include "asyncredis/error.hpp"
#include "cache/cache_core.hpp"
#include "cache/entry_codec.hpp"

namespace asyncredis {

namespace asio = boost::asio;
using asio::use_awaitable;
using detail::CacheCore;
using detail::CacheEntry;
using detail::Flight;

namespace {

bool is_cancellation(const std::exception_ptr& error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const std::system_error& e) {
    return e.code() == errc::cancelled || e.code() == std::errc::operation_canceled;
  } catch (const boost::system::system_error& e) {
    // Asio's own operations (a timer in the computation) throw Boost's exception type.
    return e.code() == asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

// Ends the flight if the leader's coroutine is destroyed before it finished (its executor
// shut down, or an operation it awaited was dropped): waiters must never wait forever.
class FlightGuard {
 public:
  FlightGuard(std::shared_ptr<CacheCore> core, std::string key, std::shared_ptr<Flight> flight)
      : core_(std::move(core)), key_(std::move(key)), flight_(std::move(flight)) {}
  FlightGuard(const FlightGuard&) = delete;
  FlightGuard& operator=(const FlightGuard&) = delete;
  ~FlightGuard() {
    if (!flight_ || finished_) return;
    try {
      finish(std::make_exception_ptr(Error(
                 errc::cancelled, "cache: the computation of \"" + key_ + "\" was abandoned")),
             CacheEntry{});
    } catch (...) {
      // Only allocation can fail here; the key is freed either way.
    }
  }

  void finish(std::exception_ptr error, const CacheEntry& result) {
    if (!flight_ || finished_) return;
    finished_ = true;
    core_->finish(key_, flight_, std::move(error), result);
  }

 private:
  std::shared_ptr<CacheCore> core_;
  std::string key_;
  std::shared_ptr<Flight> flight_;
  bool finished_ = false;
};

// The flight for `key`: an existing one to wait for (leader = false), or a new one this
// caller leads.
std::shared_ptr<Flight> join_or_lead(CacheCore& core, const std::string& key, bool& leader) {
  std::lock_guard lock(core.mutex);
  auto [it, inserted] = core.flights.try_emplace(key);
  if (inserted) it->second = std::make_shared<Flight>();
  leader = inserted;
  return it->second;
}

asio::awaitable<CacheEntry> wait_for(std::shared_ptr<CacheCore> core,
                                     std::shared_ptr<Flight> flight) {
  // A named initiation: GCC 12 destroys a capturing temporary inside co_await twice.
  auto initiation = [core, flight](detail::FlightHandler handler) {
    core->add_waiter(flight, std::move(handler));
  };
  CacheEntry entry = co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                                   void(std::exception_ptr, CacheEntry)>(
      std::move(initiation), use_awaitable);
  co_return entry;
}

// An entry whose early refresh failed is still valid: serve it.
bool keep_old_value(const CacheEntry& missed, const std::exception_ptr& error) {
  return missed.refresh_due && missed.kind != CacheEntry::Kind::miss && !is_cancellation(error);
}

asio::awaitable<void> store(CacheCore& core, const std::string& redis_key,
                            const detail::Computed& computed, const GetOrSetOptions& options,
                            std::chrono::milliseconds delta) {
  SetOptions set_options;
  set_options.ttl =
      computed.kind == CacheEntry::Kind::not_found
          ? core.effective_ttl(std::chrono::milliseconds(0), core.options.negative_ttl)
          : core.effective_ttl(options.ttl, core.options.default_ttl);
  std::string stored;
  if (options.early_refresh > 0) {
    const auto expiry = std::chrono::system_clock::now() + set_options.ttl;
    stored = detail::stored_form(
        computed, delta.count(),
        std::chrono::duration_cast<std::chrono::milliseconds>(expiry.time_since_epoch()).count());
  } else {
    stored = detail::stored_form(computed);
  }
  std::exception_ptr failure;
  try {
    co_await core.commands.set(redis_key, stored, set_options, use_awaitable);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    if (!core.absorb(failure)) std::rethrow_exception(failure);
    co_return;
  }
  core.counters.sets.fetch_add(1, std::memory_order_relaxed);
}

// The value another caller stored while this one was missing, if any (a cheap GET, only when
// some computation finished since this caller looked).
asio::awaitable<std::optional<CacheEntry>> read_again(CacheCore& core, const std::string& key,
                                                      const std::string& redis_key) {
  std::optional<std::string> stored;
  try {
    stored = co_await core.commands.get(redis_key, use_awaitable);
  } catch (...) {
    core.counters.errors.fetch_add(1, std::memory_order_relaxed);
    co_return std::nullopt;  // computing is what a miss does anyway
  }
  if (!stored) co_return std::nullopt;
  CacheEntry entry;
  entry.redis_key = redis_key;
  detail::RefreshHeader header;
  detail::parse_stored(std::move(*stored), key, entry, header);
  co_return entry;
}

}  // namespace

asio::awaitable<CacheEntry> CacheService::fill(CacheService self, std::string key,
                                               CacheEntry missed, GetOrSetOptions options,
                                               asio::awaitable<detail::Computed> compute,
                                               std::uint64_t flights_seen) {
  std::shared_ptr<CacheCore> core = self.core_;
  // Flights are keyed by the Redis key (so a new namespace generation never joins an old
  // computation); tagged so the fallback form for an unresolved key cannot equal one.
  std::string flight_key;
  if (!missed.redis_key.empty()) {
    flight_key = "r" + missed.redis_key;
  } else {
    flight_key = "u" + std::to_string(self.namespace_.size()) + ":" + self.namespace_ + key;
  }

  std::shared_ptr<Flight> flight;
  bool leader = true;
  if (options.single_flight) flight = join_or_lead(*core, flight_key, leader);

  std::exception_ptr failure;
  if (!leader) {
    try {
      co_return co_await wait_for(core, flight);
    } catch (...) {
      failure = std::current_exception();
    }
    if (!keep_old_value(missed, failure)) std::rethrow_exception(failure);
    missed.refresh_due = false;
    co_return missed;
  }

  FlightGuard guard(core, flight_key, flight);
  try {
    if (flight && !missed.refresh_due && !missed.unavailable &&
        core->flights_completed.load(std::memory_order_acquire) != flights_seen) {
      std::optional<CacheEntry> stored = co_await read_again(*core, key, missed.redis_key);
      if (stored) {
        guard.finish(nullptr, *stored);
        co_return std::move(*stored);
      }
    }
    core->counters.computations.fetch_add(1, std::memory_order_relaxed);
    if (missed.refresh_due) core->counters.early_refreshes.fetch_add(1, std::memory_order_relaxed);
    const auto started = std::chrono::steady_clock::now();
    detail::Computed computed = co_await std::move(compute);
    const auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (computed.store && !missed.unavailable && !missed.redis_key.empty()) {
      co_await store(*core, missed.redis_key, computed, options, delta);
    }
    CacheEntry result;
    result.kind = computed.kind;
    result.json = std::move(computed.json);
    result.redis_key = missed.redis_key;
    guard.finish(nullptr, result);
    co_return result;
  } catch (...) {
    failure = std::current_exception();
  }
  guard.finish(failure, CacheEntry{});
  if (!keep_old_value(missed, failure)) std::rethrow_exception(failure);
  core->counters.errors.fetch_add(1, std::memory_order_relaxed);
  missed.refresh_due = false;
  co_return missed;
}

}  // namespace asyncredis
