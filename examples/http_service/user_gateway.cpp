#include "user_gateway.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace demo {

boost::asio::awaitable<std::optional<User>> UserGateway::load(std::string id) {
  boost::asio::steady_timer delay(co_await boost::asio::this_coro::executor, latency_);
  co_await delay.async_wait(boost::asio::use_awaitable);
  std::lock_guard lock(mutex_);
  ++loads_[id];
  auto it = users_.find(id);
  if (it == users_.end()) co_return std::nullopt;
  co_return it->second;
}

void UserGateway::update(const User& user) {
  std::lock_guard lock(mutex_);
  users_[user.id] = user;
}

std::uint64_t UserGateway::loads(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = loads_.find(id);
  return it == loads_.end() ? 0 : it->second;
}

}  // namespace demo
