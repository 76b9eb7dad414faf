// The TCP start-up exchange for groups set up from environment variables (see bootstrap.h).
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ember/core/error.h"
#include "ember/core/log.h"
#include "ember/distributed/transport/bootstrap.h"

namespace ember::distributed::detail {

namespace {

using Clock = std::chrono::steady_clock;

std::string last_error() { return std::strerror(errno); }

// An owned socket.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

void send_all(const Socket& s, const void* data, std::size_t n, int peer) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t sent = ::send(s.fd(), p, n, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    EMBER_CHECK(sent > 0, "distributed: sending to rank ", peer, " failed: ", last_error(),
                " (did that rank exit?)");
    p += sent;
    n -= static_cast<std::size_t>(sent);
  }
}

void recv_all(const Socket& s, void* data, std::size_t n, int peer) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t got = ::recv(s.fd(), p, n, 0);
    if (got < 0 && errno == EINTR) continue;
    EMBER_CHECK(got != 0, "distributed: rank ", peer, " closed its connection (did it exit or fail?)");
    EMBER_CHECK(got > 0, "distributed: receiving from rank ", peer, " failed: ", last_error());
    p += got;
    n -= static_cast<std::size_t>(got);
  }
}

void set_no_delay(const Socket& s) {
  const int one = 1;
  (void)::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// What a rank sends rank 0 first: who it is, and what group it thinks it is in.
struct Hello {
  std::uint32_t magic = 0x454D4252;  // "EMBR"
  std::int32_t rank = 0;
  std::int32_t world_size = 0;
};

class TcpBootstrap final : public Bootstrap {
 public:
  // Rank 0 holds a socket for each other rank (index = rank); the others hold one, to rank 0.
  TcpBootstrap(int rank, int world_size, std::vector<Socket> peers)
      : rank_(rank), world_size_(world_size), peers_(std::move(peers)) {}

  void broadcast_bytes(void* data, std::size_t n, int root) override {
    if (world_size_ == 1) return;
    if (rank_ == 0) {
      if (root != 0) recv_all(peers_[static_cast<std::size_t>(root)], data, n, root);
      for (int r = 1; r < world_size_; ++r) {
        if (r != root) send_all(peers_[static_cast<std::size_t>(r)], data, n, r);
      }
    } else if (rank_ == root) {
      send_all(peers_[0], data, n, 0);
    } else {
      recv_all(peers_[0], data, n, 0);
    }
  }

  void barrier() override {
    char token = 1;
    if (world_size_ == 1) return;
    if (rank_ == 0) {
      for (int r = 1; r < world_size_; ++r) recv_all(peers_[static_cast<std::size_t>(r)], &token, 1, r);
      for (int r = 1; r < world_size_; ++r) send_all(peers_[static_cast<std::size_t>(r)], &token, 1, r);
    } else {
      send_all(peers_[0], &token, 1, 0);
      recv_all(peers_[0], &token, 1, 0);
    }
  }

 private:
  int rank_;
  int world_size_;
  std::vector<Socket> peers_;
};

std::vector<Socket> accept_ranks(int world_size, int port, Clock::time_point deadline) {
  Socket listener(::socket(AF_INET6, SOCK_STREAM, 0));
  const bool v6 = listener.valid();
  if (!v6) listener = Socket(::socket(AF_INET, SOCK_STREAM, 0));
  EMBER_CHECK(listener.valid(), "distributed: rank 0 could not open a socket: ", last_error());
  const int one = 1, zero = 0;
  (void)::setsockopt(listener.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int bound = -1;
  if (v6) {
    (void)::setsockopt(listener.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);  // v4 too
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    addr.sin6_port = htons(static_cast<std::uint16_t>(port));
    bound = ::bind(listener.fd(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    bound = ::bind(listener.fd(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  }
  EMBER_CHECK(bound == 0, "distributed: rank 0 could not listen on MASTER_PORT=", port, ": ",
              last_error(), "; choose a free port");
  EMBER_CHECK(::listen(listener.fd(), world_size) == 0, "distributed: listen failed: ", last_error());

  std::vector<Socket> peers(static_cast<std::size_t>(world_size));
  for (int joined = 1; joined < world_size;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    EMBER_CHECK(left.count() > 0, "distributed: rank 0 timed out waiting for the other ranks: ",
                joined - 1, " of ", world_size - 1, " connected to port ", port);
    pollfd waiting{listener.fd(), POLLIN, 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready <= 0) continue;
    Socket peer(::accept(listener.fd(), nullptr, nullptr));
    if (!peer.valid()) continue;
    Hello hello;
    recv_all(peer, &hello, sizeof hello, -1);
    EMBER_CHECK(hello.magic == Hello{}.magic, "distributed: something that is not an Ember rank "
                "connected to MASTER_PORT=", port);
    EMBER_CHECK(hello.world_size == world_size, "distributed: rank ", hello.rank, " has WORLD_SIZE=",
                hello.world_size, " but rank 0 has ", world_size);
    EMBER_CHECK(hello.rank > 0 && hello.rank < world_size && !peers[static_cast<std::size_t>(hello.rank)].valid(),
                "distributed: two processes claim RANK=", hello.rank, " (or it is out of range)");
    set_no_delay(peer);
    peers[static_cast<std::size_t>(hello.rank)] = std::move(peer);
    ++joined;
  }
  return peers;
}

Socket connect_to_rank0(int rank, int world_size, const std::string& host, int port,
                        Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string service = std::to_string(port);
  for (;;) {
    addrinfo* found = nullptr;
    const int status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
    EMBER_CHECK(status == 0, "distributed: cannot resolve MASTER_ADDR=", host, ": ", gai_strerror(status));
    Socket s;
    for (addrinfo* a = found; a; a = a->ai_next) {
      Socket attempt(::socket(a->ai_family, a->ai_socktype, a->ai_protocol));
      if (attempt.valid() && ::connect(attempt.fd(), a->ai_addr, a->ai_addrlen) == 0) {
        s = std::move(attempt);
        break;
      }
    }
    ::freeaddrinfo(found);
    if (s.valid()) {
      set_no_delay(s);
      const Hello hello{Hello{}.magic, rank, world_size};
      send_all(s, &hello, sizeof hello, 0);
      return s;
    }
    EMBER_CHECK(Clock::now() < deadline, "distributed: rank ", rank, " timed out connecting to rank 0 at ",
                host, ":", port, " (MASTER_ADDR:MASTER_PORT); is rank 0 running?");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // rank 0 may not listen yet
  }
}

}  // namespace

std::unique_ptr<Bootstrap> tcp_bootstrap(int rank, int world_size, const std::string& addr, int port,
                                         std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<Socket> peers;
  if (rank == 0) {
    peers = accept_ranks(world_size, port, deadline);
  } else {
    peers.push_back(connect_to_rank0(rank, world_size, addr, port, deadline));
  }
  logging::debug("distributed: rank {} connected (TCP start-up through {}:{})", rank, addr, port);
  return std::make_unique<TcpBootstrap>(rank, world_size, std::move(peers));
}

}  // namespace ember::distributed::detail
