// asyncredis-bench: throughput and latency of asyncredis, with the workload of our hiredis
// reference, bench/reference (GET/SET of "key:__rand_int__", a 32-byte value, N in flight).
//
//   asyncredis-bench --command get --requests 1000000 --inflight 256 --connections 1
//
// It prints one line: RESULT client=asyncredis cmd=GET inflight=... ops_per_s=... p50_us=...
// (with --json, a JSON object instead).
//
// --command cached-hit: a hit through cached() (the arguments' encoding and SHA-256, GET, and
// the JSON decoded into the struct) of a JSON object of --value-size bytes, to compare with
// --command get of a value that size;
// --command near-hit: the same call answered by the near cache (CacheOptions::near_cache): no
// round trip, the decoded struct copied out;
// --cached-key makes get and set use the key a hit reads ("bench:user:" and 64 hex digits,
// which costs the server more than "key:__rand_int__"), so that only the layer differs.
// --command key-build: no server; the time of one KeyBuilder key for a 3-argument call.
// --command near-staleness: --requests rounds of another client's SET of a key the near cache
// holds: the time from its acknowledgement to the eviction, p50/p99 (see near_staleness.cpp).
// --command outage: shuts the server down, then --requests GETs over --duration seconds wait
// and expire; prints the io thread's CPU time (see outage.cpp).
// --command pubsub: messages delivered per second through a Subscriber, at most --inflight
// published and not yet received (see pubsub.cpp).
// --sync [--threads N]: get or set through the blocking SyncClient from N caller threads, to
// compare with `hiredis-reference --mode sync --threads N` (see sync.cpp).
// --observer histograms: get, set and cached-hit with a CommandMetrics attached (the cost of
// the histograms); none, the default, measures the client without an observer.
// --cluster: the URL (or REDIS_HOST/PORT) names one seed node of a Redis Cluster, the rest is
// discovered; --keyspace N spreads get and set over keys "key:0" .. "key:N-1" (so over every
// slot), as redis-benchmark's -r N does.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/asyncredis.hpp"
#include "near_staleness.hpp"
#include "outage.hpp"
#include "pubsub.hpp"
#include "sync.hpp"

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct Options {
  std::optional<std::string> url;
  std::string command = "get";
  long requests = 100000;
  long inflight = 1;
  long connections = 1;
  long value_size = 32;
  long latency_every = 0;  // 0: every request when inflight <= 16, else every 16th
  bool json = false;
  bool tolerate_errors = false;
  bool cached_key = false;
  bool sync = false;  // through SyncClient, from `threads` caller threads
  long threads = 1;
  bool histograms = false;  // --observer histograms
  double duration = 10;     // outage: seconds over which the requests are issued
  bool timed = false;       // get/set with --duration: issue requests for that long instead
  bool cluster = false;     // the URL names a seed node of a Redis Cluster
  long keyspace = 0;        // get/set over "key:0" .. "key:N-1"; 0: one key
};

// What cached-hit's memoizer calls its key, and the argument of every measured call.
constexpr std::string_view cached_prefix = "bench:user";
constexpr std::int64_t cached_argument = 42;

[[noreturn]] void usage(const std::string& problem) {
  std::cerr
      << "asyncredis-bench: " << problem << "\n"
      << "usage: asyncredis-bench [--url URL]\n"
      << "         [--command get|set|cached-hit|near-hit|near-staleness|key-build|outage|\n"
      << "                    pubsub]\n"
      << "         [--requests N]\n"
      << "         [--duration S]  (get|set: run S seconds instead of --requests; outage)\n"
      << "         [--inflight N] [--connections N] [--value-size N] [--latency-every N]\n"
      << "         [--json] [--tolerate-errors] [--cached-key] [--observer none|histograms]\n"
      << "         [--sync [--threads N]]  (get|set through SyncClient from N threads)\n"
      << "         [--cluster] [--keyspace N]  (a cluster seed; keys key:0 .. key:N-1)\n"
      << "Without --url the settings come from the environment (REDIS_URL, REDIS_HOST...,\n"
      << "or REDIS_SENTINELS, REDIS_SENTINEL_MASTER, REDIS_SENTINEL_PASSWORD for Sentinel).\n";
  std::exit(2);
}

