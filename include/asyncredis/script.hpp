// Script: a Lua script run by its SHA1 (EVALSHA), loaded with EVAL only when Redis lacks it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "asyncredis/detail/request.hpp"

namespace asyncredis {

/// A Lua script run by its SHA1 (EVALSHA), loaded with EVAL only when Redis answers NOSCRIPT;
/// run it with RedisClient::eval(). Cheap to copy (the source and SHA1 are shared).
class Script {
 public:
  /// Computes the script's SHA1 (OpenSSL) once, here; it does not contact Redis.
  explicit Script(std::string source);

  /// The Lua source, as given.
  const std::string& source() const noexcept;
  /// Lowercase hex SHA1 of source(), as SCRIPT LOAD returns it.
  const std::string& sha1() const noexcept;

 private:
  struct Data;
  std::shared_ptr<const Data> data_;
};

namespace detail {

// An EVALSHA/EVAL call without its first two arguments: `tail` holds numkeys, keys, args.
struct ScriptCall {
  Script script;
  std::string tail;
  std::size_t numkeys = 0;
  std::size_t arg_count = 0;  // every argument, the command name included
};

// Sends EVALSHA; on a NOSCRIPT error reply (and only then) sends EVAL with the source.
// `base` carries the call's options (timeout, retry); its payload is ignored.
void submit_script(RequestSink& sink, Request&& base, ScriptCall&& call, ReplyHandler&& handler);

}  // namespace detail
}  // namespace asyncredis
