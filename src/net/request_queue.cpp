#include "net/request_queue.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "asyncredis/error.hpp"
#include "protocol/reply_memory.hpp"

namespace asyncredis::detail {

namespace {

// Dead waiting entries are shed all at once when they outnumber the live ones and are at
// least this many (below it, take_batch() skipping them costs less than shedding).
constexpr std::size_t kShedAtLeast = 64;
// The buffer drops the bytes of shed entries once they are this much and half of it.
constexpr std::size_t kTrimAtLeast = 64 * 1024;

template <class List>
auto lower_bound_seq(List& list, std::uint64_t seq) {
  return std::lower_bound(list.begin(), list.end(), seq,
                          [](const auto& entry, std::uint64_t s) { return entry.seq < s; });
}

}  // namespace

std::uint64_t RequestQueue::push(Request&& request, ReplyHandler&& handler, Clock::time_point now,
                                 std::chrono::milliseconds timeout,
                                 std::unique_ptr<Observation>&& observation) {
  const std::string_view bytes = request.bytes();
  if (live_waiting_ >= limits_.requests ||
      (live_waiting_ > 0 && live_waiting_bytes_ + bytes.size() > limits_.bytes)) {
    return 0;
  }
  Entry& entry = waiting_.emplace_back();
  entry.seq = next_seq_++;
  entry.handler = std::move(handler);
  entry.total = std::max<std::uint32_t>(request.reply_count, 1);
  entry.remaining = entry.total;
  entry.deliver = request.deliver;
  entry.size = static_cast<std::uint32_t>(bytes.size());
  entry.timeout_ms =
      static_cast<std::uint32_t>(std::min<std::int64_t>(timeout.count(), UINT32_MAX));
  entry.deadline = now + timeout;
  if (request.retry_on_reconnect || entry.deliver == Deliver::array || observation) {
    entry.extra = std::make_unique<Extra>();
    entry.extra->observation = std::move(observation);
    if (request.retry_on_reconnect) entry.extra->retry_payload = bytes;
    if (entry.deliver == Deliver::array) entry.extra->replies.reserve(entry.remaining);
  }
  waiting_bytes_.append(bytes);
  ++live_waiting_;
  live_waiting_bytes_ += bytes.size();
  // A new timeout starts its class at this request; an existing class's cursor is at or
  // before it already. (Nearly always one class, or a couple.)
  bool known = false;
  for (const TimeoutClass& c : classes_) {
    if (c.timeout_ms == entry.timeout_ms) {
      known = true;
      break;
    }
  }
  if (!known) classes_.push_back(TimeoutClass{entry.timeout_ms, entry.seq, entry.deadline});
  return entry.seq;
}

Clock::time_point RequestQueue::owed_since() const {
  Clock::time_point oldest = Clock::time_point::max();
  for (const Entry& entry : written_) {
    if (!entry.live()) oldest = std::min(oldest, entry.deadline);
  }
  return oldest;
}

void RequestQueue::take_batch(std::string& out) {
  out.clear();
  if (dead_waiting_ == 0 && waiting_offset_ == 0) {
    out.swap(waiting_bytes_);
  } else {
    std::size_t offset = waiting_offset_;
    for (const Entry& entry : waiting_) {
      if (entry.live()) out.append(waiting_bytes_, offset, entry.size);
      offset += entry.size;
    }
    waiting_bytes_.clear();
  }
  for (Entry& entry : waiting_) {
    if (!entry.live()) continue;
    entry.written = true;
    written_.push_back(std::move(entry));
  }
  live_written_ += live_waiting_;
  waiting_.clear();
  waiting_offset_ = 0;
  live_waiting_ = 0;
  live_waiting_bytes_ = 0;
  dead_waiting_ = 0;
}

void RequestQueue::take(Entry& entry, std::exception_ptr error, Reply&& reply, Completion& done) {
  done.handler = std::move(entry.handler);
  done.error = std::move(error);
  done.reply = std::move(reply);
  if (entry.extra) {  // a pipeline's collected replies go with it
    done.observation = std::move(entry.extra->observation);
    collected_memory_ -= entry.extra->replies_memory;
    entry.extra->replies_memory = 0;
    entry.extra->replies.clear();
  }
}

void RequestQueue::end_early(Entry& entry, const std::exception_ptr& error, Clock::time_point now,
                             Completion& done) {
  take(entry, error, Reply(), done);
  if (entry.written) {
    --live_written_;
    ++owed_;
    entry.deadline = now;
  } else {
    --live_waiting_;
    live_waiting_bytes_ -= entry.size;
    ++dead_waiting_;
  }
}

void RequestQueue::pop_written() {
  Entry& entry = written_.front();
  if (entry.live()) {
    --live_written_;
  } else {
    --owed_;
  }
  collected_memory_ -= entry.replies_memory();
  written_.pop_front();
}

bool RequestQueue::collect(Entry& entry, Reply&& reply) {
  const std::size_t memory = memory_of(reply);
  if (collected_memory_ + memory > limits_.reply_memory) return false;
  collected_memory_ += memory;
  entry.extra->replies_memory += memory;
  entry.extra->replies.push_back(std::move(reply));
  return true;
}

RequestQueue::ReplyResult RequestQueue::on_reply(Reply&& reply, Completion& done) {
  if (written_.empty()) return ReplyResult::unexpected;
  Entry& entry = written_.front();
  --entry.remaining;
  if (entry.extra && entry.extra->observation) {
    entry.extra->observation->bytes_in += wire_size(reply);
  }
  if (!entry.live()) {
    if (entry.remaining == 0) pop_written();
    return ReplyResult::pending;
  }
  if (entry.deliver == Deliver::array && !collect(entry, std::move(reply))) {
    const std::size_t limit = limits_.reply_memory;
    end_early(entry,
              std::make_exception_ptr(
                  Error(errc::protocol_error,
                        "the replies to this pipeline take more than " + std::to_string(limit) +
                            " bytes decoded (max_reply_size); the rest are dropped")),
              Clock::now(), done);
    if (entry.remaining == 0) pop_written();
    return ReplyResult::completed;
  }
  if (entry.remaining > 0) {
    return ReplyResult::pending;
  }
  if (entry.deliver == Deliver::array) {
    Reply all = Reply::array(std::move(entry.extra->replies));
    take(entry, nullptr, std::move(all), done);
  } else {
    take(entry, nullptr, std::move(reply), done);
  }
  --live_written_;
  written_.pop_front();
  return ReplyResult::completed;
}

bool RequestQueue::fail_oldest_written(const std::exception_ptr& error, Completion& done) {
  if (written_.empty() || !written_.front().live()) return false;
  take(written_.front(), error, Reply(), done);
  --live_written_;
  written_.pop_front();
  return true;
}

void RequestQueue::on_connection_lost(const std::exception_ptr& error,
                                      std::vector<Completion>& done) {
  std::deque<Entry> retry;
  std::string retry_bytes;
  for (Entry& entry : written_) {
    if (!entry.live()) continue;
    if (entry.extra && !entry.extra->retry_payload.empty()) {
      // Sent again from scratch: drop whatever part of its replies had arrived.
      collected_memory_ -= entry.extra->replies_memory;
      entry.extra->replies_memory = 0;
      entry.extra->replies.clear();
      if (auto& observation = entry.extra->observation) {
        ++observation->retries;
        observation->bytes_in = 0;  // what arrived belonged to the attempt that failed
      }
      entry.remaining = entry.total;
      entry.written = false;
      entry.size = static_cast<std::uint32_t>(entry.extra->retry_payload.size());
      retry_bytes += entry.extra->retry_payload;
      retry.push_back(std::move(entry));
      continue;
    }
    take(entry, error, Reply(), done.emplace_back());
  }
  written_.clear();
  live_written_ = 0;
  owed_ = 0;
  if (retry.empty()) return;
  // Retried entries are older than every waiting one: the order by seq holds.
  live_waiting_ += retry.size();
  live_waiting_bytes_ += retry_bytes.size();
  for (auto it = retry.rbegin(); it != retry.rend(); ++it) waiting_.push_front(std::move(*it));
  waiting_bytes_.replace(0, waiting_offset_, retry_bytes);
  waiting_offset_ = 0;
}

void RequestQueue::fail_waiting(const std::exception_ptr& error, std::vector<Completion>& done) {
  for (Entry& entry : waiting_) {
    if (entry.live()) take(entry, error, Reply(), done.emplace_back());
  }
  waiting_.clear();
  waiting_bytes_.clear();
  waiting_offset_ = 0;
  live_waiting_ = 0;
  live_waiting_bytes_ = 0;
  dead_waiting_ = 0;
}

void RequestQueue::fail_all(const std::exception_ptr& error, std::vector<Completion>& done) {
  for (Entry& entry : written_) {
    if (entry.live()) take(entry, error, Reply(), done.emplace_back());
  }
  written_.clear();
  live_written_ = 0;
  owed_ = 0;
  fail_waiting(error, done);
  classes_.clear();
}

RequestQueue::Entry* RequestQueue::find(std::uint64_t seq) {
  for (auto* list : {&written_, &waiting_}) {
    auto it = lower_bound_seq(*list, seq);
    if (it != list->end() && it->seq == seq) return &*it;
  }
  return nullptr;
}

bool RequestQueue::expire_class(TimeoutClass& cls, Clock::time_point now,
                                const std::exception_ptr& error, std::vector<Completion>& done) {
  // Every entry between the cursor and the first unexpired one of this class is passed once:
  // the cursor then moves past them.
  auto visit = [&](std::deque<Entry>& list, std::deque<Entry>::iterator from) {
    for (auto it = from; it != list.end(); ++it) {
      if (it->timeout_ms != cls.timeout_ms || !it->live()) continue;
      if (it->deadline > now) {
        cls.cursor = it->seq;
        cls.next_deadline = it->deadline;
        return true;
      }
      end_early(*it, error, now, done.emplace_back());
    }
    return false;
  };
  auto in_written = lower_bound_seq(written_, cls.cursor);
  if (in_written != written_.end()) {
    if (visit(written_, in_written)) return true;
    return visit(waiting_, waiting_.begin());
  }
  return visit(waiting_, lower_bound_seq(waiting_, cls.cursor));
}

void RequestQueue::expire(Clock::time_point now, const std::exception_ptr& error,
                          std::vector<Completion>& done) {
  for (auto it = classes_.begin(); it != classes_.end();) {
    if (it->next_deadline > now || expire_class(*it, now, error, done)) {
      ++it;
    } else {
      it = classes_.erase(it);
    }
  }
  shed_dead();
}

bool RequestQueue::cancel(std::uint64_t id, const std::exception_ptr& error, Completion& done) {
  Entry* entry = find(id);
  if (entry == nullptr || !entry->live()) return false;
  end_early(*entry, error, Clock::now(), done);
  shed_dead();
  return true;
}

void RequestQueue::shed_dead() {
  while (!waiting_.empty() && !waiting_.front().live()) {
    waiting_offset_ += waiting_.front().size;
    waiting_.pop_front();
    --dead_waiting_;
  }
  if (dead_waiting_ >= kShedAtLeast && dead_waiting_ > live_waiting_) {
    std::deque<Entry> live;
    std::string bytes;
    bytes.reserve(live_waiting_bytes_);
    std::size_t offset = waiting_offset_;
    for (Entry& entry : waiting_) {
      const std::size_t size = entry.size;
      if (entry.live()) {
        bytes.append(waiting_bytes_, offset, size);
        live.push_back(std::move(entry));
      }
      offset += size;
    }
    waiting_.swap(live);
    waiting_bytes_.swap(bytes);
    waiting_offset_ = 0;
    dead_waiting_ = 0;
  } else if (waiting_offset_ >= kTrimAtLeast && waiting_offset_ * 2 >= waiting_bytes_.size()) {
    waiting_bytes_.erase(0, waiting_offset_);
    waiting_offset_ = 0;
  }
  if (waiting_.empty()) {
    waiting_bytes_.clear();
    waiting_offset_ = 0;
  }
}

std::optional<Clock::time_point> RequestQueue::earliest_deadline() const {
  std::optional<Clock::time_point> earliest;
  for (const TimeoutClass& cls : classes_) {
    if (!earliest || cls.next_deadline < *earliest) earliest = cls.next_deadline;
  }
  return earliest;
}

}  // namespace asyncredis::detail
