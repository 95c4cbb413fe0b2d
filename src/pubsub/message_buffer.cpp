#include "pubsub/message_buffer.hpp"

namespace asyncredis::detail {

bool MessageBuffer::push(Message&& message) {
  const std::size_t size = bytes_of(message);
  const auto fits = [&] {
    return messages_.size() < options_.max_messages && bytes_ + size <= options_.max_bytes;
  };
  if (!fits()) {
    if (options_.when_full == SubscriberOptions::WhenFull::disconnect) return false;
    // One message bigger than max_bytes still goes in alone: dropping it would hide it.
    while (!messages_.empty() && !fits()) {
      bytes_ -= bytes_of(messages_.front());
      ++dropped_;
      ++dropped_total_;
      messages_.pop_front();
    }
  }
  bytes_ += size;
  messages_.push_back(std::move(message));
  return true;
}

std::optional<Message> MessageBuffer::pop() {
  if (messages_.empty()) return std::nullopt;
  Message message = std::move(messages_.front());
  messages_.pop_front();
  bytes_ -= bytes_of(message);
  message.dropped += dropped_;
  dropped_ = 0;
  return message;
}

void MessageBuffer::clear() noexcept {
  messages_.clear();
  bytes_ = 0;
}

}  // namespace asyncredis::detail
