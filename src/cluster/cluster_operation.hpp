// One request's journey through a cluster: planned into pieces (request_plan.hpp), the pieces
// for one node sent as one write, each piece followed through MOVED (to the new owner, the map
// updated), ASK (ASKING and the command to the importing node, once), TRYAGAIN and CLUSTERDOWN
// (again after a pause, until the request's deadline), then the replies merged back into the
// caller's, in the caller's order.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "asyncredis/detail/request.hpp"
#include "cluster/request_plan.hpp"
#include "net/backoff.hpp"

namespace asyncredis::detail {

class ClusterCore;
class ClientCore;
struct ClusterRoutes;

// The pieces one write to one node carries (usually one).
using PieceList = boost::container::small_vector<std::uint32_t, 2>;

class ClusterOperation : public std::enable_shared_from_this<ClusterOperation> {
 public:
  using Clock = std::chrono::steady_clock;
  // Deadlines are read from the coarse clock (a few ms of resolution, a fraction of the
  // cost): a request's deadline only matters when it is sent again.
  static Clock::time_point coarse_now() noexcept;

  // Plans and sends `request`; `handler` gets the caller's reply, or the first failure of any
  // piece (a request on the wire to a node that died fails with connection_lost).
  static void start(std::shared_ptr<ClusterCore> core, Request&& request, ReplyHandler&& handler);

  ClusterOperation(std::shared_ptr<ClusterCore> core, const Request& request,
                   ReplyHandler&& handler, Plan&& plan);

 private:
  void send_all(const ClusterRoutes& routes);
  void send(const std::shared_ptr<ClientCore>& pool, PieceList pieces, bool asking);
  // Whether the node's replies come as one array (several pieces, or a transaction's).
  bool wrapped(const PieceList& pieces, bool asking) const;
  void route_one(std::uint32_t piece, const ClusterRoutes& routes);
  void on_replies(const PieceList& pieces, bool wrapped, const std::string& asked_host,
                  std::exception_ptr error, Reply&& reply);
  void examine(std::uint32_t piece, const std::string& asked_host, Reply&& reply);
  // Sends the piece again after a pause; out of time, the caller gets `reply`, or `error`.
  void later(std::uint32_t piece, Reply&& reply, std::exception_ptr error = nullptr);
  void done(std::uint32_t piece, Reply&& reply);
  void failed(std::uint32_t piece, std::exception_ptr error);
  void finish();
  std::chrono::milliseconds time_left() const;

  const std::shared_ptr<ClusterCore> core_;
  ReplyHandler handler_;
  Plan plan_;
  const Deliver deliver_;
  const bool retry_on_reconnect_;
  const bool check_commands_;
  const Clock::time_point deadline_;
  PieceReplies replies_;
  boost::container::small_vector<int, 1> hops_;  // redirections per piece
  std::atomic<std::size_t> pending_;
  std::mutex mutex_;  // error_, backoff_
  std::exception_ptr error_;
  std::optional<Backoff> backoff_;  // made at the first TRYAGAIN: most requests never need one
};

}  // namespace asyncredis::detail
