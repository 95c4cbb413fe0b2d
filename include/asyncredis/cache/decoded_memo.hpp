// cached()'s memo of what it last decoded per call: the key, the JSON text read, and the value
// it decoded to. A hit whose text is byte-for-byte the remembered one is answered with a copy
// of the remembered value, with no key hashing and no JSON parse. Not part of the API.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "asyncredis/cache/cache_detail.hpp"

namespace asyncredis::detail {

class DecodedMemo {
 public:
  // What one call decoded last. Immutable once shared.
  struct Entry {
    std::string id;                     // the call's arguments, canonically encoded
    std::string key;                    // the call's key (before the service's prefix)
    std::string json;                   // the text the value was decoded from
    const void* type = nullptr;         // memo_type<R>(): what `value` points to
    std::shared_ptr<const void> value;  // the decoded R
  };

  // Keeps at most `max_entries` calls and `max_bytes` of their texts (oldest first out); a
  // text longer than max_bytes / 16 is never kept. 0 entries: the memo is off.
  DecodedMemo(std::size_t max_entries, std::size_t max_bytes);

  bool enabled() const noexcept { return max_entries_ > 0; }
  // Whether a text of `size` bytes would be kept.
  bool accepts(std::size_t size) const noexcept { return enabled() && size <= max_bytes_ / 16; }
  // The entry of call `id` (the arguments' canonical encoding), or null.
  std::shared_ptr<const Entry> find(std::string_view id) const;
  // Remembers `entry` as its call's, replacing what was there.
  void remember(std::shared_ptr<const Entry> entry);
  std::size_t size() const;

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>()(s);
    }
  };
  static std::size_t cost(const Entry& entry) noexcept;

  const std::size_t max_entries_;
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const Entry>, StringHash, std::equal_to<>>
      entries_;
  std::deque<std::string> order_;  // ids, oldest first
  std::size_t bytes_ = 0;
};

// A distinct address per type: what an Entry's value is.
template <class R>
const void* memo_type() noexcept {
  static constexpr char tag = 0;
  return &tag;
}

// A lookup without a memo (CacheService::get and get_or_set).
template <class R>
struct NoMemo {
  static std::optional<R> recall(const CacheEntry&) noexcept { return std::nullopt; }
  static void remember(const CacheEntry&, const std::string&, const R&) noexcept {}
};

// One cached() call's view of the memo: what was found for its arguments before the GET, and
// how to remember what it decodes.
template <class R>
class MemoHandle {
 public:
  // `found` is the memo's entry for the call's arguments, or null; `id` is their encoding
  // (needed only when nothing was found).
  MemoHandle(std::shared_ptr<DecodedMemo> memo, std::shared_ptr<const DecodedMemo::Entry> found,
             std::string id)
      : memo_(std::move(memo)), found_(std::move(found)), id_(std::move(id)) {}

  // A copy of the remembered value when `entry` holds exactly the remembered text.
  std::optional<R> recall(const CacheEntry& entry) const {
    if (!found_ || entry.kind != CacheEntry::Kind::value || found_->type != memo_type<R>() ||
        found_->json != entry.json) {
      return std::nullopt;
    }
    return *static_cast<const R*>(found_->value.get());
  }

  // Remembers `value`, just decoded from `entry` under `key`.
  void remember(const CacheEntry& entry, const std::string& key, const R& value) {
    if (!memo_ || entry.kind != CacheEntry::Kind::value || !memo_->accepts(entry.json.size())) {
      return;
    }
    auto remembered = std::make_shared<DecodedMemo::Entry>();
    remembered->id = found_ ? found_->id : std::move(id_);
    remembered->key = key;
    remembered->json = entry.json;
    remembered->type = memo_type<R>();
    remembered->value = std::make_shared<const R>(value);
    memo_->remember(std::move(remembered));
  }

 private:
  std::shared_ptr<DecodedMemo> memo_;
  std::shared_ptr<const DecodedMemo::Entry> found_;
  std::string id_;
};

}  // namespace asyncredis::detail