long positive(std::string_view flag, const char* text) {
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 1) {
    usage(std::string(flag) + ": '" + text + "' is not a positive whole number");
  }
  return value;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--url")
      o.url = value();
    else if (flag == "--command")
      o.command = value();
    else if (flag == "--requests")
      o.requests = positive(flag, value());
    else if (flag == "--inflight")
      o.inflight = positive(flag, value());
    else if (flag == "--connections")
      o.connections = positive(flag, value());
    else if (flag == "--value-size")
      o.value_size = positive(flag, value());
    else if (flag == "--latency-every")
      o.latency_every = positive(flag, value());
    else if (flag == "--duration") {
      o.duration = static_cast<double>(positive(flag, value()));
      o.timed = true;
    } else if (flag == "--json")
      o.json = true;
    else if (flag == "--cluster")
      o.cluster = true;
    else if (flag == "--keyspace")
      o.keyspace = positive(flag, value());
    else if (flag == "--tolerate-errors")
      o.tolerate_errors = true;
    else if (flag == "--sync")
      o.sync = true;
    else if (flag == "--threads")
      o.threads = positive(flag, value());
    else if (flag == "--cached-key")
      o.cached_key = true;
    else if (flag == "--observer") {
      const std::string_view observer = value();
      if (observer != "none" && observer != "histograms") {
        usage("--observer: '" + std::string(observer) + "' is not none or histograms");
      }
      o.histograms = observer == "histograms";
    } else if (flag == "--help" || flag == "-h")
      usage("help");
    else
      usage("unknown flag " + std::string(flag));
  }
  if (o.command != "get" && o.command != "set" && o.command != "cached-hit" &&
      o.command != "near-hit" && o.command != "near-staleness" && o.command != "key-build" &&
      o.command != "outage" && o.command != "pubsub")
    usage("--command: '" + o.command +
          "' is not get, set, cached-hit, near-hit, near-staleness, key-build, outage or pubsub");
  if (o.sync && o.command != "get" && o.command != "set") usage("--sync: --command get or set");
  if (o.threads > 256) usage("--threads: at most 256");
  if (o.latency_every == 0) o.latency_every = o.inflight <= 16 ? 1 : 16;
  // --duration runs get and set for that long (through a failover, say); outage has its own.
  o.timed = o.timed && (o.command == "get" || o.command == "set") && !o.sync;
  return o;
}

// The object cached-hit reads: {"id":42,"name":"xx..."}, the name padded so the JSON text has
// --value-size bytes (at least the unpadded form).
struct BenchUser {
  std::int64_t id = 0;
  std::string name;
  friend void to_json(nlohmann::json& j, const BenchUser& u) {
    j = {{"id", u.id}, {"name", u.name}};
  }
  friend void from_json(const nlohmann::json& j, BenchUser& u) {
    j.at("id").get_to(u.id);
    j.at("name").get_to(u.name);
  }
};

struct BenchUserLookup {
  std::size_t json_size;
  asio::awaitable<BenchUser> operator()(std::int64_t id) const {
    const std::size_t bare = nlohmann::json(BenchUser{id, ""}).dump().size();
    co_return BenchUser{id, std::string(json_size > bare ? json_size - bare : 0, 'x')};
  }
};

using CachedLookup = asyncredis::Cached<BenchUserLookup>;

// Keeps `inflight` requests outstanding; each completion issues the next one.
class Load {
 public:
  // `on_finished` runs once, when the last request has completed.
  Load(asyncredis::RedisClient& client, const Options& options, std::function<void()> on_finished)
      : client_(client),
        options_(options),
        key_(options.cached_key
                 ? asyncredis::KeyBuilder(std::string(cached_prefix))(cached_argument)
                 : std::string("key:__rand_int__")),
        value_(static_cast<std::size_t>(options.value_size), 'x'),
        on_finished_(std::move(on_finished)) {
    latencies_.reserve(static_cast<std::size_t>(options.requests / options.latency_every + 1));
  }

