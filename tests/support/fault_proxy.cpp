#include "support/fault_proxy.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <future>
#include <stdexcept>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "support/redis_server.hpp"

namespace asyncredis::test {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// One client connection and its connection to the server: two pumps, one per direction, each
// reading, then holding, splitting and pacing what it read as the faults say. Lives on the
// proxy's thread only.
class FaultProxy::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(FaultProxy& proxy, std::size_t id, tcp::socket client, bool blackholed)
      : proxy_(proxy),
        id_(id),
        client_(std::move(client)),
        server_(proxy.io_),
        timers_{asio::steady_timer(proxy.io_), asio::steady_timer(proxy.io_)},
        blackholed_(blackholed) {}

  void start() { asio::co_spawn(proxy_.io_, run(shared_from_this()), asio::detached); }

  // `reset`: RST to both peers (SO_LINGER 0), else an orderly close.
  void close(bool reset) {
    if (closed_) return;
    closed_ = true;
    // Counted first: a test that sees the reset may look at resets() straight away.
    if (reset) ++proxy_.resets_;
    for (tcp::socket* socket : {&client_, &server_}) {
      boost::system::error_code ignored;
      if (reset && socket->is_open())
        socket->set_option(asio::socket_base::linger(true, 0), ignored);
      socket->close(ignored);
    }
    for (auto& timer : timers_) timer.cancel();
    proxy_.forget(id_);
  }

  void set_blackholed(bool on) {
    blackholed_ = on;
    wake();
  }

  void set_latency(std::chrono::milliseconds delay, Direction direction) {
    if (direction != Direction::to_client) latency_[0] = delay;
    if (direction != Direction::to_server) latency_[1] = delay;
    wake();
  }

  // A fault changed: pumps waiting for a blackhole to lift, or sleeping, look again.
  void wake() {
    for (auto& timer : timers_) timer.cancel();
  }

  // Bytes sent towards `way` that are not forwarded yet: read and held by a fault, or still in
  // the socket, unread (a blackholed pump does not read).
  std::size_t held(int way) {
    boost::system::error_code ignored;
    tcp::socket& from = way == 0 ? client_ : server_;
    const std::size_t unread = from.is_open() ? from.available(ignored) : 0;
    return flows_[way].unsent + unread;
  }

 private:
  static constexpr std::size_t kBuffer = 64 * 1024;

  // Per direction: 0 towards the server, 1 towards the client.
  struct Flow {
    std::uint64_t forwarded = 0;
    std::uint64_t drop_base = 0;  // `forwarded` when the current drop rule was first seen
    std::uint64_t drop_epoch = 0;
    Clock::time_point next_send{};  // bandwidth pacing
    std::size_t unsent = 0;         // of the last read, not written yet
  };

  static asio::awaitable<void> run(std::shared_ptr<Session> self) {
    const auto target =
        tcp::endpoint(asio::ip::make_address(self->proxy_.target_host_), self->proxy_.target_port_);
    auto [ec] = co_await self->server_.async_connect(target, use_tuple);
    if (ec || self->closed_) {
      self->close(false);  // the server is down: the client sees its connection closed
      co_return;
    }
    boost::system::error_code ignored;
    self->client_.set_option(tcp::no_delay(true), ignored);
    self->server_.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(self->proxy_.io_, pump(self, 0), asio::detached);
    asio::co_spawn(self->proxy_.io_, pump(self, 1), asio::detached);
  }

  bool blackholed() const { return blackholed_ || proxy_.blackholed_all(); }

  // Sleeps until `until`, or as long as the connection is blackholed; false once closed.
  asio::awaitable<bool> hold(int way, Clock::time_point until) {
    while (!closed_ && (blackholed() || Clock::now() < until)) {
      const bool held = blackholed();
      // A held pump reads nothing, so it would never see its peer leave: it looks every 10 ms,
      // and a peer that hung up ends the session (tests watch clients drop stalled connections).
      timers_[way].expires_at(held ? Clock::now() + std::chrono::milliseconds(10) : until);
      co_await timers_[way].async_wait(use_tuple);
      if (held && !closed_ && hung_up(way == 0 ? client_ : server_)) {
        close(false);
        co_return false;
      }
    }
    co_return !closed_;
  }

