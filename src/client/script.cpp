// Script: SHA1 at construction; EVALSHA with the EVAL fallback on NOSCRIPT only.
#include "asyncredis/script.hpp"

#include <openssl/evp.h>

#include <boost/asio/associator.hpp>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"

namespace asyncredis {

struct Script::Data {
  std::string source;
  std::string sha1;
};

namespace {

std::string sha1_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha1(), nullptr) != 1) {
    throw Error(errc::invalid_argument, "Script: OpenSSL could not compute SHA1");
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace

Script::Script(std::string source) {
  auto data = std::make_shared<Data>();
  data->sha1 = sha1_hex(source);
  data->source = std::move(source);
  data_ = std::move(data);
}

const std::string& Script::source() const noexcept {
  return data_->source;
}
const std::string& Script::sha1() const noexcept {
  return data_->sha1;
}

namespace detail {
namespace {

Request script_request(const Request& base, const ScriptCall& call, std::string_view command,
                       std::string_view first) {
  Request request;
  request.timeout = base.timeout;
  request.retry_on_reconnect = base.retry_on_reconnect;
  request.payload.reserve(32 + first.size() + call.tail.size());
  append_array_header(request.payload, call.arg_count);
  append_bulk(request.payload, command);
  append_bulk(request.payload, first);
  request.payload += call.tail;
  return request;
}

// Completes EVALSHA: NOSCRIPT sends EVAL with the same handler; anything else is the answer.
// The sink may be gone by the time NOSCRIPT arrives (the client destroyed, the lease
// released): it is held weakly, and then the call fails instead of sending.
class EvalFallback {
 public:
  EvalFallback(RequestSink& sink, Request base, ScriptCall call, ReplyHandler handler)
      : owner_(sink.weak_from_this()),
        unowned_(owner_.expired() ? &sink : nullptr),
        base_(std::move(base)),
        call_(std::move(call)),
        handler_(std::move(handler)) {}

  void operator()(std::exception_ptr error, Reply&& reply) {
    if (error || !reply.is_error() || !reply.str().starts_with("NOSCRIPT")) {
      std::move(handler_)(std::move(error), std::move(reply));
      return;
    }
    Request eval = script_request(base_, call_, "EVAL", call_.script.source());
    if (unowned_ != nullptr) {
      unowned_->submit(std::move(eval), std::move(handler_));
    } else if (auto sink = owner_.lock()) {
      sink->submit(std::move(eval), std::move(handler_));
    } else {
      std::move(handler_)(
          std::make_exception_ptr(Error(errc::shutting_down,
                                        "the script was not loaded on the server (NOSCRIPT) and "
                                        "its client or lease is gone, so it cannot be sent again")),
          Reply());
    }
  }

  const ReplyHandler& handler() const noexcept { return handler_; }

 private:
  std::weak_ptr<RequestSink> owner_;
  RequestSink* unowned_;  // a sink no shared_ptr owns outlives its requests (request.hpp)
  Request base_;
  ScriptCall call_;
  ReplyHandler handler_;
};

}  // namespace
}  // namespace detail
}  // namespace asyncredis

// The fallback runs where the caller's handler wants to run and is cancelled with it.
template <template <class, class> class Associator, class DefaultCandidate>
struct boost::asio::associator<Associator, asyncredis::detail::EvalFallback, DefaultCandidate>
    : Associator<asyncredis::detail::ReplyHandler, DefaultCandidate> {
  static auto get(const asyncredis::detail::EvalFallback& h) noexcept {
    return Associator<asyncredis::detail::ReplyHandler, DefaultCandidate>::get(h.handler());
  }
  static auto get(const asyncredis::detail::EvalFallback& h, const DefaultCandidate& c) noexcept {
    return Associator<asyncredis::detail::ReplyHandler, DefaultCandidate>::get(h.handler(), c);
  }
};

namespace asyncredis::detail {

void submit_script(RequestSink& sink, Request&& base, ScriptCall&& call, ReplyHandler&& handler) {
  Request evalsha = script_request(base, call, "EVALSHA", call.script.sha1());
  sink.submit(std::move(evalsha),
              EvalFallback(sink, std::move(base), std::move(call), std::move(handler)));
}

}  // namespace asyncredis::detail
