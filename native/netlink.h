// A libmnl rtnetlink socket and a request/dump loop. The socket lives in the network namespace of the thread that
// opened it, which is how RunInNetns gives netlink requests a namespace without touching Node's threads.
#pragma once

#include <libmnl/libmnl.h>

#include <functional>
#include <string>

namespace moat {

class NetlinkSocket {
 public:
  // groups: legacy RTMGRP_* bitmask to subscribe to (0 for request/reply use). nonblocking for event loops.
  NetlinkSocket(unsigned groups, bool nonblocking);
  ~NetlinkSocket();
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  // Makes the kernel validate request headers and honour filter attributes such as IFA_TARGET_NETNSID, instead of
  // silently ignoring what it does not check.
  void EnableStrictCheck();
  int fd() const { return mnl_socket_get_fd(socket_); }
  unsigned portId() const { return mnl_socket_get_portid(socket_); }
  mnl_socket* get() const { return socket_; }

 private:
  mnl_socket* socket_;
};

// Dump replies fill up to 32 KiB per datagram (libmnl 1.0.4 predates MNL_SOCKET_DUMP_SIZE); a smaller buffer
// would truncate them.
constexpr size_t kNetlinkReceiveBuffer = 32768;

using NetlinkMessageHandler = std::function<void(const nlmsghdr* message)>;

// Sends request (its nlmsg_seq is set here) and hands every reply message to onMessage until the dump ends or the
// request is acknowledged. A netlink error becomes a SysError with op and subject.
void NetlinkTransact(NetlinkSocket& socket, nlmsghdr* request, const NetlinkMessageHandler& onMessage,
                     const std::string& op, const std::string& subject);

}  // namespace moat
