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
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second;
}

void DecodedMemo::remember(std::shared_ptr<const Entry> entry) {
  if (!entry || !accepts(entry->json.size())) return;
  const std::size_t added = cost(*entry);
  // The old entry is released outside the lock: its value's destructor is the user's code.
  std::shared_ptr<const Entry> replaced;
  std::deque<std::shared_ptr<const Entry>> evicted;
  std::lock_guard lock(lock_);
  if (auto it = entries_.find(entry->id); it != entries_.end()) {
    bytes_ -= cost(*it->second);
    replaced = std::exchange(it->second, std::move(entry));
    bytes_ += added;
  } else {
    order_.push_back(entry->id);
    bytes_ += added;
    std::string id = entry->id;
    entries_.emplace(std::move(id), std::move(entry));
  }
  while (!order_.empty() && (entries_.size() > max_entries_ || bytes_ > max_bytes_)) {
    auto oldest = entries_.find(order_.front());
    bytes_ -= cost(*oldest->second);
    evicted.push_back(std::move(oldest->second));
    entries_.erase(oldest);
    order_.pop_front();
  }
}

std::size_t DecodedMemo::size() const {
  std::lock_guard lock(lock_);
  return entries_.size();
}

}  // namespace asyncredis::detail
