// What the public templates hand to the library: an encoded request and a type-erased handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>

#include "asyncredis/reply.hpp"

namespace asyncredis::detail {

// How the replies of a request reach its handler.
enum class Deliver : std::uint8_t {
  single,  // the one reply as it is
  array,   // every reply, as one array Reply (pipelines)
  last,    // only the last reply (MULTI ... EXEC: the EXEC reply)
};

// One or more commands, already in RESP, sent together and answered in order.
struct Request {
  std::string payload;
  std::uint32_t reply_count = 1;
  Deliver deliver = Deliver::single;
  // Safe to send again if the connection breaks after it was written (idempotent).
  bool retry_on_reconnect = false;
  // 0: the client's command_timeout.
  std::chrono::milliseconds timeout{0};
  // The commands were named by the caller (command<T>(), pipelines, transactions): the sink
  // refuses those that would break the connection they run on (SUBSCRIBE, SELECT, ...).
  bool check_commands = false;

  std::string_view bytes() const noexcept { return payload; }
};

// The reply is passed by rvalue reference: it is moved once, into the conversion, instead of
// once per layer of type erasure.
using ReplySignature = void(std::exception_ptr, Reply&&);
using ReplyHandler = boost::asio::any_completion_handler<ReplySignature>;

// Where requests go: the pool of a RedisClient, or one leased connection. submit() may be
// called from any thread; the handler runs on its associated executor (default: the
// client's), never inside submit().
//
// Work that outlives a call and sends again (a script's EVAL after NOSCRIPT) holds the sink
// through weak_from_this(); a sink that is not owned by a shared_ptr must outlive every
// request submitted to it.
class RequestSink : public std::enable_shared_from_this<RequestSink> {
 public:
  virtual ~RequestSink() = default;
  virtual void submit(Request&& request, ReplyHandler&& handler) = 0;
  // The executor handlers run on when they have none of their own.
  virtual boost::asio::any_io_executor executor() const = 0;
};

}  // namespace asyncredis::detail
