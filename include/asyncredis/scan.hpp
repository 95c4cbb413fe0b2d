// ScanIterator: walking the keyspace with SCAN's cursor, never with KEYS; and ScanPage, one
// page of HSCAN / SSCAN / ZSCAN.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>

#include "asyncredis/detail/converting_handler.hpp"
#include "asyncredis/detail/request.hpp"

namespace asyncredis {

/// What a SCAN iteration returns (client.scan(options)).
struct ScanOptions {
  std::string match;      ///< MATCH pattern; empty: every key
  std::size_t count = 0;  ///< COUNT hint; 0: Redis's default (10)
  std::string type;       ///< TYPE filter (string, hash, ...); empty: every type
};

/// Escapes the glob characters of `literal` (* ? [ ] \\) so it matches only itself in a
/// MATCH pattern: escape_glob("user:*") + "*" matches keys starting with "user:*".
std::string escape_glob(std::string_view literal);

/// One SCAN iteration over the whole keyspace. Keys present for the whole iteration are
/// returned at least once (SCAN's guarantee); a key may come back more than once.
///
///     auto it = client.scan({.match = "session:*", .count = 500});
///     while (auto keys = co_await it.next(use_awaitable)) { ... }
class ScanIterator {
 public:
  /// Made by Commands::scan() (on a RedisClient or a Lease), which passes its request sink.
  ScanIterator(detail::RequestSink* sink, ScanOptions options)
      : sink_(sink), options_(std::move(options)) {}

  /// True once the server returned cursor 0.
  bool done() const noexcept { return done_; }

  /// The next batch (possibly empty), or std::nullopt when the iteration is complete.
  /// One next() at a time; the iterator must outlive the operation. Signature
  /// void(std::exception_ptr, std::optional<std::vector<std::string>>); fails with the
  /// command errors (timeout, connection_lost, ...), after which next() retries the same cursor.
  template <class Token = boost::asio::deferred_t>
  auto next(Token&& token = {}) {
    using Result = std::optional<std::vector<std::string>>;
    return boost::asio::async_initiate<Token, void(std::exception_ptr, Result)>(
        [](auto handler, ScanIterator* self) {
          if (self->done_) {
            auto executor = boost::asio::get_associated_executor(handler, self->sink_->executor());
            boost::asio::post(executor, [handler = std::move(handler)]() mutable {
              std::move(handler)(std::exception_ptr(), Result());
            });
            return;
          }
          using H = std::decay_t<decltype(handler)>;
          auto convert = [self](Reply&& reply) { return self->take_page(std::move(reply)); };
          self->sink_->submit(self->make_request(),
                              detail::ConvertingHandler<Result, H, decltype(convert)>(
                                  std::move(handler), std::move(convert)));
        },
        token, this);
  }

 private:
  detail::Request make_request() const;
  // Reads SCAN's [cursor, [keys...]] reply, advancing the cursor.
  std::optional<std::vector<std::string>> take_page(Reply&& reply);

  detail::RequestSink* sink_;
  ScanOptions options_;
  std::string cursor_ = "0";
  bool done_ = false;
};

/// One page of HSCAN, SSCAN or ZSCAN: the items, and the cursor to pass to the next call
/// ("0": the walk is complete). Items present for the whole walk come at least once.
///   const ScanOptions options{.count = 100};
///   std::string cursor = "0";
///   do {
///     auto page = co_await client.hscan("h", cursor, options, use_awaitable);
///     for (auto& [field, value] : page.items) ...
///     cursor = page.cursor;
///   } while (cursor != "0");
/// One call per page rather than an iterator like ScanIterator: the call holds no state
/// that must outlive it, so it works with every completion token (a blocking one too), and
/// a walk can stop and resume later from a stored cursor.
template <class Items>
struct ScanPage {
  std::string cursor;  ///< for the next call; "0": complete
  Items items;         ///< this page's items (perhaps none, even before the end)
  /// Whether the walk is complete (cursor "0").
  bool done() const noexcept { return cursor == "0"; }
};

namespace detail {
// MATCH and COUNT of `options`; Error(errc::invalid_argument) naming `command` when
// options.type is set (TYPE filters SCAN's keys only).
std::vector<std::string> cursor_args(std::string_view command, const ScanOptions& options);

// Converts [cursor, items] with ItemsConvert for the items.
template <class ItemsConvert>
struct ScanPageConvert {
  using Items = std::invoke_result_t<const ItemsConvert&, Reply&&>;
  ScanPage<Items> operator()(Reply&& reply) const {
    auto [cursor, items] = std::move(reply).as<std::pair<std::string, Reply>>();
    return {std::move(cursor), ItemsConvert{}(std::move(items))};
  }
};
}  // namespace detail

}  // namespace asyncredis
