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

// The slots this thread used last, by counter: a thread serving a few services (a few
// clients) finds its slot without a search.
struct RecentSlots {
  static constexpr std::size_t size = 4;
  std::uint64_t counter_ids[size] = {};
  std::atomic<std::uint64_t>* values[size] = {};
  std::size_t next = 0;  // the one to replace
};
thread_local RecentSlots recent;

}  // namespace

StripedCounter::StripedCounter() noexcept : id_(next_counter_id.fetch_add(1)) {}

void StripedCounter::add(std::uint64_t n) noexcept {
  std::atomic<std::uint64_t>* value = nullptr;
  for (std::size_t i = 0; i < RecentSlots::size; ++i) {
    if (recent.counter_ids[i] == id_) value = recent.values[i];
  }
  if (value == nullptr) value = claim();
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
  // This thread's slot from before (it was pushed out of `recent`), else a free one.
  for (std::size_t i = 0; i < slot_count; ++i) {
    if (owners_[i].load(std::memory_order_relaxed) == token) {
      found = &slots_[i].value;
      break;
    }
  }
  for (std::size_t i = 0; i < slot_count && found == &shared_; ++i) {
    std::uint64_t free = 0;
    if (owners_[i].compare_exchange_strong(free, token, std::memory_order_relaxed)) {
      found = &slots_[i].value;
    }
  }
  recent.counter_ids[recent.next] = id_;
  recent.values[recent.next] = found;
  recent.next = (recent.next + 1) % RecentSlots::size;
  return found;
}

}  // namespace asyncredis::detail
