#include "net/request_queue.hpp"

#include <algorithm>
#include <utility>

namespace asyncredis::detail {

std::uint64_t RequestQueue::push(Request&& request, ReplyHandler&& handler,
                                 Clock::time_point deadline) {
  Entry& entry = waiting_.emplace_back();
  entry.id = next_id_++;
  entry.handler = std::move(handler);
  entry.total = std::max<std::uint32_t>(request.reply_count, 1);
  entry.remaining = entry.total;
  entry.deliver = request.deliver;
  const std::string_view bytes = request.bytes();
  entry.size = static_cast<std::uint32_t>(bytes.size());
  entry.deadline = deadline;
  if (request.retry_on_reconnect) entry.retry_payload = bytes;
  if (entry.deliver == Deliver::array) entry.replies.reserve(entry.remaining);
  waiting_bytes_.append(bytes);
  return entry.id;
}

void RequestQueue::take_batch(std::string& out) {
  out.clear();
  out.swap(waiting_bytes_);
  for (Entry& entry : waiting_) written_.push_back(std::move(entry));
  waiting_.clear();
}

void RequestQueue::finish(Entry& entry, std::exception_ptr error, Reply&& reply, Completion& done) {
  done.handler = std::move(entry.handler);
  done.error = std::move(error);
  done.reply = std::move(reply);
}

RequestQueue::ReplyResult RequestQueue::on_reply(Reply&& reply, Completion& done) {
  if (written_.empty()) return ReplyResult::unexpected;
  Entry& entry = written_.front();
  if (--entry.remaining > 0) {
    if (!entry.abandoned() && entry.deliver == Deliver::array) {
      entry.replies.push_back(std::move(reply));
    }
    return ReplyResult::pending;
  }
  if (entry.abandoned()) {
    written_.pop_front();
    return ReplyResult::pending;
  }
  if (entry.deliver == Deliver::array) {
    entry.replies.push_back(std::move(reply));
    finish(entry, nullptr, Reply::array(std::move(entry.replies)), done);
  } else {
    finish(entry, nullptr, std::move(reply), done);
  }
  written_.pop_front();
  return ReplyResult::completed;
}

void RequestQueue::on_connection_lost(const std::exception_ptr& error,
                                      std::vector<Completion>& done) {
  std::deque<Entry> retry;
  std::string retry_bytes;
  for (Entry& entry : written_) {
    if (entry.abandoned()) continue;
    if (!entry.retry_payload.empty()) {
      // Sent again from scratch: drop whatever part of its replies had arrived.
      entry.remaining = entry.total;
      entry.replies.clear();
      retry_bytes += entry.retry_payload;
      retry.push_back(std::move(entry));
      continue;
    }
    finish(entry, error, Reply(), done.emplace_back());
  }
  written_.clear();
  if (retry.empty()) return;
  for (auto it = retry.rbegin(); it != retry.rend(); ++it) waiting_.push_front(std::move(*it));
  waiting_bytes_.insert(0, retry_bytes);
}

void RequestQueue::fail_all(const std::exception_ptr& error, std::vector<Completion>& done) {
  for (auto* list : {&written_, &waiting_}) {
    for (Entry& entry : *list) {
      if (!entry.abandoned()) finish(entry, error, Reply(), done.emplace_back());
    }
    list->clear();
  }
  waiting_bytes_.clear();
}

void RequestQueue::erase_waiting(std::size_t index) {
  std::size_t offset = 0;
  for (std::size_t i = 0; i < index; ++i) offset += waiting_[i].size;
  waiting_bytes_.erase(offset, waiting_[index].size);
  waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(index));
}

void RequestQueue::expire(Clock::time_point now, const std::exception_ptr& error,
                          std::vector<Completion>& done) {
  for (Entry& entry : written_) {
    if (!entry.abandoned() && entry.deadline <= now)
      finish(entry, error, Reply(), done.emplace_back());
  }
  for (std::size_t i = waiting_.size(); i-- > 0;) {
    if (waiting_[i].deadline <= now) {
      finish(waiting_[i], error, Reply(), done.emplace_back());
      erase_waiting(i);
    }
  }
}

bool RequestQueue::cancel(std::uint64_t id, const std::exception_ptr& error, Completion& done) {
  for (Entry& entry : written_) {
    if (entry.id == id) {
      if (entry.abandoned()) return false;
      finish(entry, error, Reply(), done);
      return true;
    }
  }
  for (std::size_t i = 0; i < waiting_.size(); ++i) {
    if (waiting_[i].id == id) {
      finish(waiting_[i], error, Reply(), done);
      erase_waiting(i);
      return true;
    }
  }
  return false;
}

std::optional<Clock::time_point> RequestQueue::earliest_deadline() const {
  std::optional<Clock::time_point> earliest;
  for (const auto* list : {&written_, &waiting_}) {
    for (const Entry& entry : *list) {
      if (entry.abandoned()) continue;
      if (!earliest || entry.deadline < *earliest) earliest = entry.deadline;
    }
  }
  return earliest;
}

}  // namespace asyncredis::detail