  void start() {
    started_ = Clock::now();
    deadline_ = started_ + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(options_.duration));
    const long window =
        options_.timed ? options_.inflight : std::min(options_.inflight, options_.requests);
    for (long i = 0; i < window; ++i) issue();
  }

  // cached-hit and near-hit read through this memoizer; std::nullopt lets go of it (and of
  // its service) once the load is over.
  void use(std::optional<CachedLookup> lookup) { lookup_ = std::move(lookup); }

  bool finished() const { return completed_ == requests(); }
  // --requests, or with --duration the requests issued (final once the time is up).
  long requests() const { return options_.timed ? issued_ : options_.requests; }
  const std::string& key() const { return key_; }
  double seconds() const { return std::chrono::duration<double>(finished_ - started_).count(); }
  long errors() const { return errors_; }
  const std::string& first_error() const { return first_error_; }
  std::vector<std::uint32_t>& latencies_ns() { return latencies_; }

 private:
  struct Done {
    Load* load;
    Clock::time_point sent;
    void finish(std::exception_ptr error) const { load->on_done(error, sent); }
  };

  // The key of the next request: the one key, or a random one of the keyspace (xorshift),
  // written into a buffer as redis-benchmark does (a table of keys would cost a cache miss).
  std::string_view next_key() {
    if (options_.keyspace == 0) return key_;
    random_ ^= random_ << 13;
    random_ ^= random_ >> 7;
    random_ ^= random_ << 17;
    const auto index = random_ % static_cast<std::uint64_t>(options_.keyspace);
    const auto end = std::to_chars(scratch_ + 4, scratch_ + sizeof scratch_, index).ptr;
    return std::string_view(scratch_, static_cast<std::size_t>(end - scratch_));
  }

  void issue() {
    const long n = issued_++;
    const Clock::time_point sent =
        n % options_.latency_every == 0 ? Clock::now() : Clock::time_point();
    Done done{this, sent};
    const std::string_view key = next_key();
    if (options_.command == "get") {
      client_.get(key, [done](std::exception_ptr error, std::optional<std::string>) {
        done.finish(error);
      });
    } else if (lookup_) {
      (*lookup_)(cached_argument,
                 [done](std::exception_ptr error, BenchUser) { done.finish(error); });
    } else {
      client_.set(key, value_, [done](std::exception_ptr error, bool) { done.finish(error); });
    }
  }

  void on_done(std::exception_ptr error, Clock::time_point sent) {
    if (sent != Clock::time_point()) {
      latencies_.push_back(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - sent).count()));
    }
    if (error) {
      if (errors_++ == 0) first_error_ = asyncredis::error_message_of(error);
      if (!options_.tolerate_errors) {
        std::cerr << "asyncredis-bench: request failed: " << asyncredis::error_message_of(error)
                  << " (use --tolerate-errors to keep going)\n";
        std::exit(1);
      }
    }
    ++completed_;
    if (options_.timed) {
      if (Clock::now() < deadline_) {
        issue();
      } else if (completed_ == issued_) {
        finished_ = Clock::now();
        on_finished_();
      }
      return;
    }
    if (completed_ == options_.requests) {
      finished_ = Clock::now();
      on_finished_();
      return;
    }
    if (issued_ < options_.requests) issue();
  }

  asyncredis::RedisClient& client_;
  const Options& options_;
  const std::string key_;
  char scratch_[32] = "key:";  // --keyspace: the key of the request being issued
  std::uint64_t random_ = 0x9E3779B97F4A7C15ull;
  const std::string value_;
  std::function<void()> on_finished_;
  std::optional<CachedLookup> lookup_;
  long issued_ = 0;
  long completed_ = 0;
  long errors_ = 0;
  std::string first_error_;
  Clock::time_point started_, finished_, deadline_;
  std::vector<std::uint32_t> latencies_;
};

