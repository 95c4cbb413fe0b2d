// The index of cached()'s memo: a call's id -> its entry. Open addressing with linear probing
// in a power-of-two table at most half full, so a lookup is a hash, a mask and (almost always)
// one probe: no division, which a prime-sized std::unordered_map pays on every hit. Not
// thread-safe (DecodedMemo locks around it). Not part of the API.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace asyncredis::detail {

// What one call decoded last. Immutable once shared.
struct MemoEntry {
  std::string id;                     // the call's arguments, canonically encoded
  std::string key;                    // the call's key (before the service's prefix)
  std::string json;                   // the text the value was decoded from
  const void* type = nullptr;         // memo_type<R>(): what `value` points to
  std::shared_ptr<const void> value;  // the decoded R
  std::shared_ptr<const void> owner;  // what the call needs alive: the memoizer's state
};

// A fast in-process hash of a short byte string: FxHash's mixing, 8 bytes a step, then
// MurmurHash3's finalizer so that the low bits the table uses depend on every input bit.
// Never leaves the process (keys in Redis use SHA-256).
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
  return h;
}

class MemoTable {
 public:
  using EntryPtr = std::shared_ptr<const MemoEntry>;

  // The entry of call `id`, or null (valid until the table changes).
  const EntryPtr* find(std::string_view id) const noexcept {
    if (size_ == 0) return nullptr;
    const std::uint64_t hash = memo_hash(id);
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (!slot.entry) return nullptr;
      if (slot.hash == hash && slot.entry->id == id) return &slot.entry;
    }
  }
  // Puts a non-null `entry` under its id: the entry it replaced, or null.
  EntryPtr put(EntryPtr entry);
  // Takes the entry of `id` out: it, or null.
  EntryPtr take(std::string_view id);
  std::size_t size() const noexcept { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    EntryPtr entry;  // null: free
  };
  void grow();

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace asyncredis::detail
