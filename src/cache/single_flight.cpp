// get_or_set's miss path: one computation per key in the process (single flight), storing its
// result (with the early-refresh header when asked), and releasing the callers that waited.
//
// Who ends what:
// - A waiter's cancellation (or its own deadline, through cancellation) ends that waiter's
//   wait only: it leaves the flight, which goes on for the others.
// - The leader's cancellation ends the leader's computation and hands the flight to a waiter,
//   which runs its own computation for the others (a computation lives in its caller's
//   operation: nothing runs on for a caller that has gone, whose captures may be gone too).
//   With nobody waiting the flight ends there.
// - A flight has a time limit (CacheOptions/GetOrSetOptions::flight_timeout) from its start:
//   then each waiter fails with errc::timeout on its own timer, the leader's computation is
//   cancelled (the leader fails with errc::timeout once it has stopped), and the key is free:
//   the next caller starts a new flight.
// - An invalidation of the key through this service (set, del, delete_pattern) while the
//   computation runs: its result goes to the callers that shared it but is not stored (checked
//   before the SET, and after it, when an invalidation that came meanwhile makes the store
//   take back its value), and callers after the invalidation start a new flight.

// GCC 12 reports -Wmismatched-new-delete for Asio's coroutine frames here (allocated by
// thread_info_base::allocate, freed by awaitable_frame_base::operator delete, which do match):
// a false positive that comes and goes with inlining.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "asyncredis/cache/cache_service.hpp"
#include "asyncredis/error.hpp"
#include "cache/cache_core.hpp"
#include "cache/cache_scripts.hpp"
#include "cache/entry_codec.hpp"

namespace asyncredis {

namespace asio = boost::asio;
using asio::use_awaitable;
using detail::CacheCore;
using detail::CacheEntry;
using detail::Flight;
using Clock = std::chrono::steady_clock;

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

  // The leader's caller has gone: a waiter leads from here (false: nobody waits).
  bool hand_over() {
    if (!flight_ || finished_ || !core_->hand_over(flight_)) return false;
    finished_ = true;
    return true;
  }

 private:
  std::shared_ptr<CacheCore> core_;
  std::string key_;
  std::shared_ptr<Flight> flight_;
  bool finished_ = false;
};

// A computation that will store at a Redis key, registered while it runs, so that an
// invalidation of the key can tell it not to store (CacheCore::begin_computation).
class ComputationTicket {
 public:
  ComputationTicket(CacheCore& core, std::string redis_key)
      : core_(core),
        redis_key_(std::move(redis_key)),
        generation_(core_.begin_computation(redis_key_)) {}
  ComputationTicket(const ComputationTicket&) = delete;
  ComputationTicket& operator=(const ComputationTicket&) = delete;
  ~ComputationTicket() { core_.end_computation(redis_key_); }

  // No invalidation of the key since the computation began.
  bool current() const { return core_.still_current(redis_key_, generation_); }

 private:
  CacheCore& core_;
  std::string redis_key_;
  std::uint64_t generation_;
};

std::chrono::milliseconds flight_limit(const CacheCore& core, const GetOrSetOptions& options) {
  return options.flight_timeout.count() > 0 ? options.flight_timeout : core.options.flight_timeout;
}

// `op` (a deferred operation completing with (std::exception_ptr, CacheEntry)) until
// `deadline`: its outcome, or Error(errc::timeout, timeout_message) once the deadline has
// passed (`op` is cancelled then, and this returns when it has stopped).
template <class Op>
asio::awaitable<CacheEntry> within(Op op, Clock::time_point deadline, std::string timeout_message) {
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto group =
      asio::experimental::make_parallel_group(std::move(op), timer.async_wait(asio::deferred));
  auto waited = group.async_wait(asio::experimental::wait_for_one(), use_awaitable);
  auto [order, error, entry, timer_error] = co_await std::move(waited);
  // Past the deadline nothing of `op` counts, not even a result it produced while cancelled.
  if (order[0] == 1 && !timer_error) throw Error(errc::timeout, timeout_message);
  if (error) std::rethrow_exception(error);
  co_return std::move(entry);
}