  // The peer closed or reset its end, even with unread bytes still queued before its FIN.
  static bool hung_up(tcp::socket& socket) {
    pollfd poller{socket.native_handle(), POLLRDHUP, 0};
    return ::poll(&poller, 1, 0) == 1 && (poller.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

  static asio::awaitable<void> pump(std::shared_ptr<Session> self, int way) {
    tcp::socket& from = way == 0 ? self->client_ : self->server_;
    tcp::socket& to = way == 0 ? self->server_ : self->client_;
    const Direction direction = way == 0 ? Direction::to_server : Direction::to_client;
    auto& counter = way == 0 ? self->proxy_.to_server_bytes_ : self->proxy_.to_client_bytes_;
    Flow& flow = self->flows_[way];
    std::vector<char> buffer(kBuffer);
    for (;;) {
      // A blackholed connection does not even read: the peer's bytes wait in the kernel.
      if (!co_await self->hold(way, {})) co_return;
      auto [read_error, size] = co_await from.async_read_some(asio::buffer(buffer), use_tuple);
      if (read_error || self->closed_) {
        self->close(false);
        co_return;
      }
      const auto arrived = Clock::now();
      flow.unsent = size;
      std::size_t offset = 0;
      while (offset < size) {
        const Faults faults = self->proxy_.faults(direction);
        if (!co_await self->hold(way, arrived + faults.latency + self->latency_[way])) co_return;
        std::size_t piece = size - offset;
        if (faults.chunk > 0) piece = std::min(piece, faults.chunk);
        if (faults.drop) {
          if (flow.drop_epoch != faults.drop_epoch) {
            flow.drop_epoch = faults.drop_epoch;
            flow.drop_base = flow.forwarded;
          }
          const std::uint64_t used = flow.forwarded - flow.drop_base;
          if (used >= faults.drop_after) {
            self->close(true);
            co_return;
          }
          piece =
              static_cast<std::size_t>(std::min<std::uint64_t>(piece, faults.drop_after - used));
        }
        Clock::time_point start = Clock::now();
        if (faults.bandwidth > 0) {
          // About 10 ms worth per write, so the cap holds over short spans too.
          piece = std::min(piece, std::max<std::size_t>(1, faults.bandwidth / 100));
          start = std::max(flow.next_send, start);
          if (!co_await self->hold(way, start)) co_return;
        }
        // Counted before the write: a peer that has received these bytes finds them counted.
        counter += piece;
        auto [write_error, written] =
            co_await asio::async_write(to, asio::buffer(buffer.data() + offset, piece), use_tuple);
        if (write_error || self->closed_) {
          counter -= piece - written;
          self->close(false);
          co_return;
        }
        offset += piece;
        flow.unsent = size - offset;
        flow.forwarded += piece;
        if (faults.bandwidth > 0) {
          flow.next_send =
              start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                          static_cast<double>(piece) / static_cast<double>(faults.bandwidth)));
        }
        if (faults.drop && flow.forwarded - flow.drop_base >= faults.drop_after) {
          self->close(true);
          co_return;
        }
      }
    }
  }

  FaultProxy& proxy_;
  const std::size_t id_;
  tcp::socket client_;
  tcp::socket server_;
  std::array<asio::steady_timer, 2> timers_;
  std::array<Flow, 2> flows_{};
  bool blackholed_;
  std::chrono::milliseconds latency_[2]{};  // this connection's own, per way
  bool closed_ = false;
};

// ---- FaultProxy -------------------------------------------------------------------------

FaultProxy::FaultProxy(std::uint16_t target_port, std::string target_host)
    : target_host_(std::move(target_host)),
      target_port_(target_port),
      work_(io_.get_executor()),
      acceptor_(io_) {
  // A port outside the ephemeral range (free_port()): while the proxy is not listening, a
  // reconnecting client can never be handed this port as its own source port and connect to
  // itself.
  for (int attempt = 0;; ++attempt) {
    port_ = free_port();
    try {
      open_acceptor();
      break;
    } catch (const boost::system::system_error&) {
      if (attempt == 9) throw;
    }
  }
  accept_one();
  thread_ = std::thread([this] { io_.run(); });
}

FaultProxy::~FaultProxy() {
  on_proxy_thread([this] {
    ++accept_generation_;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    auto sessions = sessions_;  // close() erases from sessions_
    for (auto& [id, session] : sessions) session->close(false);
  });
  work_.reset();
  io_.stop();  // coroutines still unwinding are destroyed with io_
  thread_.join();
}

RedisSettings FaultProxy::settings(RedisSettings base) const {
  base.host = "127.0.0.1";
  base.port = port_;
  base.unix_socket.clear();
  return base;
}

