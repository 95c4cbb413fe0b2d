// The index of cached()'s memo: a call's id -> its entry. Open addressing with linear probing
// in a power-of-two table at most three quarters full, so a lookup is a hash, a mask and
// (almost always) one probe: no division, which a prime-sized std::unordered_map pays on
// every hit. Not thread-safe (DecodedMemo locks around it). Not part of the API.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace asyncredis::detail {

// A fast in-process hash of a short byte string: FxHash's mixing, 8 bytes a step, then
// MurmurHash3's 64-bit finalizer so that the low bits the table uses depend on every input
// bit. Never leaves the process (keys in Redis use SHA-256).
inline std::uint64_t memo_hash(std::string_view s) noexcept {
  constexpr std::uint64_t k = 0x517cc1b727220a95;
  std::uint64_t h = s.size();
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    h = (std::rotl(h, 5) ^ word) * k;
  }
  if (n > 0) {
    // The last 8 bytes, overlapping what was hashed (a fixed-size load), when there are 8.
    std::uint64_t word = 0;
    if (s.size() >= 8) {
      std::memcpy(&word, s.data() + s.size() - 8, 8);
    } else {
      for (std::size_t i = 0; i < n; ++i) word = (word << 8) | static_cast<unsigned char>(p[i]);
    }
    h = (std::rotl(h, 5) ^ word) * k;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53;
  h ^= h >> 33;
  return h;
}

// Entries are shared, immutable and carry their own key: `entry->id`.
template <class Entry>
class MemoTable {
 public:
  using EntryPtr = std::shared_ptr<const Entry>;

  // The entry of `id`, or null (valid until the table changes).
  const EntryPtr* find(std::string_view id) const noexcept {
    if (size_ == 0) return nullptr;
    const std::uint64_t hash = memo_hash(id);
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (!slot.entry) return nullptr;
      if (slot.hash == hash && slot.entry->id == id) return &slot.entry;
    }
  }

  // Puts a non-null `entry` under its id: the entry it replaced, or null. Throws only
  // std::bad_alloc, before any change.
  EntryPtr put(EntryPtr entry) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    const std::uint64_t hash = memo_hash(entry->id);
    std::size_t i = hash & mask_;
    for (; slots_[i].entry; i = (i + 1) & mask_) {
      if (slots_[i].hash == hash && slots_[i].entry->id == entry->id) {
        return std::exchange(slots_[i].entry, std::move(entry));
      }
    }
    slots_[i].hash = hash;
    slots_[i].entry = std::move(entry);
    ++size_;
    return nullptr;
  }

  // Takes the entry of `id` out: it, or null.
  EntryPtr take(std::string_view id) noexcept {
    if (size_ == 0) return nullptr;
    const std::uint64_t hash = memo_hash(id);
    std::size_t hole = hash & mask_;
    for (;; hole = (hole + 1) & mask_) {
      if (!slots_[hole].entry) return nullptr;
      if (slots_[hole].hash == hash && slots_[hole].entry->id == id) break;
    }
    EntryPtr taken = std::move(slots_[hole].entry);
    --size_;
    // Backward shift: an entry after the hole, in the same run of used slots, moves into it
    // unless its home slot lies between the hole and where it sits (it would be unreachable).
    for (std::size_t next = (hole + 1) & mask_; slots_[next].entry; next = (next + 1) & mask_) {
      const std::size_t home = slots_[next].hash & mask_;
      if (((next - home) & mask_) < ((next - hole) & mask_)) continue;
      slots_[hole] = std::move(slots_[next]);
      hole = next;
    }
    return taken;
  }

  std::size_t size() const noexcept { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    EntryPtr entry;  // null: free
  };

  void grow() {
    std::vector<Slot> bigger(std::max<std::size_t>(16, slots_.size() * 2));
    const std::size_t mask = bigger.size() - 1;
    for (Slot& slot : slots_) {
      if (!slot.entry) continue;
      std::size_t i = slot.hash & mask;
      while (bigger[i].entry) i = (i + 1) & mask;
      bigger[i] = std::move(slot);
    }
    slots_ = std::move(bigger);
    mask_ = mask;
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace asyncredis::detail
