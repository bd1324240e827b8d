/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* The parsed view of one packet that every later check reads. */
#ifndef MOAT_LIB_PACKET_H
#define MOAT_LIB_PACKET_H

#include "lib/common.h"

/* A flow as conntrack and policy see it. ICMP echo: the echo id is sport of a request and dport of a
 * reply, so a reply's reversed tuple equals its request's tuple. Ports are in network byte order. */
struct moat_tuple {
	__u8 saddr[MOAT_ADDR_LEN];
	__u8 daddr[MOAT_ADDR_LEN];
	__u16 sport;
	__u16 dport;
	__u8 proto;
};

enum moat_frag_kind {
	MOAT_FRAG_NONE = 0,
	MOAT_FRAG_FIRST = 1, /* offset 0, more fragments follow: carries the L4 header */
	MOAT_FRAG_LATER = 2, /* offset > 0: no L4 header, follows its first fragment */
};

struct moat_packet {
	struct moat_tuple tuple;
	struct moat_tuple inner; /* ICMP errors: the tuple of the packet the error is about */
	__u32 frag_id;
	__u8 smac[ETH_ALEN];
	__u8 frag;
	__u8 tcp_flags;
	__u8 icmp_type;
	bool is_ipv6;
	bool is_icmp_error;
	bool has_inner; /* inner holds a complete tuple */
};

static __always_inline bool moat_is_tcp_syn(const struct moat_packet *pkt)
{
	return (pkt->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
}

static __always_inline bool moat_is_ndp(const struct moat_packet *pkt)
{
	return pkt->is_ipv6 && pkt->tuple.proto == MOAT_IPPROTO_ICMPV6 &&
	       pkt->icmp_type >= NDISC_ROUTER_SOLICITATION && pkt->icmp_type <= NDISC_REDIRECT;
}

/* Ports judged by policy: ICMP and other protocols have none, so only "every protocol" rules
 * (prefixlen MOAT_POLICY_EXACT_BITS) can match them. */
static __always_inline bool moat_proto_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

#endif /* MOAT_LIB_PACKET_H */
