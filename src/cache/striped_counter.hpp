// A counter bumped on every cache hit and read now and then (CacheService::stats()).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace asyncredis::detail {

// Each thread adds to a slot of its own with a plain load and store: no locked instruction,
// which costs a cache hit as much as a few nanoseconds. A read sums the slots. Threads that
// find every slot taken (slots are never given back, so only after many threads have come and
// gone) share one atomic add. Reads are exact once the adding threads are synchronised with
// the reader (the usual case: the reader waited for the operations it counts).
class StripedCounter {
 public:
  StripedCounter() noexcept;
  StripedCounter(const StripedCounter&) = delete;
  StripedCounter& operator=(const StripedCounter&) = delete;

  void add(std::uint64_t n = 1) noexcept;
  std::uint64_t load() const noexcept;

 private:
  struct alignas(64) Slot {
    std::atomic<std::uint64_t> value{0};
  };
  std::atomic<std::uint64_t>* claim() noexcept;

  static constexpr std::size_t slot_count = 16;
  const std::uint64_t id_;  // never reused, so a thread's remembered slot is never stale
  std::array<Slot, slot_count> slots_;
  // Apart from the values: claim() reads them without touching lines other threads write.
  std::array<std::atomic<std::uint64_t>, slot_count> owners_{};  // thread tokens; 0: free
  alignas(64) std::atomic<std::uint64_t> shared_{0};
};

}  // namespace asyncredis::detail
