// cached()'s memo of decoded values (see decoded_memo.hpp).
#include "asyncredis/cache/decoded_memo.hpp"

#include <vector>

namespace asyncredis::detail {

DecodedMemo::DecodedMemo(std::size_t max_entries, std::size_t max_bytes)
    : max_entries_(max_entries), max_bytes_(max_bytes) {}

std::size_t DecodedMemo::cost(const Entry& entry) noexcept {
  // The decoded value's own size is unknown; the text stands in for it. The id is held twice
  // (the entry and the order queue).
  return 2 * entry.id.size() + entry.key.size() + entry.encoded_get.size() + 2 * entry.json.size() +
         sizeof(Entry);
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
  // Replaced and evicted entries are released outside the lock: their values' destructors
  // are user code.
  std::shared_ptr<const Entry> replaced;
  std::vector<std::shared_ptr<const Entry>> evicted;
  evicted.reserve(4);
  std::lock_guard lock(lock_);
  // Each step that can throw (std::bad_alloc) comes before the counts it would falsify: an id
  // queued for an entry that never got in is skipped when its turn to go comes.
  if (entries_.find(id) == nullptr) order_.push_back(std::move(id));
  replaced = entries_.put(std::move(entry));
  bytes_ += added;
  if (replaced) bytes_ -= cost(*replaced);
  while (!order_.empty() && (entries_.size() > max_entries_ || bytes_ > max_bytes_)) {
    std::shared_ptr<const Entry> oldest = entries_.take(order_.front());
    order_.pop_front();
    if (!oldest) continue;
    bytes_ -= cost(*oldest);
    evicted.push_back(std::move(oldest));
  }
}

std::size_t DecodedMemo::size() const {
  std::lock_guard lock(lock_);
  return entries_.size();
}

}  // namespace asyncredis::detail
