// cached()'s memo of decoded values (see decoded_memo.hpp).
#include "asyncredis/cache/decoded_memo.hpp"

namespace asyncredis::detail {

DecodedMemo::DecodedMemo(std::size_t max_entries, std::size_t max_bytes)
    : max_entries_(max_entries), max_bytes_(max_bytes) {}

std::size_t DecodedMemo::cost(const Entry& entry) noexcept {
  // The decoded value's own size is unknown; the text stands in for it. The id is held twice
  // (the entry and the order queue).
  return 2 * entry.id.size() + entry.key.size() + 2 * entry.json.size() + sizeof(Entry);
}

std::shared_ptr<const DecodedMemo::Entry> DecodedMemo::find(std::string_view id) const {
  if (!enabled()) return nullptr;
  std::lock_guard lock(lock_);
  const auto* found = entries_.find(id);
  return found ? *found : nullptr;
}

void DecodedMemo::remember(std::shared_ptr<const Entry> entry) {
  if (!entry || !accepts(entry->json.size())) return;
  const std::size_t added = cost(*entry);
  std::string id = entry->id;  // for the order queue, when the call is new
  // The old entries are released outside the lock: their values' destructors are user code.
  std::shared_ptr<const Entry> replaced;
  std::deque<std::shared_ptr<const Entry>> evicted;
  std::lock_guard lock(lock_);
  bytes_ += added;
  replaced = entries_.put(std::move(entry));
  if (replaced) {
    bytes_ -= cost(*replaced);
  } else {
    order_.push_back(std::move(id));
  }
  while (!order_.empty() && (entries_.size() > max_entries_ || bytes_ > max_bytes_)) {
    evicted.push_back(entries_.take(order_.front()));
    bytes_ -= cost(*evicted.back());
    order_.pop_front();
  }
}

std::size_t DecodedMemo::size() const {
  std::lock_guard lock(lock_);
  return entries_.size();
}

}  // namespace asyncredis::detail
