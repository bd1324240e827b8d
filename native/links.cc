// BPF links. libbpf 1.1 predates TCX and netfilter links: TCX goes through bpf_link_create's generic branch (the
// kernel reads the ifindex from target_fd), netfilter needs its own attribute layout (see KERNEL-NOTES §1-2).
#include "links.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"
#include "js_util.h"
#include "netns.h"

namespace moat {

namespace {

constexpr uint32_t kAttachNetfilter = 45;
constexpr uint32_t kLinkTypeXdp = 6;
constexpr uint32_t kLinkTypeNetfilter = 10;
constexpr uint32_t kLinkTypeTcx = 11;

// bpf_attr.link_create for netfilter links (kernel >= 6.4); the uapi header of this system stops before it.
struct NetfilterLinkCreateAttr {
  uint32_t progFd;
  uint32_t targetFd;
  uint32_t attachType;
  uint32_t flags;
  uint32_t pf;
  uint32_t hooknum;
  int32_t priority;
  uint32_t netfilterFlags;
};
static_assert(sizeof(NetfilterLinkCreateAttr) <= sizeof(bpf_attr), "bpf_attr holds link_create.netfilter");

// struct bpf_link_info as of kernel 6.18: the union starts 8-byte aligned after type/id/prog_id.
struct LinkInfoHead {
  uint32_t type;
  uint32_t id;
  uint32_t progId;
  uint32_t pad;
  union {
    struct {
      uint32_t ifindex;
    } xdp;
    struct {
      uint32_t ifindex;
      uint32_t attachType;
    } tcx;
    struct {
      uint32_t pf;
      uint32_t hooknum;
      int32_t priority;
      uint32_t flags;
    } netfilter;
  };
};

// Larger than any kernel's bpf_link_info so far; the kernel copies what it has and we zero the rest.
constexpr size_t kLinkInfoBuffer = 256;

std::string LinkSubject(uint32_t progFd, uint32_t target, uint32_t attachType, const std::string& netns) {
  return "program fd " + std::to_string(progFd) + " on target " + std::to_string(target) + " attach type " +
         std::to_string(attachType) + (netns.empty() ? "" : " in netns " + netns);
}

// linkCreate(progFd, target, attachType, flags, netns?): TCX (target = ifindex) and XDP (flags = XDP mode).
Napi::Value LinkCreate(const Napi::CallbackInfo& info) {
  int progFd = FdArg(info, 0, "program fd");
  uint32_t target = U32Arg(info, 1, "target");
  uint32_t attachType = U32Arg(info, 2, "attach type");
  uint32_t flags = U32Arg(info, 3, "flags");
  std::string netns = OptionalStringArg(info, 4, "netns");
  return Guarded(info.Env(), [&]() {
    int linkFd = -1;
    std::string subject = LinkSubject(static_cast<uint32_t>(progFd), target, attachType, netns);
    RunInNetns(netns, [&]() {
      DECLARE_LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
      linkFd = bpf_link_create(progFd, static_cast<int>(target), static_cast<bpf_attach_type>(attachType), &opts);
      if (linkFd < 0) throw SysError("bpf_link_create", ErrnoFromResult(linkFd), subject);
    });
    return Napi::Number::New(info.Env(), linkFd);
  });
}

// netfilterLinkCreate(progFd, pf, hooknum, priority, flags, netns?): the hook registers in the caller's namespace.
Napi::Value NetfilterLinkCreate(const Napi::CallbackInfo& info) {
  int progFd = FdArg(info, 0, "program fd");
  uint32_t pf = U32Arg(info, 1, "pf");
  uint32_t hooknum = U32Arg(info, 2, "hooknum");
  int32_t priority = I32Arg(info, 3, "priority");
  uint32_t flags = U32Arg(info, 4, "flags");
  std::string netns = OptionalStringArg(info, 5, "netns");
  return Guarded(info.Env(), [&]() {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    NetfilterLinkCreateAttr linkCreate{static_cast<uint32_t>(progFd), 0, kAttachNetfilter, 0, pf, hooknum, priority, flags};
    std::memcpy(&attr, &linkCreate, sizeof(linkCreate));
    std::string subject = "program fd " + std::to_string(progFd) + " at netfilter pf " + std::to_string(pf) + " hook " +
                          std::to_string(hooknum) + " priority " + std::to_string(priority) +
                          (netns.empty() ? "" : " in netns " + netns);
    long linkFd = -1;
    RunInNetns(netns, [&]() {
      linkFd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
      if (linkFd < 0) throw SysError("bpf(BPF_LINK_CREATE)", errno, subject);
    });
    // Descriptors from a raw syscall lack the close-on-exec flag libbpf sets on its own.
    int owned = DupFd(static_cast<int>(linkFd), subject);
    close(static_cast<int>(linkFd));
    return Napi::Number::New(info.Env(), owned);
  });
}

Napi::Value LinkInfo(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "link fd");
  return Guarded(info.Env(), [&]() {
    alignas(8) uint8_t buffer[kLinkInfoBuffer] = {};
    uint32_t length = sizeof(buffer);
    int rc = bpf_obj_get_info_by_fd(fd, buffer, &length);
    if (rc != 0) throw SysError("bpf_obj_get_info_by_fd", ErrnoFromResult(rc), "link fd " + std::to_string(fd));
    LinkInfoHead head;
    std::memcpy(&head, buffer, sizeof(head));
    Napi::Env env = info.Env();
    Napi::Object result = Napi::Object::New(env);
    result.Set("type", head.type);
    result.Set("id", head.id);
    result.Set("progId", head.progId);
    switch (head.type) {
      case kLinkTypeXdp:
        result.Set("ifindex", head.xdp.ifindex);
        break;
      case kLinkTypeTcx:
        result.Set("ifindex", head.tcx.ifindex);
        result.Set("attachType", head.tcx.attachType);
        break;
      case kLinkTypeNetfilter:
        result.Set("pf", head.netfilter.pf);
        result.Set("hooknum", head.netfilter.hooknum);
        result.Set("priority", head.netfilter.priority);
        break;
      default:
        break;
    }
    return result;
  });
}

// linkUpdate(linkFd, progFd): swaps the program behind a link atomically, so an upgrade never leaves the hook empty.
Napi::Value LinkUpdate(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "link fd");
  int progFd = FdArg(info, 1, "program fd");
  return Guarded(info.Env(), [&]() {
    int rc = bpf_link_update(fd, progFd, nullptr);
    if (rc != 0) {
      throw SysError("bpf_link_update", ErrnoFromResult(rc), "link fd " + std::to_string(fd) + " to program fd " + std::to_string(progFd));
    }
    return info.Env().Undefined();
  });
}

Napi::Value LinkDetach(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "link fd");
  return Guarded(info.Env(), [&]() {
    int rc = bpf_link_detach(fd);
    if (rc != 0) throw SysError("bpf_link_detach", ErrnoFromResult(rc), "link fd " + std::to_string(fd));
    return info.Env().Undefined();
  });
}

}  // namespace

void InitLinks(Napi::Env env, Napi::Object exports) {
  exports.Set("linkCreate", Napi::Function::New(env, LinkCreate));
  exports.Set("netfilterLinkCreate", Napi::Function::New(env, NetfilterLinkCreate));
  exports.Set("linkInfo", Napi::Function::New(env, LinkInfo));
  exports.Set("linkUpdate", Napi::Function::New(env, LinkUpdate));
  exports.Set("linkDetach", Napi::Function::New(env, LinkDetach));
}

}  // namespace moat
