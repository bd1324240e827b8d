#include "tc.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "errors.h"
#include "js_util.h"
#include "libbpf_log.h"
#include "netlink.h"
#include "netns.h"

namespace moat {

namespace {

constexpr uint32_t kAttachTcxIngress = 46;
constexpr uint32_t kAttachTcxEgress = 47;
constexpr uint32_t kMaxQueriedPrograms = 64;

struct Attachment {
  std::string hook;  // ingress | egress | xdp
  std::string kind;  // tcx | tc | xdp
  uint32_t progId = 0;
  std::optional<uint32_t> handle;
  std::optional<uint32_t> priority;
  std::string xdpMode;
};

std::string DeviceSubject(uint32_t ifindex, bool ingress, const std::string& netns) {
  return std::string(ingress ? "ingress" : "egress") + " of ifindex " + std::to_string(ifindex) +
         (netns.empty() ? "" : " in netns " + netns);
}

bool IngressArg(const Napi::CallbackInfo& info, size_t index) {
  std::string hook = StringArg(info, index, "hook");
  if (hook != "ingress" && hook != "egress") throw Napi::TypeError::New(info.Env(), "hook must be 'ingress' or 'egress'");
  return hook == "ingress";
}

// tcAttach(progFd, ifindex, hook, handle, priority, netns?) -> {handle, priority}; creates clsact when missing and
// replaces a filter with the same handle and priority.
Napi::Value TcAttach(const Napi::CallbackInfo& info) {
  int progFd = FdArg(info, 0, "program fd");
  uint32_t ifindex = U32Arg(info, 1, "ifindex");
  bool ingress = IngressArg(info, 2);
  uint32_t handle = U32Arg(info, 3, "handle");
  uint32_t priority = U32Arg(info, 4, "priority");
  std::string netns = OptionalStringArg(info, 5, "netns");
  return Guarded(info.Env(), [&]() {
    std::string subject = DeviceSubject(ifindex, ingress, netns);
    DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
                        .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
    DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = progFd, .flags = BPF_TC_F_REPLACE, .handle = handle,
                        .priority = priority);
    RunInNetns(netns, [&]() {
      LibbpfLogCapture capture;
      int rc = bpf_tc_hook_create(&hook);
      if (rc != 0 && rc != -EEXIST) throw SysError("bpf_tc_hook_create", ErrnoFromResult(rc), WithLibbpfDetail(subject, capture));
      rc = bpf_tc_attach(&hook, &opts);
      if (rc != 0) throw SysError("bpf_tc_attach", ErrnoFromResult(rc), WithLibbpfDetail(subject, capture));
    });
    Napi::Object result = Napi::Object::New(info.Env());
    result.Set("handle", opts.handle);
    result.Set("priority", opts.priority);
    return result;
  });
}

// tcDetach(ifindex, hook, handle, priority, netns?): removes one filter; the clsact qdisc stays for others.
Napi::Value TcDetach(const Napi::CallbackInfo& info) {
  uint32_t ifindex = U32Arg(info, 0, "ifindex");
  bool ingress = IngressArg(info, 1);
  uint32_t handle = U32Arg(info, 2, "handle");
  uint32_t priority = U32Arg(info, 3, "priority");
  std::string netns = OptionalStringArg(info, 4, "netns");
  return Guarded(info.Env(), [&]() {
    std::string subject = DeviceSubject(ifindex, ingress, netns) + " handle " + std::to_string(handle) + " priority " +
                          std::to_string(priority);
    DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
                        .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
    DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
    RunInNetns(netns, [&]() {
      LibbpfLogCapture capture;
      int rc = bpf_tc_detach(&hook, &opts);
      if (rc != 0) throw SysError("bpf_tc_detach", ErrnoFromResult(rc), WithLibbpfDetail(subject, capture));
    });
    return info.Env().Undefined();
  });
}

void QueryTcx(uint32_t ifindex, bool ingress, const std::string& subject, std::vector<Attachment>& out) {
  std::vector<uint32_t> ids(kMaxQueriedPrograms);
  uint32_t count = kMaxQueriedPrograms;
  int rc = bpf_prog_query(static_cast<int>(ifindex), static_cast<bpf_attach_type>(ingress ? kAttachTcxIngress : kAttachTcxEgress),
                          0, nullptr, ids.data(), &count);
  if (rc != 0) throw SysError("bpf_prog_query", ErrnoFromResult(rc), "TCX " + subject);
  for (uint32_t i = 0; i < count && i < kMaxQueriedPrograms; ++i) {
    out.push_back({ingress ? "ingress" : "egress", "tcx", ids[i], std::nullopt, std::nullopt, ""});
  }
}

struct FilterParse {
  bool isBpf = false;
  std::optional<uint32_t> progId;
};

int ParseBpfOptions(const nlattr* attribute, void* data) {
  if (mnl_attr_get_type(attribute) == TCA_BPF_ID) static_cast<FilterParse*>(data)->progId = mnl_attr_get_u32(attribute);
  return MNL_CB_OK;
}

int ParseFilterAttribute(const nlattr* attribute, void* data) {
  auto* filter = static_cast<FilterParse*>(data);
  if (mnl_attr_get_type(attribute) == TCA_KIND) filter->isBpf = std::string(mnl_attr_get_str(attribute)) == "bpf";
  // TCA_KIND precedes TCA_OPTIONS in every filter message, so the kind is known when the options arrive.
  if (mnl_attr_get_type(attribute) == TCA_OPTIONS && filter->isBpf) mnl_attr_parse_nested(attribute, ParseBpfOptions, data);
  return MNL_CB_OK;
}

void DumpClsBpf(uint32_t ifindex, bool ingress, const std::string& subject, std::vector<Attachment>& out) {
  NetlinkSocket socket(0, false);
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* request = mnl_nlmsg_put_header(buffer.data());
  request->nlmsg_type = RTM_GETTFILTER;
  request->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* header = static_cast<tcmsg*>(mnl_nlmsg_put_extra_header(request, sizeof(tcmsg)));
  header->tcm_family = AF_UNSPEC;
  header->tcm_ifindex = static_cast<int>(ifindex);
  header->tcm_parent = TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
  NetlinkTransact(socket, request, [&](const nlmsghdr* message) {
    if (message->nlmsg_type != RTM_NEWTFILTER) return;
    const auto* filter = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(message));
    FilterParse parsed;
    mnl_attr_parse(message, sizeof(tcmsg), ParseFilterAttribute, &parsed);
    // A dump also lists each priority's classifier head (handle 0), which carries no program.
    if (!parsed.isBpf || !parsed.progId) return;
    out.push_back({ingress ? "ingress" : "egress", "tc", *parsed.progId, filter->tcm_handle, TC_H_MAJ(filter->tcm_info) >> 16, ""});
  }, "RTM_GETTFILTER", "cls_bpf " + subject);
}

