#include "metrics.hpp"

#include <charconv>
#include <iostream>

namespace demo {

namespace {

// A label value: backslash, double quote and newline escaped, as the format requires.
std::string escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Shortest text that reads back as the same double ("5e-05", "0.25", "10").
std::string number(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return ec == std::errc() ? std::string(buffer, end) : std::string("NaN");
}

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // name{label="value",...} value; `labels` already rendered ("" for none).
  void sample(std::string_view name, std::string_view labels, std::string_view value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, std::uint64_t value) {
    sample(name, labels, std::to_string(value));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + escape(value) + "\"";
}

void pools(Writer& w, const std::vector<NamedPool>& pools) {
  struct Gauge {
    const char* name;
    const char* help;
    std::size_t asyncredis::PoolStats::*field;
  };
  const Gauge gauges[] = {
      {"asyncredis_pool_connections", "Multiplexed connections configured.",
       &asyncredis::PoolStats::connections},
      {"asyncredis_pool_connected", "Of those, connections currently up.",
       &asyncredis::PoolStats::connected},
      {"asyncredis_pool_pending_requests", "Requests waiting or on the wire.",
       &asyncredis::PoolStats::pending_requests},
      {"asyncredis_pool_leases", "Exclusive connections currently leased.",
       &asyncredis::PoolStats::leases},
  };
  for (const Gauge& g : gauges) {
    w.family(g.name, "gauge", g.help);
    for (const NamedPool& p : pools) w.sample(g.name, label("client", p.name), p.stats.*g.field);
  }
  w.family("asyncredis_pool_reconnects_total", "counter",
           "Connections re-established after a loss.");
  for (const NamedPool& p : pools) {
    w.sample("asyncredis_pool_reconnects_total", label("client", p.name), p.stats.reconnects);
  }
}

void cache(Writer& w, const asyncredis::CacheStats& s) {
  struct Counter {
    const char* name;
    const char* help;
    std::uint64_t value;
  };
  const Counter counters[] = {
      {"asyncredis_cache_hits_total", "Cache lookups that found a value.", s.hits},
      {"asyncredis_cache_misses_total", "Cache lookups that found nothing.", s.misses},
      {"asyncredis_cache_negative_hits_total", "Cache lookups that found a cached not-found.",
       s.negative_hits},
      {"asyncredis_cache_sets_total", "Cache entries written.", s.sets},
      {"asyncredis_cache_errors_total", "Cache operations that met a Redis failure or a bad value.",
       s.errors},
      {"asyncredis_cache_computations_total", "Values computed on a miss.", s.computations},
      {"asyncredis_cache_waits_total", "Callers that waited for another caller's computation.",
       s.waits},
  };
  for (const Counter& c : counters) {
    w.family(c.name, "counter", c.help);
    w.sample(c.name, "", c.value);
  }
}

void commands(Writer& w, const std::vector<asyncredis::CommandHistogram>& all) {
  const auto bounds = asyncredis::CommandMetrics::bucket_bounds();
  const std::string_view name = "asyncredis_command_duration_seconds";
  w.family(name, "histogram", "Redis command latency, from submit to completion.");
  const std::string bucket = std::string(name) + "_bucket";
  for (const auto& h : all) {
    const std::string command = label("command", h.command);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      cumulative += h.buckets[i];
      const double le = std::chrono::duration<double>(bounds[i]).count();
      w.sample(bucket, command + "," + label("le", number(le)), cumulative);
    }
    w.sample(bucket, command + ",le=\"+Inf\"", h.count);
    w.sample(std::string(name) + "_sum", command,
             number(std::chrono::duration<double>(h.sum).count()));
    w.sample(std::string(name) + "_count", command, h.count);
  }
  w.family("asyncredis_command_errors_total", "counter",
           "Redis commands that failed (error replies included).");
  for (const auto& h : all) {
    w.sample("asyncredis_command_errors_total", label("command", h.command), h.errors);
  }
}

}  // namespace

std::string render_prometheus(const MetricsSources& sources) {
  Writer w;
  pools(w, sources.pools);
  cache(w, sources.cache);
  w.family("demo_rate_limit_decisions_total", "counter", "Rate-limit checks, by their answer.");
  w.sample("demo_rate_limit_decisions_total", label("decision", "allowed"), sources.rate_allowed);
  w.sample("demo_rate_limit_decisions_total", label("decision", "denied"), sources.rate_denied);
  commands(w, sources.commands);
  return w.take();
}

void StderrLogger::log(asyncredis::LogLevel level, std::string_view message,
                       std::span<const asyncredis::LogField> fields) noexcept {
  try {
    std::string line = "http_service: redis ";
    line += asyncredis::to_string(level);
    line += ": ";
    line += message;
    for (const asyncredis::LogField& f : fields) {
      line += ' ';
      line += f.name;
      line += "=\"";
      line += escape(f.value);
      line += '"';
    }
    line += '\n';
    std::lock_guard lock(mutex_);
    std::cerr << line << std::flush;
  } catch (...) {
    // Out of memory: the record is lost, the service goes on.
  }
}

}  // namespace demo