double percentile_us(std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[index] / 1000.0;
}

// --command key-build: the mean time of one key for a 3-argument call, without a server.
int key_build(const Options& options) {
  const asyncredis::KeyBuilder builder("bench:user");
  const std::string name = "ada";
  std::size_t checksum = 0;
  const auto started = Clock::now();
  for (long i = 0; i < options.requests; ++i) checksum += builder(i, name, i % 2 == 0)[12];
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - started).count() /
                    static_cast<double>(options.requests);
  std::printf("RESULT client=asyncredis cmd=KEY-BUILD args=3 n=%ld ns_per_key=%.1f check=%zu\n",
              options.requests, ns, checksum % 10);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  if (options.command == "key-build") return key_build(options);
  asio::io_context io(1);
  std::optional<asyncredis::RedisClient> made;
  std::shared_ptr<asyncredis::CommandMetrics> metrics;
  try {
    asyncredis::RedisSettings settings = options.url
                                             ? asyncredis::RedisSettings::from_url(*options.url)
                                             : asyncredis::RedisSettings::from_env();
    settings.max_connections = static_cast<std::size_t>(options.connections);
    if (options.cluster && !settings.is_cluster()) {
      settings.cluster_nodes = {asyncredis::ClusterNode{settings.host, settings.port}};
    }
    if (options.command == "outage") {
      settings.validate();
      return outage_bench(settings, options.requests, options.duration, options.json);
    }
    if (options.command == "pubsub") {
      settings.validate();
      return pubsub_bench(settings, options.requests, options.inflight, options.json);
    }
    if (options.command == "near-staleness") {
      settings.validate();
      return near_staleness_bench(settings, options.requests, options.json);
    }
    settings.command_timeout = std::chrono::seconds(30);
    if (options.histograms) {
      metrics = std::make_shared<asyncredis::CommandMetrics>();
      settings.observer = metrics;
    }
    if (options.sync) {
      return sync_bench(settings, options.command, options.requests, options.threads,
                        options.value_size, options.json);
    }
    made.emplace(io.get_executor(), settings);  // checks the settings
  } catch (const asyncredis::Error& e) {
    usage(e.message());
  }
  asyncredis::RedisClient& client = *made;
  // io.run() (not a run_one() loop), as a service would: Asio's per-thread cache of handler
  // memory lives for one run() call, so a run_one() loop would allocate on every operation.
  std::optional<asyncredis::CacheService> cache;
  std::optional<CachedLookup> lookup;
  // The near cache's tracking keeps a connection of its own (and the io_context busy) until
  // the service is gone.
  std::optional<asyncredis::CacheStats> cache_stats;  // as they were when the load ended
  Load* running = nullptr;
  auto stop = [&] {
    if (cache) cache_stats = cache->stats();
    if (running != nullptr) running->use(std::nullopt);
    lookup.reset();
    cache.reset();
    client.disconnect([](std::exception_ptr) {});
  };
  Load load(client, options, stop);
  running = &load;
  std::string failure;
  const bool through_cache = options.command == "cached-hit" || options.command == "near-hit";
  if (through_cache) {
    asyncredis::CacheOptions cache_options;
    cache_options.near_cache.enabled = options.command == "near-hit";
    cache.emplace(client, cache_options);
    lookup.emplace(
        asyncredis::cached(*cache, std::string(cached_prefix), std::chrono::hours(1),
                           BenchUserLookup{static_cast<std::size_t>(options.value_size)}));
    load.use(*lookup);
  }
  // near-hit: read until the near cache answers (tracking on, the entry kept), then measure.
  std::function<void()> warm_then_start = [&] {
    if (options.command != "near-hit" || cache->stats().near_hits > 0) {
      load.start();
      return;
    }
    (*lookup)(cached_argument, [&](std::exception_ptr error, BenchUser) {
      if (error) {
        failure = asyncredis::error_message_of(error);
        stop();
        return;
      }
      warm_then_start();
    });
  };
  client.connect([&](std::exception_ptr error) {
    if (error) {
      failure = asyncredis::error_message_of(error);
      return;
    }
    // The key exists with a value of the benchmark's size before the clock starts.
    const std::string value(static_cast<std::size_t>(options.value_size), 'x');
    client.set(load.key(), value, [&](std::exception_ptr error, bool) {
      if (error) {
        failure = asyncredis::error_message_of(error);
        stop();
        return;
      }
      if (!through_cache) {
        load.start();
        return;
      }
      // A first call computes and stores the entry: every measured call is a hit.
      cache->del(asyncredis::KeyBuilder(std::string(cached_prefix))(cached_argument),
                 [&](std::exception_ptr error, bool) {
                   if (error) failure = asyncredis::error_message_of(error);
                   BenchUserLookup prime{static_cast<std::size_t>(options.value_size)};
                   asyncredis::cached(*cache, std::string(cached_prefix), std::chrono::hours(1),
                                      prime)(cached_argument,
                                             [&](std::exception_ptr error, BenchUser) {
                                               if (error) {
                                                 failure = asyncredis::error_message_of(error);
                                                 stop();
                                                 return;
                                               }
                                               warm_then_start();
                                             });
                 });
    });
  });
  io.run();
  if (!failure.empty()) {
    std::cerr << "asyncredis-bench: " << failure << "\n";
    return 1;
  }

  auto& latencies = load.latencies_ns();
  std::sort(latencies.begin(), latencies.end());
  const double secs = load.seconds();
  const long requests = load.requests();
  const double ops = static_cast<double>(requests) / secs;
  std::string cmd = options.command == "get"          ? "GET"
                    : options.command == "cached-hit" ? "CACHED-HIT"
                    : options.command == "near-hit"   ? "NEAR-HIT"
                                                      : "SET";
  if (options.json) {
    nlohmann::json out = {{"client", "asyncredis"},
                          {"cmd", cmd},
                          {"inflight", options.inflight},
                          {"connections", options.connections},
                          {"requests", requests},
                          {"secs", secs},
                          {"ops_per_s", ops},
                          {"p50_us", percentile_us(latencies, 0.5)},
                          {"p99_us", percentile_us(latencies, 0.99)},
                          {"p999_us", percentile_us(latencies, 0.999)},
                          {"errors", load.errors()}};
    if (load.errors() > 0) out["first_error"] = load.first_error();
    std::cout << out.dump() << std::endl;
  } else {
    std::printf(
        "RESULT client=asyncredis mode=auto-pipeline cmd=%s param=%ld connections=%ld n=%ld "
        "secs=%.6f ops_per_s=%.1f p50_us=%.1f p99_us=%.1f p999_us=%.1f errors=%ld\n",
        cmd.c_str(), options.inflight, options.connections, requests, secs, ops,
        percentile_us(latencies, 0.5), percentile_us(latencies, 0.99),
        percentile_us(latencies, 0.999), load.errors());
    if (load.errors() > 0) std::printf("first error: %s\n", load.first_error().c_str());
    if (metrics) {  // the histograms saw every request (and the SET before the clock started)
      for (const auto& h : metrics->snapshot()) {
        std::printf("observed command=%s count=%llu\n", h.command.c_str(),
                    static_cast<unsigned long long>(h.count));
      }
    }
    if (cache_stats) {  // every measured call must have been a hit
      const asyncredis::CacheStats& stats = *cache_stats;
      std::printf("cache hits=%llu misses=%llu near_hits=%llu\n",
                  static_cast<unsigned long long>(stats.hits),
                  static_cast<unsigned long long>(stats.misses),
                  static_cast<unsigned long long>(stats.near_hits));
    }
  }
  return 0;
}