void QueryXdp(uint32_t ifindex, const std::string& subject, std::vector<Attachment>& out) {
  DECLARE_LIBBPF_OPTS(bpf_xdp_query_opts, opts);
  int rc = bpf_xdp_query(static_cast<int>(ifindex), 0, &opts);
  if (rc != 0) throw SysError("bpf_xdp_query", ErrnoFromResult(rc), subject);
  if (opts.drv_prog_id != 0) out.push_back({"xdp", "xdp", opts.drv_prog_id, std::nullopt, std::nullopt, "native"});
  if (opts.skb_prog_id != 0) out.push_back({"xdp", "xdp", opts.skb_prog_id, std::nullopt, std::nullopt, "generic"});
  if (opts.hw_prog_id != 0) out.push_back({"xdp", "xdp", opts.hw_prog_id, std::nullopt, std::nullopt, "offload"});
}

// The kernel names programs by id globally, so names are read after leaving the namespace. A program that went
// away in between keeps its entry without a name.
std::optional<std::string> ProgramName(uint32_t id) {
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) return std::nullopt;
  bpf_prog_info progInfo{};
  uint32_t length = sizeof(progInfo);
  int rc = bpf_obj_get_info_by_fd(fd, &progInfo, &length);
  close(fd);
  if (rc != 0) return std::nullopt;
  return std::string(progInfo.name);
}

// deviceAttachments(ifindex, netns?) -> [{hook, kind, progId, progName?, handle?, priority?, mode?}]
Napi::Value DeviceAttachments(const Napi::CallbackInfo& info) {
  uint32_t ifindex = U32Arg(info, 0, "ifindex");
  std::string netns = OptionalStringArg(info, 1, "netns");
  return Guarded(info.Env(), [&]() {
    std::vector<Attachment> attachments;
    RunInNetns(netns, [&]() {
      for (bool ingress : {true, false}) {
        std::string subject = DeviceSubject(ifindex, ingress, netns);
        QueryTcx(ifindex, ingress, subject, attachments);
        DumpClsBpf(ifindex, ingress, subject, attachments);
      }
      QueryXdp(ifindex, "XDP of ifindex " + std::to_string(ifindex) + (netns.empty() ? "" : " in netns " + netns), attachments);
    });
    Napi::Env env = info.Env();
    Napi::Array result = Napi::Array::New(env, attachments.size());
    for (size_t i = 0; i < attachments.size(); ++i) {
      const Attachment& attachment = attachments[i];
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("hook", attachment.hook);
      entry.Set("kind", attachment.kind);
      entry.Set("progId", attachment.progId);
      if (auto name = ProgramName(attachment.progId)) entry.Set("progName", *name);
      if (attachment.handle) entry.Set("handle", *attachment.handle);
      if (attachment.priority) entry.Set("priority", *attachment.priority);
      if (!attachment.xdpMode.empty()) entry.Set("mode", attachment.xdpMode);
      result.Set(static_cast<uint32_t>(i), entry);
    }
    return result;
  });
}

}  // namespace

void InitTc(Napi::Env env, Napi::Object exports) {
  exports.Set("tcAttach", Napi::Function::New(env, TcAttach));
  exports.Set("tcDetach", Napi::Function::New(env, TcDetach));
  exports.Set("deviceAttachments", Napi::Function::New(env, DeviceAttachments));
}

}  // namespace moat