std::string timeout_message(const std::string& key, std::chrono::milliseconds limit) {
  return "cache: the computation of \"" + key + "\" did not finish within its flight_timeout (" +
         std::to_string(limit.count()) + " ms)";
}

// A waiter's side of `flight`: its result, or a miss when this caller now leads it.
asio::awaitable<CacheEntry> wait_for(std::shared_ptr<CacheCore> core,
                                     std::shared_ptr<Flight> flight, std::string timeout_text) {
  auto initiation = [core, flight](detail::FlightHandler handler) {
    core->add_waiter(flight, std::move(handler));
  };
  auto wait = asio::async_initiate<const asio::deferred_t&, void(std::exception_ptr, CacheEntry)>(
      std::move(initiation), asio::deferred);
  co_return co_await within(std::move(wait), flight->deadline, std::move(timeout_text));
}

// An entry whose early refresh failed is still valid: serve it.
bool keep_old_value(const CacheEntry& missed, const std::exception_ptr& error) {
  return missed.refresh_due && missed.kind != CacheEntry::Kind::miss && !is_cancellation(error);
}

// Stores `computed` unless the key was invalidated since the computation began, or its
// flight's deadline has passed (a computation that ended after it was given up on: a new
// flight may have stored since). An invalidation that comes while the SET is on its way may
// reach Redis before it; the second check sees it and takes the value back (unless something
// else replaced it already).
asio::awaitable<void> store(CacheCore& core, const std::string& redis_key,
                            const detail::Computed& computed, const GetOrSetOptions& options,
                            std::chrono::milliseconds delta, const ComputationTicket& ticket,
                            Clock::time_point deadline) {
  if (!ticket.current() || Clock::now() >= deadline) co_return;
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
    core.counters.sets.fetch_add(1, std::memory_order_relaxed);
    if (!ticket.current()) {
      co_await core.commands.eval<long long>(detail::delete_if_unchanged_script(), redis_key,
                                             stored, use_awaitable);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure && !core.absorb(failure)) std::rethrow_exception(failure);
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

// The leader's work: the value stored meanwhile, or the computation's result, stored.
asio::awaitable<CacheEntry> compute_and_store(std::shared_ptr<CacheCore> core, std::string key,
                                              CacheEntry missed, GetOrSetOptions options,
                                              asio::awaitable<detail::Computed> compute,
                                              std::uint64_t flights_seen,
                                              std::shared_ptr<Flight> flight) {
  const bool in_flight = flight != nullptr;
  const Clock::time_point deadline = in_flight ? flight->deadline : Clock::time_point::max();
  // Registered before anything is read, so an invalidation from here on is seen.
  std::optional<ComputationTicket> ticket;
  if (!missed.redis_key.empty()) ticket.emplace(*core, missed.redis_key);
  if (in_flight && !missed.refresh_due && !missed.unavailable &&
      core->flights_completed.load(std::memory_order_acquire) != flights_seen) {
    std::optional<CacheEntry> stored = co_await read_again(*core, key, missed.redis_key);
    if (stored) co_return std::move(*stored);
  }
  core->counters.computations.fetch_add(1, std::memory_order_relaxed);
  if (missed.refresh_due) core->counters.early_refreshes.fetch_add(1, std::memory_order_relaxed);
  const auto started = Clock::now();
  detail::Computed computed = co_await std::move(compute);
  const auto delta = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  if (computed.store && !missed.unavailable && ticket) {
    co_await store(*core, missed.redis_key, computed, options, delta, *ticket, deadline);
  }
  CacheEntry result;
  result.kind = computed.kind;
  result.json = std::move(computed.json);
  result.redis_key = missed.redis_key;
  co_return result;
}

// compute_and_store() in a coroutine of its own, which the flight's deadline (or this caller)
// can cancel, until that deadline (see within()).
asio::awaitable<CacheEntry> compute_within(std::shared_ptr<CacheCore> core, std::string key,
                                           CacheEntry missed, GetOrSetOptions options,
                                           asio::awaitable<detail::Computed> compute,
                                           std::uint64_t flights_seen,
                                           std::shared_ptr<Flight> flight,
                                           std::chrono::milliseconds limit) {
  auto executor = co_await asio::this_coro::executor;
  const Clock::time_point deadline = flight->deadline;
  auto spawned =
      asio::co_spawn(executor,
                     compute_and_store(core, key, std::move(missed), std::move(options),
                                       std::move(compute), flights_seen, std::move(flight)),
                     asio::deferred);
  std::string message = timeout_message(key, limit);
  co_return co_await within(std::move(spawned), deadline, std::move(message));
}

// The leader's part: the computation (under the flight's time limit), its result stored and
// handed to the waiters through `guard`. A failure is the caller's to handle (see fill()).
asio::awaitable<CacheEntry> lead(FlightGuard& guard, std::shared_ptr<CacheCore> core,
                                 std::string key, CacheEntry missed, GetOrSetOptions options,
                                 asio::awaitable<detail::Computed> compute,
                                 std::uint64_t flights_seen, std::shared_ptr<Flight> flight,
                                 std::chrono::milliseconds limit) {
  CacheEntry result;
  if (flight) {
    result = co_await compute_within(core, key, missed, options, std::move(compute), flights_seen,
                                     flight, limit);
  } else {
    result = co_await compute_and_store(core, key, missed, options, std::move(compute),
                                        flights_seen, nullptr);
  }
  guard.finish(nullptr, result);
  co_return result;
}

}  // namespace

