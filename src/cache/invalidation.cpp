// Invalidation: delete_pattern (SCAN + UNLINK, never KEYS) and namespaces, whose keys carry a
// generation that one INCR moves on.
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/cache/cache_service.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/scan.hpp"
#include "asyncredis/script.hpp"
#include "cache/cache_core.hpp"
#include "cache/cache_scripts.hpp"

namespace asyncredis {

namespace asio = boost::asio;
using asio::use_awaitable;
using detail::CacheCore;

namespace {

const std::vector<std::string> no_args;

std::string generation_key(const CacheOptions& options, std::string_view ns) {
  std::string key = options.key_prefix;
  key += ns;
  key += ":generation";
  return key;
}

}  // namespace

asio::awaitable<std::string> CacheService::keys_common_prefix(CacheService self) {
  CacheCore& core = *self.core_;
  std::string common_prefix = core.options.key_prefix;
  if (self.namespace_.empty()) co_return common_prefix;
  std::int64_t generation = 0;
  if (!core.fresh_generation(self.namespace_, generation)) {
    const std::string counter = generation_key(core.options, self.namespace_);
    generation = co_await core.commands.eval<std::int64_t>(detail::generation_read_script(),
                                                           counter, no_args, use_awaitable);
    core.remember_generation(self.namespace_, generation);
  }
  common_prefix += self.namespace_;
  common_prefix += ':';
  common_prefix += std::to_string(generation);
  common_prefix += ':';
  co_return common_prefix;
}

asio::awaitable<std::size_t> CacheService::run_delete_pattern(CacheService self,
                                                              std::string pattern,
                                                              std::size_t one_segment_from) {
  CacheCore& core = *self.core_;
  try {
    const std::string common_prefix = co_await keys_common_prefix(self);
    // Computations running now may be of keys this deletes: none of them stores its result.
    core.invalidated_all();
    ScanOptions scan_options;
    scan_options.match = escape_glob(common_prefix) + pattern;
    scan_options.count = core.options.scan_count;
    ScanIterator it = core.commands.scan(std::move(scan_options));
    std::vector<std::string> batch;
    batch.reserve(core.options.unlink_batch);
    std::size_t removed = 0;
    // Each SCAN step and each UNLINK is short, so other clients are served in between; UNLINK
    // frees large values off the main thread.
    while (auto keys = co_await it.next(use_awaitable)) {
      for (std::string& key : *keys) {
        if (one_segment_from != std::string::npos &&
            key.find(':', common_prefix.size() + one_segment_from) != std::string::npos) {
          continue;
        }
        batch.push_back(std::move(key));
        if (batch.size() >= core.options.unlink_batch) {
          removed += static_cast<std::size_t>(co_await core.commands.unlink(batch, use_awaitable));
          batch.clear();
        }
      }
    }
    if (!batch.empty()) {
      removed += static_cast<std::size_t>(co_await core.commands.unlink(batch, use_awaitable));
    }
    co_return removed;
  } catch (...) {
    core.counters.errors.fetch_add(1, std::memory_order_relaxed);
    throw;
  }
}

asio::awaitable<std::int64_t> CacheService::run_invalidate_namespace(CacheService self,
                                                                     std::string ns) {
  CacheCore& core = *self.core_;
  if (ns.empty()) {
    throw Error(errc::invalid_argument, "cache invalidate_namespace: the namespace is empty");
  }
  try {
    const std::string counter = generation_key(core.options, ns);
    const std::int64_t generation = co_await core.commands.eval<std::int64_t>(
        detail::generation_bump_script(), counter, no_args, use_awaitable);
    core.remember_generation(ns, generation);
    co_return generation;
  } catch (...) {
    core.counters.errors.fetch_add(1, std::memory_order_relaxed);
    throw;
  }
}

}  // namespace asyncredis
