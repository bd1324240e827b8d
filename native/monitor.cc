#include "monitor.h"

#include <linux/rtnetlink.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "errors.h"
#include "js_util.h"
#include "netlink.h"
#include "netns.h"
#include "poll_watcher.h"
#include "rtnl.h"

namespace moat {

namespace {

constexpr unsigned kGroups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
// Bounds the work done per wake-up so a flood of events cannot starve the rest of the event loop.
constexpr int kMaxReadsPerWakeup = 64;

class NetlinkMonitorHandle : public Napi::ObjectWrap<NetlinkMonitorHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NetlinkMonitorHandle", {InstanceMethod("close", &NetlinkMonitorHandle::Close)});
  }

  explicit NetlinkMonitorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetlinkMonitorHandle>(info) {
    std::string netns = OptionalStringArg(info, 0, "netns");
    if (!info[1].IsFunction()) throw Napi::TypeError::New(info.Env(), "onEvent must be a function");
    onEvent_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(info.Env(), "moat:netlink");
    Guarded(info.Env(), [&]() {
      RunInNetns(netns, [&]() { socket_ = std::make_unique<NetlinkSocket>(kGroups, true); });
      watcher_ = std::make_unique<PollWatcher>(info.Env(), socket_->fd(), [this](int status) {
        if (status == 0) Drain();
      });
    });
    Ref();
  }

 private:
  void Drain() {
    std::vector<char> buffer(kNetlinkReceiveBuffer);
    for (int reads = 0; reads < kMaxReadsPerWakeup && socket_; ++reads) {
      ssize_t received = mnl_socket_recvfrom(socket_->get(), buffer.data(), buffer.size());
      if (received < 0) {
        // The kernel dropped events because we fell behind: only a full re-list can recover the state.
        if (errno == ENOBUFS) Emit(Event("overflow"));
        if (errno == ENOBUFS || errno == EINTR) continue;
        return;
      }
      int remaining = static_cast<int>(received);
      for (const nlmsghdr* message = reinterpret_cast<const nlmsghdr*>(buffer.data());
           mnl_nlmsg_ok(message, remaining) && socket_; message = mnl_nlmsg_next(message, &remaining)) {
        Dispatch(message);
      }
    }
  }

  void Dispatch(const nlmsghdr* message) {
    Napi::Env env = Env();
    switch (message->nlmsg_type) {
      case RTM_NEWLINK:
      case RTM_DELLINK: {
        Napi::Object event = Event(message->nlmsg_type == RTM_NEWLINK ? "newlink" : "dellink");
        event.Set("link", LinkToJs(env, ParseLink(message)));
        Emit(event);
        break;
      }
      case RTM_NEWADDR:
      case RTM_DELADDR: {
        AddrRecord addr = ParseAddr(message);
        if (addr.address.empty()) break;
        Napi::Object event = Event(message->nlmsg_type == RTM_NEWADDR ? "newaddr" : "deladdr");
        event.Set("addr", AddrToJs(env, addr));
        Emit(event);
        break;
      }
      default:
        break;
    }
  }

  Napi::Object Event(const char* type) {
    Napi::Object event = Napi::Object::New(Env());
    event.Set("type", type);
    return event;
  }

  void Emit(Napi::Object event) { CallFromLoop(Env(), onEvent_, *context_, {event}); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (socket_) {
      watcher_.reset();
      socket_.reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  Napi::FunctionReference onEvent_;
  std::unique_ptr<Napi::AsyncContext> context_;
  std::unique_ptr<NetlinkSocket> socket_;
  std::unique_ptr<PollWatcher> watcher_;
};

}  // namespace

void InitMonitor(Napi::Env env, Napi::Object exports) {
  exports.Set("NetlinkMonitorHandle", NetlinkMonitorHandle::Define(env));
}

}  // namespace moat
