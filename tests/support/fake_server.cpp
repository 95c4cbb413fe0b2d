#include "support/fake_server.hpp"

#include <algorithm>
#include <cctype>
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
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Reads one "<prefix><number>\r\n" line at `pos`; false if incomplete. Throws on bad input.
bool read_number(const std::string& in, std::size_t& pos, char prefix, std::size_t& value) {
  const std::size_t end = in.find("\r\n", pos);
  if (end == std::string::npos) return false;
  if (in[pos] != prefix) throw std::runtime_error("fake server: unexpected request bytes");
  value = std::stoul(in.substr(pos + 1, end - pos - 1));
  pos = end + 2;
  return true;
}

// Takes one complete command (an array of bulk strings) off the front of `in`.
std::optional<FakeServer::Command> take_command(std::string& in) {
  std::size_t pos = 0, count = 0;
  if (in.empty() || !read_number(in, pos, '*', count)) return std::nullopt;
  FakeServer::Command command;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t length = 0;
    if (pos >= in.size() || !read_number(in, pos, '$', length)) return std::nullopt;
    if (in.size() < pos + length + 2) return std::nullopt;
    command.push_back(in.substr(pos, length));
    pos += length + 2;
  }
  in.erase(0, pos);
  return command;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

FakeReply honest(const FakeServer::Command& command) {
  const std::string name = command.empty() ? std::string() : upper(command[0]);
  if (name == "PING") return {"+PONG\r\n"};
  if (name == "ECHO" && command.size() == 2) {
    return {"$" + std::to_string(command[1].size()) + "\r\n" + command[1] + "\r\n"};
  }
  return {"+OK\r\n"};
}

}  // namespace

// One client connection: reads commands and writes the script's answers, one after another.
class FakeServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(FakeServer& server, std::size_t id, tcp::socket socket)
      : server_(server), id_(id), socket_(std::move(socket)), timer_(server.io_) {}

  void start() { asio::co_spawn(server_.io_, run(shared_from_this()), asio::detached); }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
  }

  void send_now(std::string bytes) {
    auto data = std::make_shared<std::string>(std::move(bytes));
    asio::async_write(
        socket_, asio::buffer(*data),
        [this, self = shared_from_this(), data](boost::system::error_code ec, std::size_t n) {
          if (!ec) server_.bytes_sent_ += n;
        });
  }

 private:
  static asio::awaitable<void> run(std::shared_ptr<Session> self) {
    ++self->server_.open_;
    co_await self->serve();
    self->close();
    --self->server_.open_;
    self->server_.sessions_.erase(self->id_);
  }

  asio::awaitable<void> serve() {
    std::string in;
    std::vector<char> buffer(16 * 1024);
    for (;;) {
      auto [read_error, n] = co_await socket_.async_read_some(asio::buffer(buffer), use_tuple);
      if (read_error) co_return;
      in.append(buffer.data(), n);
      for (;;) {
        std::optional<Command> command;
        try {
          command = take_command(in);
        } catch (const std::exception&) {
          co_return;  // not a client of ours
        }
        if (!command) break;
        ++server_.commands_;
        std::optional<FakeReply> reply;
        if (server_.script_) reply = server_.script_(*command, id_);
        if (!reply) reply = honest(*command);
        if (!co_await answer(*reply)) co_return;
      }
    }
  }

  // False once the connection is over.
  asio::awaitable<bool> answer(const FakeReply& reply) {
    if (!co_await write(reply.bytes)) co_return false;
    std::string filler;
    if (reply.trickle > 0 && !reply.filler.empty()) {
      do {
        filler += reply.filler;
      } while (filler.size() < reply.piece);
    }
    for (std::uint64_t left = filler.empty() ? 0 : reply.trickle; left > 0;) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, filler.size()));
      if (!co_await write(std::string_view(filler.data(), n))) co_return false;
      if (left != FakeReply::endless) left -= n;
      if (reply.interval.count() > 0) {
        timer_.expires_after(reply.interval);
        co_await timer_.async_wait(use_tuple);
        if (!socket_.is_open()) co_return false;
      }
    }
    co_return !reply.close;
  }

  asio::awaitable<bool> write(std::string_view bytes) {
    if (bytes.empty()) co_return socket_.is_open();
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes), use_tuple);
    server_.bytes_sent_ += n;
    co_return !ec;
  }

  FakeServer& server_;
  const std::size_t id_;
  tcp::socket socket_;
  asio::steady_timer timer_;
};

FakeServer::FakeServer(Script script)
    : script_(std::move(script)), work_(io_.get_executor()), acceptor_(io_) {
  for (int attempt = 0;; ++attempt) {
    try {
      const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), free_port());
      tcp::acceptor acceptor(io_);
      acceptor.open(endpoint.protocol());
      acceptor.set_option(asio::socket_base::reuse_address(true));
      acceptor.bind(endpoint);
      acceptor.listen();
      acceptor_ = std::move(acceptor);
      port_ = endpoint.port();
      break;
    } catch (const boost::system::system_error&) {
      if (attempt == 9) throw;
    }
  }
  accept_one();
  thread_ = std::thread([this] { io_.run(); });
}

FakeServer::~FakeServer() {
  std::promise<void> closed;
  asio::post(io_, [&] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    auto sessions = sessions_;
    for (auto& [id, session] : sessions) session->close();
    closed.set_value();
  });
  closed.get_future().wait();
  work_.reset();
  io_.stop();  // sessions still unwinding are destroyed with io_
  thread_.join();
}

RedisSettings FakeServer::settings() const {
  RedisSettings settings;
  settings.host = "127.0.0.1";
  settings.port = port_;
  settings.connect_timeout = 1s;
  settings.command_timeout = 2s;
  settings.health_check_interval = 0ms;
  settings.reconnect_min_delay = 10ms;
  settings.reconnect_max_delay = 50ms;
  return settings;
}

void FakeServer::accept_one() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      ++accepted_;
      const std::size_t id = next_id_++;
      auto session = std::make_shared<Session>(*this, id, std::move(socket));
      sessions_.emplace(id, session);
      session->start();
    }
    accept_one();
  });
}

void FakeServer::broadcast(std::string bytes) {
  std::promise<void> sent;
  asio::post(io_, [&] {
    for (auto& [id, session] : sessions_) session->send_now(bytes);
    sent.set_value();
  });
  sent.get_future().wait();
}

std::string FakeServer::garbage() {
  static constexpr char bytes[] = "HTTP/1.1 400 Bad Request\r\n\r\n\x00\xff\x13\x37";
  return std::string(bytes, sizeof bytes - 1);  // NUL included
}

std::string FakeServer::nested_arrays(int depth) {
  std::string out;
  for (int i = 0; i < depth; ++i) out += "*1\r\n";
  out += ":1\r\n";
  return out;
}

std::string FakeServer::bulk_header(std::uint64_t length) {
  return "$" + std::to_string(length) + "\r\n";
}

}  // namespace asyncredis::test