asio::awaitable<CacheEntry> CacheService::fill(CacheService self, std::string key,
                                               CacheEntry missed, GetOrSetOptions options,
                                               asio::awaitable<detail::Computed> compute,
                                               std::uint64_t flights_seen) {
  std::shared_ptr<CacheCore> core = self.core_;
  if (options.flight_timeout.count() < 0) {
    throw Error(errc::invalid_argument,
                "get_or_set: GetOrSetOptions::flight_timeout must not "
                "be negative, got " +
                    std::to_string(options.flight_timeout.count()) + " ms");
  }
  // Flights are keyed by the Redis key (so a new namespace generation never joins an old
  // computation); tagged so the fallback form for an unresolved key cannot equal one.
  std::string flight_key;
  if (!missed.redis_key.empty()) {
    flight_key = detail::flight_key_of(missed.redis_key);
  } else {
    flight_key = "u" + std::to_string(self.namespace_.size()) + ":" + self.namespace_ + key;
  }
  const std::chrono::milliseconds limit = flight_limit(*core, options);

  std::shared_ptr<Flight> flight;
  bool leader = true;
  if (options.single_flight) flight = core->join_or_lead(flight_key, limit, leader);

  std::exception_ptr failure;
  if (!leader) {
    try {
      std::string message = timeout_message(key, limit);
      CacheEntry entry = co_await wait_for(core, flight, std::move(message));
      if (!detail::is_hand_over(entry)) co_return entry;
      // The leader's caller left, and this caller leads the flight now.
    } catch (...) {
      failure = std::current_exception();
    }
  }
  if (!failure) {
    FlightGuard guard(core, std::move(flight_key), flight);
    try {
      co_return co_await lead(guard, core, key, missed, options, std::move(compute), flights_seen,
                              flight, limit);
    } catch (...) {
      failure = std::current_exception();
    }
    // This caller left (cancelled, also before it could start leading): a waiter goes on.
    const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    const bool caller_left = state.cancelled() != asio::cancellation_type::none;
    if (!caller_left || !guard.hand_over()) guard.finish(failure, CacheEntry{});
  }
  if (!keep_old_value(missed, failure)) std::rethrow_exception(failure);
  core->counters.errors.fetch_add(1, std::memory_order_relaxed);
  missed.refresh_due = false;
  co_return missed;
}

}  // namespace asyncredis
