// A per-thread striped counter (see striped_counter.hpp).
#include "cache/striped_counter.hpp"

namespace asyncredis::detail {

namespace {

std::atomic<std::uint64_t> next_counter_id{1};
std::atomic<std::uint64_t> next_thread_token{1};

// Unlike std::thread::id, never reused by a later thread.
std::uint64_t thread_token() noexcept {
  thread_local const std::uint64_t token = next_thread_token.fetch_add(1);
  return token;
}

// The slot this thread used last, and whose counter it belongs to.
struct LastSlot {
  std::uint64_t counter_id = 0;
  std::atomic<std::uint64_t>* value = nullptr;
};
thread_local LastSlot last_slot;

}  // namespace

StripedCounter::StripedCounter() noexcept : id_(next_counter_id.fetch_add(1)) {}

void StripedCounter::add(std::uint64_t n) noexcept {
  std::atomic<std::uint64_t>* value = last_slot.counter_id == id_ ? last_slot.value : claim();
  if (value == &shared_) {
    shared_.fetch_add(n, std::memory_order_relaxed);
  } else {
    // Only this thread writes the slot.
    value->store(value->load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
}

std::uint64_t StripedCounter::load() const noexcept {
  std::uint64_t sum = shared_.load(std::memory_order_relaxed);
  for (const Slot& slot : slots_) sum += slot.value.load(std::memory_order_relaxed);
  return sum;
}

std::atomic<std::uint64_t>* StripedCounter::claim() noexcept {
  const std::uint64_t token = thread_token();
  std::atomic<std::uint64_t>* found = &shared_;
  // This thread's slot from before (a remembered slot of another counter was used since),
  // else a free one.
  for (Slot& slot : slots_) {
    if (slot.owner.load(std::memory_order_relaxed) == token) found = &slot.value;
  }
  for (Slot& slot : slots_) {
    if (found != &shared_) break;
    std::uint64_t free = 0;
    if (slot.owner.compare_exchange_strong(free, token, std::memory_order_relaxed)) {
      found = &slot.value;
    }
  }
  last_slot = LastSlot{id_, found};
  return found;
}

}  // namespace asyncredis::detail