void FaultProxy::on_proxy_thread(const std::function<void()>& task) const {
  if (std::this_thread::get_id() == thread_.get_id()) {
    task();
    return;
  }
  std::promise<void> done;
  asio::post(work_.get_executor(), [&] {
    try {
      task();
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  done.get_future().get();
}

void FaultProxy::open_acceptor() {
  tcp::acceptor acceptor(io_);
  const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port_);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
  acceptor_ = std::move(acceptor);
}

void FaultProxy::accept_one() {
  // A completion of a closed acceptor's accept may still be queued when a new acceptor opens:
  // the generation keeps it from starting a second accept loop.
  acceptor_.async_accept(
      [this, generation = accept_generation_](boost::system::error_code ec, tcp::socket socket) {
        if (generation != accept_generation_ || ec == asio::error::operation_aborted) return;
        if (!ec) {
          Refuse refuse;
          bool blackholed = false;
          {
            std::lock_guard lock(mutex_);
            refuse = config_.refuse;
            if (refuse == Refuse::no && config_.blackhole_next > 0) {
              --config_.blackhole_next;
              blackholed = true;
            }
          }
          ++accepted_;
          if (refuse == Refuse::no) {
            const std::size_t id = next_id_++;
            auto session = std::make_shared<Session>(*this, id, std::move(socket), blackholed);
            sessions_.emplace(id, session);
            session->start();
          } else {
            ++resets_;  // before the reset, which a test may see at once
            boost::system::error_code ignored;
            socket.set_option(asio::socket_base::linger(true, 0), ignored);
            socket.close(ignored);
          }
        }
        accept_one();
      });
}

void FaultProxy::forget(std::size_t id) {
  sessions_.erase(id);
}

FaultProxy::Faults FaultProxy::faults(Direction direction) const {
  std::lock_guard lock(mutex_);
  return direction == Direction::to_server ? config_.to_server : config_.to_client;
}

bool FaultProxy::blackholed_all() const {
  std::lock_guard lock(mutex_);
  return config_.blackhole_all;
}

void FaultProxy::wake_sessions() {
  asio::post(io_, [this] {
    for (auto& [id, session] : sessions_) session->wake();
  });
}

template <class Change>
void FaultProxy::change(Direction direction, Change apply) {
  {
    std::lock_guard lock(mutex_);
    if (direction != Direction::to_client) apply(config_.to_server);
    if (direction != Direction::to_server) apply(config_.to_client);
  }
  wake_sessions();
}

void FaultProxy::set_latency(std::chrono::milliseconds delay, Direction direction) {
  change(direction, [&](Faults& f) { f.latency = delay; });
}

void FaultProxy::set_chunk_size(std::size_t bytes, Direction direction) {
  change(direction, [&](Faults& f) { f.chunk = bytes; });
}

void FaultProxy::set_bandwidth(std::size_t bytes_per_second, Direction direction) {
  change(direction, [&](Faults& f) { f.bandwidth = bytes_per_second; });
}

void FaultProxy::drop_after(std::size_t bytes, Direction direction) {
  change(direction, [&](Faults& f) {
    f.drop = true;
    f.drop_after = bytes;
    ++f.drop_epoch;
  });
}

void FaultProxy::clear_drop() {
  change(Direction::both, [](Faults& f) { f.drop = false; });
}

void FaultProxy::reset_all() {
  on_proxy_thread([this] {
    auto sessions = sessions_;
    for (auto& [id, session] : sessions) session->close(true);
  });
}

bool FaultProxy::reset(std::size_t id) {
  bool found = false;
  on_proxy_thread([&] {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    found = true;
    auto session = it->second;
    session->close(true);
  });
  return found;
}

void FaultProxy::refuse(Refuse mode) {
  on_proxy_thread([&] {
    {
      std::lock_guard lock(mutex_);
      config_.refuse = mode;
    }
    if (mode == Refuse::not_listening && acceptor_.is_open()) {
      ++accept_generation_;
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    } else if (mode != Refuse::not_listening && !acceptor_.is_open()) {
      open_acceptor();
      ++accept_generation_;
      accept_one();
    }
  });
}

void FaultProxy::blackhole(bool on) {
  {
    std::lock_guard lock(mutex_);
    config_.blackhole_all = on;
  }
  wake_sessions();
}

void FaultProxy::blackhole_next(std::size_t count) {
  std::lock_guard lock(mutex_);
  config_.blackhole_next = count;
}

bool FaultProxy::set_connection_latency(std::size_t id, std::chrono::milliseconds delay,
                                        Direction direction) {
  bool found = false;
  on_proxy_thread([&] {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    found = true;
    it->second->set_latency(delay, direction);
  });
  return found;
}

bool FaultProxy::blackhole_connection(std::size_t id, bool on) {
  bool found = false;
  on_proxy_thread([&] {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    found = true;
    it->second->set_blackholed(on);
  });
  return found;
}

void FaultProxy::clear() {
  refuse(Refuse::no);
  {
    std::lock_guard lock(mutex_);
    const auto to_server_epoch = config_.to_server.drop_epoch;
    const auto to_client_epoch = config_.to_client.drop_epoch;
    config_ = Config{};
    config_.to_server.drop_epoch = to_server_epoch;
    config_.to_client.drop_epoch = to_client_epoch;
  }
  on_proxy_thread([this] {
    for (auto& [id, session] : sessions_) session->set_blackholed(false);
  });
}

std::vector<std::size_t> FaultProxy::connection_ids() const {
  std::vector<std::size_t> ids;
  on_proxy_thread([&] {
    for (const auto& [id, session] : sessions_) ids.push_back(id);
  });
  return ids;
}

std::size_t FaultProxy::bytes_held(Direction direction) const {
  std::size_t held = 0;
  on_proxy_thread([&] {
    for (const auto& [id, session] : sessions_) {
      if (direction != Direction::to_client) held += session->held(0);
      if (direction != Direction::to_server) held += session->held(1);
    }
  });
  return held;
}

std::uint64_t FaultProxy::bytes_forwarded(Direction direction) const noexcept {
  switch (direction) {
    case Direction::to_server:
      return to_server_bytes_.load();
    case Direction::to_client:
      return to_client_bytes_.load();
    case Direction::both:
      break;
  }
  return to_server_bytes_.load() + to_client_bytes_.load();
}

}  // namespace asyncredis::test
