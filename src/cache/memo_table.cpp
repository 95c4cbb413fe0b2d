// The memo's open-addressing index (see memo_table.hpp).
#include "asyncredis/cache/memo_table.hpp"

#include <algorithm>
#include <utility>

namespace asyncredis::detail {

MemoTable::EntryPtr MemoTable::put(EntryPtr entry) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
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

MemoTable::EntryPtr MemoTable::take(std::string_view id) {
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
  // when its home slot is not between the hole and where it sits (it would be unreachable).
  for (std::size_t next = (hole + 1) & mask_; slots_[next].entry; next = (next + 1) & mask_) {
    const std::size_t home = slots_[next].hash & mask_;
    const bool home_after_hole = ((next - home) & mask_) < ((next - hole) & mask_);
    if (home_after_hole) continue;
    slots_[hole] = std::move(slots_[next]);
    slots_[next].entry = nullptr;
    hole = next;
  }
  return taken;
}

void MemoTable::grow() {
  std::vector<Slot> old =
      std::exchange(slots_, std::vector<Slot>(std::max<std::size_t>(16, slots_.size() * 2)));
  mask_ = slots_.size() - 1;
  for (Slot& slot : old) {
    if (!slot.entry) continue;
    std::size_t i = slot.hash & mask_;
    while (slots_[i].entry) i = (i + 1) & mask_;
    slots_[i] = std::move(slot);
  }
}

}  // namespace asyncredis::detail
