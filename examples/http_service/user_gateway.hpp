// A slow, in-memory stand-in for the user database the seed's GetUserQuery reads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

namespace demo {

struct User {
  std::string id;
  std::string name;
  std::string email;

  friend void to_json(nlohmann::json& j, const User& u) {
    j = {{"id", u.id}, {"name", u.name}, {"email", u.email}};
  }
  friend void from_json(const nlohmann::json& j, User& u) {
    j.at("id").get_to(u.id);
    j.at("name").get_to(u.name);
    j.at("email").get_to(u.email);
  }
};

class UserGateway {
 public:
  explicit UserGateway(std::chrono::milliseconds latency) : latency_(latency) {}

  // Looks the user up, taking `latency` like a real database round trip.
  boost::asio::awaitable<std::optional<User>> load(std::string id);
  void update(const User& user);
  // How many times load() ran for `id`: a request during which it grew was a cache miss.
  std::uint64_t loads(const std::string& id) const;

 private:
  std::chrono::milliseconds latency_;
  mutable std::mutex mutex_;
  std::map<std::string, User> users_;
  std::map<std::string, std::uint64_t> loads_;
};

}  // namespace demo
