#include "net/pump.hpp"

#include <string_view>

namespace asyncredis::detail {

bool is_pushed_message(const Reply& reply) noexcept {
  if (!reply.is_array() || reply.elements().empty()) return false;
  const Reply& kind = reply.elements().front();
  if (!kind.is_string()) return false;
  const std::string_view name = kind.str();
  // A cluster node sends "sunsubscribe" by itself when a shard channel's slot leaves it, so it
  // is never a reply: the subscriber confirms its own SUNSUBSCRIBEs by a PING after them.
  return name == "message" || name == "pmessage" || name == "smessage" || name == "sunsubscribe";
}

Pump::Pump(QueueLimits queue_limits, ReaderLimits reader_limits, ConnectionMode mode)
    : queue_(queue_limits), reader_(reader_limits), mode_(mode) {}

bool Pump::take_batch(std::string& out) {
  if (!queue_.has_waiting() || queue_.owes()) return false;
  queue_.take_batch(out);
  return true;
}

Pump::Next Pump::next(Completion& done, std::vector<Reply>& pushes) {
  switch (reader_.next(reply_)) {
    case ReplyReader::Status::need_more:
      return Next::need_more;
    case ReplyReader::Status::error:
      why_ = reader_.error_message();
      return Next::broken;
    case ReplyReader::Status::reply:
      break;
  }
  if (mode_ == ConnectionMode::subscriber && is_pushed_message(reply_)) {
    pushes.push_back(std::move(reply_));
    return Next::pending;
  }
  switch (queue_.on_reply(std::move(reply_), done)) {
    case RequestQueue::ReplyResult::completed:
      return Next::completed;
    case RequestQueue::ReplyResult::pending:
      return Next::pending;
    case RequestQueue::ReplyResult::unexpected:
      why_ = "the server sent a reply that no request asked for";
      return Next::unexpected;
  }
  return Next::pending;
}

}  // namespace asyncredis::detail
