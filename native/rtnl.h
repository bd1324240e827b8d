// Links and addresses over rtnetlink, parsed into plain records on whatever thread runs the dump, converted to JS
// objects on the main thread.
#pragma once

#include <linux/netlink.h>
#include <napi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moat {

struct LinkRecord {
  uint32_t ifindex = 0;
  std::string name;
  std::string kind;  // IFLA_INFO_KIND: "veth", "bridge", ...; empty for devices without one (lo, physical NICs)
  std::string mac;
  uint32_t mtu = 0;
  bool up = false;
  std::optional<int32_t> linkNetnsId;   // namespace of the peer, as an nsid of the dumping namespace
  std::optional<uint32_t> peerIfindex;  // IFLA_LINK: for a veth, the peer's ifindex in its own namespace
  std::optional<uint32_t> master;
  std::optional<int32_t> targetNetnsId;  // echoed IFLA_TARGET_NETNSID
};

struct AddrRecord {
  uint32_t ifindex = 0;
  int family = 0;
  std::string address;
  uint32_t prefixlen = 0;
  std::optional<int32_t> targetNetnsId;  // echoed IFA_TARGET_NETNSID
};

// Parse RTM_NEWLINK/RTM_DELLINK and RTM_NEWADDR/RTM_DELADDR messages.
LinkRecord ParseLink(const nlmsghdr* message);
AddrRecord ParseAddr(const nlmsghdr* message);

Napi::Object LinkToJs(Napi::Env env, const LinkRecord& link);
Napi::Object AddrToJs(Napi::Env env, const AddrRecord& addr);

// listLinks(netns?, targetNetnsId?), listAddrs(netns?, targetNetnsId?).
void InitRtnl(Napi::Env env, Napi::Object exports);

}  // namespace moat
