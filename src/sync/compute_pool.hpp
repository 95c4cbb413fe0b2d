// ComputePool: the threads a SyncCache runs its blocking computations on.
#pragma once

#include <cstddef>

#include <boost/asio/thread_pool.hpp>

namespace asyncredis::detail {

class ComputePool {
 public:
  explicit ComputePool(std::size_t threads) : pool_(threads) {}
  // Lets the computations under way finish, then joins the threads.
  ~ComputePool() { pool_.join(); }

  boost::asio::thread_pool::executor_type executor() noexcept { return pool_.get_executor(); }

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace asyncredis::detail
