#include "rtnl.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <cerrno>
#include <cstdio>

#include "errors.h"
#include "js_util.h"
#include "netlink.h"
#include "netns.h"

namespace moat {

namespace {

std::string FormatMac(const uint8_t* bytes, size_t length) {
  std::string mac;
  char octet[4];
  for (size_t i = 0; i < length; ++i) {
    std::snprintf(octet, sizeof(octet), i == 0 ? "%02x" : ":%02x", bytes[i]);
    mac += octet;
  }
  return mac;
}

std::string FormatAddress(int family, const void* bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes, text, sizeof(text));
  return text;
}

int ParseLinkInfoKind(const nlattr* attribute, void* data) {
  if (mnl_attr_get_type(attribute) == IFLA_INFO_KIND) *static_cast<std::string*>(data) = mnl_attr_get_str(attribute);
  return MNL_CB_OK;
}

int ParseLinkAttribute(const nlattr* attribute, void* data) {
  auto* link = static_cast<LinkRecord*>(data);
  switch (mnl_attr_get_type(attribute)) {
    case IFLA_IFNAME:
      link->name = mnl_attr_get_str(attribute);
      break;
    case IFLA_ADDRESS:
      link->mac = FormatMac(static_cast<const uint8_t*>(mnl_attr_get_payload(attribute)), mnl_attr_get_payload_len(attribute));
      break;
    case IFLA_MTU:
      link->mtu = mnl_attr_get_u32(attribute);
      break;
    case IFLA_LINK:
      link->peerIfindex = mnl_attr_get_u32(attribute);
      break;
    case IFLA_LINK_NETNSID:
      link->linkNetnsId = static_cast<int32_t>(mnl_attr_get_u32(attribute));
      break;
    case IFLA_MASTER:
      link->master = mnl_attr_get_u32(attribute);
      break;
    case IFLA_TARGET_NETNSID:
      link->targetNetnsId = static_cast<int32_t>(mnl_attr_get_u32(attribute));
      break;
    case IFLA_LINKINFO:
      mnl_attr_parse_nested(attribute, ParseLinkInfoKind, &link->kind);
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

struct AddrAttributes {
  const void* local = nullptr;
  const void* address = nullptr;
  std::optional<int32_t> targetNetnsId;
};

int ParseAddrAttribute(const nlattr* attribute, void* data) {
  auto* attributes = static_cast<AddrAttributes*>(data);
  switch (mnl_attr_get_type(attribute)) {
    case IFA_LOCAL:
      attributes->local = mnl_attr_get_payload(attribute);
      break;
    case IFA_ADDRESS:
      attributes->address = mnl_attr_get_payload(attribute);
      break;
    case IFA_TARGET_NETNSID:
      attributes->targetNetnsId = static_cast<int32_t>(mnl_attr_get_u32(attribute));
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

std::string DumpSubject(const char* what, const std::optional<int32_t>& targetNetnsId, const std::string& netns) {
  std::string subject = what;
  if (targetNetnsId) subject += " of nsid " + std::to_string(*targetNetnsId);
  return subject + " in netns " + (netns.empty() ? "(current)" : netns);
}

// Without strict checking the kernel drops a target nsid it does not honour and answers for the caller's own
// namespace; a reply that does not echo the nsid is therefore about the wrong namespace.
void RequireEcho(const std::optional<int32_t>& requested, const std::optional<int32_t>& echoed, const char* op,
                 const std::string& subject) {
  if (requested && echoed != requested) throw SysError(op, EPROTO, subject + " (reply did not echo the target nsid)");
}

std::vector<LinkRecord> DumpLinks(const std::optional<int32_t>& targetNetnsId, const std::string& subject) {
  NetlinkSocket socket(0, false);
  socket.EnableStrictCheck();
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* request = mnl_nlmsg_put_header(buffer.data());
  request->nlmsg_type = RTM_GETLINK;
  request->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* header = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
  header->ifi_family = AF_UNSPEC;
  if (targetNetnsId) mnl_attr_put_u32(request, IFLA_TARGET_NETNSID, static_cast<uint32_t>(*targetNetnsId));
  std::vector<LinkRecord> links;
  NetlinkTransact(socket, request, [&](const nlmsghdr* message) {
    if (message->nlmsg_type != RTM_NEWLINK) return;
    LinkRecord link = ParseLink(message);
    RequireEcho(targetNetnsId, link.targetNetnsId, "RTM_GETLINK", subject);
    links.push_back(std::move(link));
  }, "RTM_GETLINK", subject);
  return links;
}

std::vector<AddrRecord> DumpAddrs(const std::optional<int32_t>& targetNetnsId, const std::string& subject) {
  NetlinkSocket socket(0, false);
  socket.EnableStrictCheck();
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* request = mnl_nlmsg_put_header(buffer.data());
  request->nlmsg_type = RTM_GETADDR;
  request->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  // Strict checking rejects any header field but the family (and index) being set; the header starts zeroed.
  auto* header = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifaddrmsg)));
  header->ifa_family = AF_UNSPEC;
  if (targetNetnsId) mnl_attr_put_u32(request, IFA_TARGET_NETNSID, static_cast<uint32_t>(*targetNetnsId));
  std::vector<AddrRecord> addrs;
  NetlinkTransact(socket, request, [&](const nlmsghdr* message) {
    if (message->nlmsg_type != RTM_NEWADDR) return;
    AddrRecord addr = ParseAddr(message);
    RequireEcho(targetNetnsId, addr.targetNetnsId, "RTM_GETADDR", subject);
    if (!addr.address.empty()) addrs.push_back(std::move(addr));
  }, "RTM_GETADDR", subject);
  return addrs;
}

std::optional<int32_t> OptionalNsid(const Napi::CallbackInfo& info, size_t index) {
  if (info[index].IsUndefined() || info[index].IsNull()) return std::nullopt;
  return I32Arg(info, index, "targetNetnsId");
}

Napi::Value ListLinks(const Napi::CallbackInfo& info) {
  std::string netns = OptionalStringArg(info, 0, "netns");
  std::optional<int32_t> targetNetnsId = OptionalNsid(info, 1);
  return Guarded(info.Env(), [&]() {
    std::vector<LinkRecord> links;
    std::string subject = DumpSubject("links", targetNetnsId, netns);
    RunInNetns(netns, [&]() { links = DumpLinks(targetNetnsId, subject); });
    Napi::Array result = Napi::Array::New(info.Env(), links.size());
    for (size_t i = 0; i < links.size(); ++i) result.Set(static_cast<uint32_t>(i), LinkToJs(info.Env(), links[i]));
    return result;
  });
}

Napi::Value ListAddrs(const Napi::CallbackInfo& info) {
  std::string netns = OptionalStringArg(info, 0, "netns");
  std::optional<int32_t> targetNetnsId = OptionalNsid(info, 1);
  return Guarded(info.Env(), [&]() {
    std::vector<AddrRecord> addrs;
    std::string subject = DumpSubject("addresses", targetNetnsId, netns);
    RunInNetns(netns, [&]() { addrs = DumpAddrs(targetNetnsId, subject); });
    Napi::Array result = Napi::Array::New(info.Env(), addrs.size());
    for (size_t i = 0; i < addrs.size(); ++i) result.Set(static_cast<uint32_t>(i), AddrToJs(info.Env(), addrs[i]));
    return result;
  });
}

}  // namespace

LinkRecord ParseLink(const nlmsghdr* message) {
  LinkRecord link;
  const auto* header = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
  link.ifindex = static_cast<uint32_t>(header->ifi_index);
  link.up = (header->ifi_flags & IFF_UP) != 0;
  mnl_attr_parse(message, sizeof(ifinfomsg), ParseLinkAttribute, &link);
  // IFLA_LINK names a lower or peer device; devices without one report themselves. A peer in another namespace
  // may well carry the same ifindex, so only a same-namespace self reference is dropped.
  if (link.peerIfindex && *link.peerIfindex == link.ifindex && !link.linkNetnsId) link.peerIfindex.reset();
  return link;
}

AddrRecord ParseAddr(const nlmsghdr* message) {
  AddrRecord addr;
  const auto* header = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(message));
  addr.ifindex = header->ifa_index;
  addr.family = header->ifa_family;
  addr.prefixlen = header->ifa_prefixlen;
  AddrAttributes attributes;
  mnl_attr_parse(message, sizeof(ifaddrmsg), ParseAddrAttribute, &attributes);
  // On IPv4 IFA_LOCAL is the interface's own address (IFA_ADDRESS is the far end of a point-to-point link).
  const void* bytes = attributes.local != nullptr ? attributes.local : attributes.address;
  if (bytes != nullptr && (addr.family == AF_INET || addr.family == AF_INET6)) addr.address = FormatAddress(addr.family, bytes);
  addr.targetNetnsId = attributes.targetNetnsId;
  return addr;
}

Napi::Object LinkToJs(Napi::Env env, const LinkRecord& link) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("ifindex", link.ifindex);
  result.Set("name", link.name);
  result.Set("kind", link.kind);
  result.Set("mac", link.mac);
  result.Set("mtu", link.mtu);
  result.Set("up", link.up);
  if (link.linkNetnsId) result.Set("linkNetnsId", *link.linkNetnsId);
  if (link.peerIfindex) result.Set("peerIfindex", *link.peerIfindex);
  if (link.master) result.Set("master", *link.master);
  return result;
}

Napi::Object AddrToJs(Napi::Env env, const AddrRecord& addr) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("ifindex", addr.ifindex);
  result.Set("family", addr.family == AF_INET6 ? 6 : 4);
  result.Set("address", addr.address);
  result.Set("prefixlen", addr.prefixlen);
  return result;
}

void InitRtnl(Napi::Env env, Napi::Object exports) {
  exports.Set("listLinks", Napi::Function::New(env, ListLinks));
  exports.Set("listAddrs", Napi::Function::New(env, ListAddrs));
}

}  // namespace moat
