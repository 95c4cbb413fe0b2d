// cached()'s memo of what it last decoded per call: the key, the JSON text read, and the value
// it decoded to. A hit whose text is byte-for-byte the remembered one is answered with a copy
// of the remembered value, with no key hashing and no JSON parse. Not part of the API.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "asyncredis/cache/cache_detail.hpp"
#include "asyncredis/cache/memo_table.hpp"

namespace asyncredis::detail {

// A lock for short critical sections (a hash lookup on every hit; an insert on a memo miss):
// one atomic exchange to take, a plain store to release (a std::mutex costs two atomic
// operations and a call each way, which a cache hit notices). Yields after a short spin, so a
// preempted holder is not starved.
class SpinLock {
 public:
  void lock() noexcept {
    for (int spins = 0; locked_.exchange(true, std::memory_order_acquire);) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins > 64) std::this_thread::yield();
      }
    }
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

// What one call decoded last. Immutable once shared.
struct MemoEntry {
  std::string id;                     // the call's arguments, canonically encoded
  std::string key;                    // the call's key (before the service's prefix)
  std::string encoded_get;            // GET of that key in RESP, prefix applied; or empty
  std::string json;                   // the text the value was decoded from
  const void* type = nullptr;         // memo_type<R>(): what `value` points to
  std::shared_ptr<const void> value;  // the decoded R
  std::shared_ptr<const void> owner;  // what a call needs alive: the memoizer's state
};

class DecodedMemo {
 public:
  using Entry = MemoEntry;

  // Keeps at most `max_entries` calls and `max_bytes` of their texts (oldest first out); a
  // text longer than max_bytes / 16 is never kept. 0 entries: the memo is off.
  DecodedMemo(std::size_t max_entries, std::size_t max_bytes);

  bool enabled() const noexcept { return max_entries_ > 0; }
  std::size_t max_entries() const noexcept { return max_entries_; }
  std::size_t max_bytes() const noexcept { return max_bytes_; }
  // Whether a text of `size` bytes would be kept.
  bool accepts(std::size_t size) const noexcept { return enabled() && size <= max_bytes_ / 16; }
  // The entry of call `id` (the arguments' canonical encoding), or null.
  std::shared_ptr<const Entry> find(std::string_view id) const;
  // Remembers `entry` as its call's, replacing what was there.
  void remember(std::shared_ptr<const Entry> entry);
  std::size_t size() const;

 private:
  static std::size_t cost(const Entry& entry) noexcept;

  const std::size_t max_entries_;
  const std::size_t max_bytes_;
  mutable SpinLock lock_;
  MemoTable<MemoEntry> entries_;
  std::deque<std::string> order_;  // ids, oldest first
  std::size_t bytes_ = 0;
};

// A distinct address per type: what an Entry's value is.
template <class R>
const void* memo_type() noexcept {
  static constexpr char tag = 0;
  return &tag;
}

// One cached() call's view of the memo: the memo's entry for its arguments, or a fresh entry
// that holds just their encoding and the key. One shared pointer, so the call's operation,
// moved from handler to handler on its way to the socket, stays cheap to move.
template <class R>
class MemoHandle {
 public:
  // The memo knew the call.
  static MemoHandle found(std::shared_ptr<const DecodedMemo::Entry> entry) {
    return MemoHandle(std::move(entry));
  }
  // The memo did not know the call (or is off): `id` is the arguments' encoding.
  static MemoHandle fresh(std::string id, std::string key, std::string encoded_get,
                          std::shared_ptr<const void> owner) {
    auto entry = std::make_shared<DecodedMemo::Entry>();
    entry->id = std::move(id);
    entry->key = std::move(key);
    entry->encoded_get = std::move(encoded_get);
    entry->owner = std::move(owner);
    return MemoHandle(std::move(entry));
  }

  const std::string& key() const noexcept { return entry_->key; }
  const std::string& encoded_get() const noexcept { return entry_->encoded_get; }
  const std::shared_ptr<const void>& owner() const noexcept { return entry_->owner; }

  // A copy of the remembered value when `json` is exactly the remembered text.
  std::optional<R> recall(std::string_view json) const {
    if (entry_->type != memo_type<R>() || entry_->json != json) return std::nullopt;
    return *static_cast<const R*>(entry_->value.get());
  }

  // Remembers in `memo` the value just decoded from `stored`.
  void remember(DecodedMemo& memo, const CacheEntry& stored, const R& value) const {
    if (stored.kind != CacheEntry::Kind::value || !memo.accepts(stored.json.size())) return;
    auto remembered = std::make_shared<DecodedMemo::Entry>();
    remembered->id = entry_->id;
    remembered->key = entry_->key;
    remembered->encoded_get = entry_->encoded_get;
    remembered->json = stored.json;
    remembered->type = memo_type<R>();
    remembered->value = std::make_shared<const R>(value);
    remembered->owner = entry_->owner;
    memo.remember(std::move(remembered));
  }

 private:
  explicit MemoHandle(std::shared_ptr<const DecodedMemo::Entry> entry) : entry_(std::move(entry)) {}

  std::shared_ptr<const DecodedMemo::Entry> entry_;
};

}  // namespace asyncredis::detail
