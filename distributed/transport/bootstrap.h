// Start-up exchange between ranks: what NCCL needs before it can run (its identifier, sent from
// rank 0 to all) and a host barrier. Collectives on tensors never go through here.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace ember::distributed::detail {

class Bootstrap {
 public:
  virtual ~Bootstrap() = default;
  // Every rank passes a buffer of n bytes; afterwards all hold root's bytes.
  virtual void broadcast_bytes(void* data, std::size_t n, int root) = 0;
  virtual void barrier() = 0;
};

// Rank 0 listens on `port` and every other rank connects to addr:port (retrying until `timeout`),
// keeping one TCP connection per rank for the group's life. A star: start-up traffic is tiny.
std::unique_ptr<Bootstrap> tcp_bootstrap(int rank, int world_size, const std::string& addr, int port,
                                         std::chrono::seconds timeout);

}  // namespace ember::distributed::detail
