#include "netlink.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <vector>

#include "errors.h"

namespace moat {

namespace {

// A request that gets no answer in this time is a kernel or namespace problem, not something to wait out.
constexpr time_t kReceiveTimeoutSeconds = 5;
constexpr int kNetlinkGetStrictChk = 12;

int DispatchMessage(const nlmsghdr* message, void* data) {
  (*static_cast<const NetlinkMessageHandler*>(data))(message);
  return MNL_CB_OK;
}

}  // namespace

NetlinkSocket::NetlinkSocket(unsigned groups, bool nonblocking) {
  socket_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0));
  if (socket_ == nullptr) throw SysError("mnl_socket_open", errno, "NETLINK_ROUTE");
  timeval timeout{kReceiveTimeoutSeconds, 0};
  if (setsockopt(fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0 ||
      mnl_socket_bind(socket_, groups, MNL_SOCKET_AUTOPID) != 0) {
    int err = errno;
    mnl_socket_close(socket_);
    throw SysError("mnl_socket_bind", err, "NETLINK_ROUTE groups " + std::to_string(groups));
  }
}

NetlinkSocket::~NetlinkSocket() { mnl_socket_close(socket_); }

void NetlinkSocket::EnableStrictCheck() {
  int on = 1;
  if (mnl_socket_setsockopt(socket_, kNetlinkGetStrictChk, &on, sizeof(on)) != 0) {
    throw SysError("setsockopt(NETLINK_GET_STRICT_CHK)", errno, "NETLINK_ROUTE socket");
  }
}

void NetlinkTransact(NetlinkSocket& socket, nlmsghdr* request, const NetlinkMessageHandler& onMessage,
                     const std::string& op, const std::string& subject) {
  static std::atomic<unsigned> sequence{0};
  request->nlmsg_seq = ++sequence;
  // A dump ends with NLMSG_DONE; anything else must be acknowledged so that success is distinguishable from silence.
  if ((request->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP) request->nlmsg_flags |= NLM_F_ACK;
  if (mnl_socket_sendto(socket.get(), request, request->nlmsg_len) < 0) throw SysError(op, errno, subject);
  std::vector<char> buffer(kNetlinkReceiveBuffer);
  for (;;) {
    ssize_t received = mnl_socket_recvfrom(socket.get(), buffer.data(), buffer.size());
    if (received < 0) throw SysError(op, errno == EAGAIN ? ETIMEDOUT : errno, subject);
    int rc = mnl_cb_run(buffer.data(), static_cast<size_t>(received), request->nlmsg_seq, socket.portId(),
                        DispatchMessage, const_cast<NetlinkMessageHandler*>(&onMessage));
    if (rc == MNL_CB_ERROR) throw SysError(op, errno, subject);
    if (rc == MNL_CB_STOP) return;
  }
}

}  // namespace moat
