// SyncSink: a request sink in front of a client's (or a lease's) that lets the blocking call
// submitting a request run the event loop itself until the reply is in.
#pragma once

#include <memory>

#include "asyncredis/detail/request.hpp"
#include "sync/loop_driver.hpp"

namespace asyncredis::detail {

class SyncSink final : public RequestSink {
 public:
  // `inner` must outlive this sink (the SyncClient or SyncLease holds both).
  SyncSink(RequestSink& inner, LoopDriver& driver) : inner_(inner), driver_(driver) {}

  void submit(Request&& request, ReplyHandler&& handler) override {
    inner_.submit(std::move(request), std::move(handler));
    // A use_sync call waiting for this request takes the driver (see SyncWaiter::wait).
    sync_driver_slot() = &driver_;
  }
  boost::asio::any_io_executor executor() const override { return inner_.executor(); }

 private:
  RequestSink& inner_;
  LoopDriver& driver_;
};

}  // namespace asyncredis::detail
