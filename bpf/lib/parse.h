/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Packet parsing with bpf_skb_load_bytes: every header is copied and bounds-checked against both the
 * skb and the length the IP header claims, so truncated or inconsistent packets are MALFORMED. */
#ifndef MOAT_LIB_PARSE_H
#define MOAT_LIB_PARSE_H

#include "lib/packet.h"

#define MOAT_MAX_IPV6_EXT_HDRS 8

enum moat_parse_result {
	MOAT_PARSE_OK = 0,
	MOAT_PARSE_NON_IP = 1,
	MOAT_PARSE_MALFORMED = 2,
};

/* The L4 part of a packet lies in [off, end). */
struct moat_l4_span {
	__u32 off;
	__u32 end;
};

static __always_inline bool moat_load(struct __sk_buff *skb, __u32 off, __u32 end, void *to, __u32 len)
{
	if (off + len > end)
		return false;
	return bpf_skb_load_bytes(skb, off, to, len) == 0;
}

static __always_inline void moat_icmp_echo_ports(struct moat_tuple *t, __u8 type, __u16 echo_id, bool is_ipv6)
{
	__u8 request = is_ipv6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO;
	__u8 reply = is_ipv6 ? ICMPV6_ECHO_REPLY : ICMP_ECHOREPLY;

	t->sport = type == request ? echo_id : 0;
	t->dport = type == reply ? echo_id : 0;
}

static __always_inline bool moat_icmp_is_error(__u8 type, bool is_ipv6)
{
	if (is_ipv6)
		return type >= ICMPV6_DEST_UNREACH && type <= ICMPV6_PARAMPROB;
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

/* Ports (or echo id) of the embedded packet of an ICMP error: only its first 8 L4 bytes are
 * guaranteed to be quoted. */
static __always_inline bool moat_parse_inner_ports(struct __sk_buff *skb, __u32 off, __u32 end,
						   struct moat_tuple *t, bool is_ipv6)
{
	__u8 l4[ICMP_HDR_LEN];

	if (!moat_load(skb, off, end, l4, sizeof(l4)))
		return false;
	if (moat_proto_has_ports(t->proto)) {
		__builtin_memcpy(&t->sport, &l4[0], 2);
		__builtin_memcpy(&t->dport, &l4[2], 2);
	} else if (t->proto == IPPROTO_ICMP || t->proto == MOAT_IPPROTO_ICMPV6) {
		__u16 echo_id;

		__builtin_memcpy(&echo_id, &l4[4], 2);
		moat_icmp_echo_ports(t, l4[0], echo_id, is_ipv6);
	}
	return true;
}

static __always_inline bool moat_parse_inner(struct __sk_buff *skb, __u32 off, __u32 end, struct moat_packet *pkt)
{
	struct moat_tuple *t = &pkt->inner;

	if (pkt->is_ipv6) {
		struct ipv6hdr ip6;

		/* Extension headers inside a quoted packet are not followed: such errors get no
		 * RELATED pass and are judged by policy like any ICMPv6. */
		if (!moat_load(skb, off, end, &ip6, sizeof(ip6)))
			return false;
		__builtin_memcpy(t->saddr, &ip6.saddr, MOAT_ADDR_LEN);
		__builtin_memcpy(t->daddr, &ip6.daddr, MOAT_ADDR_LEN);
		t->proto = ip6.nexthdr;
		return moat_parse_inner_ports(skb, off + IPV6_HDR_LEN, end, t, true);
	}

	struct iphdr ip4;

	if (!moat_load(skb, off, end, &ip4, sizeof(ip4)) || ip4.ihl < IPV4_MIN_IHL)
		return false;
	moat_addr_from_v4(t->saddr, ip4.saddr);
	moat_addr_from_v4(t->daddr, ip4.daddr);
	t->proto = ip4.protocol;
	return moat_parse_inner_ports(skb, off + ip4.ihl * 4, end, t, false);
}

static __always_inline int moat_parse_l4(struct __sk_buff *skb, struct moat_l4_span l4, struct moat_packet *pkt)
{
	struct moat_tuple *t = &pkt->tuple;

	if (pkt->frag == MOAT_FRAG_LATER)
		return MOAT_PARSE_OK;

	switch (t->proto) {
	case IPPROTO_TCP: {
		__u8 tcp[TCP_HDR_MIN_LEN];
		__u32 doff;

		if (!moat_load(skb, l4.off, l4.end, tcp, sizeof(tcp)))
			return MOAT_PARSE_MALFORMED;
		doff = tcp[12] >> 4;
		if (doff < TCP_MIN_DOFF || l4.off + doff * 4 > l4.end)
			return MOAT_PARSE_MALFORMED;
		__builtin_memcpy(&t->sport, &tcp[0], 2);
		__builtin_memcpy(&t->dport, &tcp[2], 2);
		pkt->tcp_flags = tcp[13];
		return MOAT_PARSE_OK;
	}
	case IPPROTO_UDP:
	case IPPROTO_SCTP: {
		/* Both start with the two ports; SCTP's common header is longer and must be whole. */
		__u8 hdr[SCTP_COMMON_HDR_LEN];
		__u32 need = t->proto == IPPROTO_UDP ? UDP_HDR_LEN : SCTP_COMMON_HDR_LEN;

		if (l4.off + need > l4.end || !moat_load(skb, l4.off, l4.end, hdr, UDP_HDR_LEN))
			return MOAT_PARSE_MALFORMED;
		__builtin_memcpy(&t->sport, &hdr[0], 2);
		__builtin_memcpy(&t->dport, &hdr[2], 2);
		return MOAT_PARSE_OK;
	}
	case IPPROTO_ICMP:
	case MOAT_IPPROTO_ICMPV6: {
		__u8 icmp[ICMP_HDR_LEN];
		__u16 echo_id;

		/* ICMP inside the wrong IP version is just an unknown protocol. */
		if ((t->proto == MOAT_IPPROTO_ICMPV6) != pkt->is_ipv6)
			return MOAT_PARSE_OK;
		if (!moat_load(skb, l4.off, l4.end, icmp, sizeof(icmp)))
			return MOAT_PARSE_MALFORMED;
		pkt->icmp_type = icmp[0];
		__builtin_memcpy(&echo_id, &icmp[4], 2);
		moat_icmp_echo_ports(t, icmp[0], echo_id, pkt->is_ipv6);
		if (moat_icmp_is_error(icmp[0], pkt->is_ipv6) && pkt->frag == MOAT_FRAG_NONE) {
			pkt->is_icmp_error = true;
			pkt->has_inner = moat_parse_inner(skb, l4.off + ICMP_HDR_LEN, l4.end, pkt);
		}
		return MOAT_PARSE_OK;
	}
	default:
		return MOAT_PARSE_OK;
	}
}

static __always_inline int moat_parse_ipv4(struct __sk_buff *skb, struct moat_packet *pkt)
{
	struct iphdr ip4;
	struct moat_l4_span l4;
	__u16 tot_len, frag_off;

	if (!moat_load(skb, ETH_HLEN, skb->len, &ip4, sizeof(ip4)))
		return MOAT_PARSE_MALFORMED;
	tot_len = bpf_ntohs(ip4.tot_len);
	if (ip4.version != 4 || ip4.ihl < IPV4_MIN_IHL || tot_len < ip4.ihl * 4 ||
	    ETH_HLEN + tot_len > skb->len)
		return MOAT_PARSE_MALFORMED;

	moat_addr_from_v4(pkt->tuple.saddr, ip4.saddr);
	moat_addr_from_v4(pkt->tuple.daddr, ip4.daddr);
	pkt->tuple.proto = ip4.protocol;

	frag_off = bpf_ntohs(ip4.frag_off);
	pkt->frag_id = bpf_ntohs(ip4.id);
	if (frag_off & IPV4_FRAG_OFFSET_MASK)
		pkt->frag = MOAT_FRAG_LATER;
	else if (frag_off & IPV4_FRAG_MORE)
		pkt->frag = MOAT_FRAG_FIRST;
	/* RFC 1858: a TCP fragment at offset 8 bytes can only serve to rewrite the first's flags. */
	if ((frag_off & IPV4_FRAG_OFFSET_MASK) == 1 && ip4.protocol == IPPROTO_TCP)
		return MOAT_PARSE_MALFORMED;

	l4.off = ETH_HLEN + ip4.ihl * 4;
	l4.end = ETH_HLEN + tot_len;
	return moat_parse_l4(skb, l4, pkt);
}

static __always_inline int moat_parse_ipv6(struct __sk_buff *skb, struct moat_packet *pkt)
{
	struct ipv6hdr ip6;
	struct moat_l4_span l4;
	__u8 nexthdr;
	int i;

	if (!moat_load(skb, ETH_HLEN, skb->len, &ip6, sizeof(ip6)))
		return MOAT_PARSE_MALFORMED;
	l4.off = ETH_HLEN + IPV6_HDR_LEN;
	l4.end = l4.off + bpf_ntohs(ip6.payload_len);
	if (ip6.version != 6 || l4.end > skb->len)
		return MOAT_PARSE_MALFORMED;

	pkt->is_ipv6 = true;
	__builtin_memcpy(pkt->tuple.saddr, &ip6.saddr, MOAT_ADDR_LEN);
	__builtin_memcpy(pkt->tuple.daddr, &ip6.daddr, MOAT_ADDR_LEN);
	nexthdr = ip6.nexthdr;

	for (i = 0; i < MOAT_MAX_IPV6_EXT_HDRS; i++) {
		__u8 ext[8];

		if (nexthdr != MOAT_NEXTHDR_HOP && nexthdr != MOAT_NEXTHDR_ROUTING && nexthdr != MOAT_NEXTHDR_DEST &&
		    nexthdr != MOAT_NEXTHDR_AUTH && nexthdr != MOAT_NEXTHDR_FRAGMENT)
			break;
		if (!moat_load(skb, l4.off, l4.end, ext, sizeof(ext)))
			return MOAT_PARSE_MALFORMED;
		if (nexthdr == MOAT_NEXTHDR_FRAGMENT) {
			__u16 frag_off;
			__u32 id;

			__builtin_memcpy(&frag_off, &ext[2], 2);
			__builtin_memcpy(&id, &ext[4], 4);
			frag_off = bpf_ntohs(frag_off);
			pkt->frag_id = bpf_ntohl(id);
			if (frag_off & IPV6_FRAG_OFFSET_MASK)
				pkt->frag = MOAT_FRAG_LATER;
			else if (frag_off & IPV6_FRAG_MORE)
				pkt->frag = MOAT_FRAG_FIRST;
			l4.off += 8;
		} else if (nexthdr == MOAT_NEXTHDR_AUTH) {
			l4.off += (ext[1] + 2) * 4;
		} else {
			l4.off += (ext[1] + 1) * 8;
		}
		nexthdr = ext[0];
		if (pkt->frag == MOAT_FRAG_LATER)
			break;
	}
	if (pkt->frag != MOAT_FRAG_LATER &&
	    (nexthdr == MOAT_NEXTHDR_HOP || nexthdr == MOAT_NEXTHDR_ROUTING || nexthdr == MOAT_NEXTHDR_DEST ||
	     nexthdr == MOAT_NEXTHDR_AUTH || nexthdr == MOAT_NEXTHDR_FRAGMENT))
		return MOAT_PARSE_MALFORMED; /* more extension headers than we follow */
	if (l4.off > l4.end)
		return MOAT_PARSE_MALFORMED;
	pkt->tuple.proto = nexthdr;
	return moat_parse_l4(skb, l4, pkt);
}

static __noinline int moat_parse(struct __sk_buff *skb, struct moat_packet *pkt)
{
	struct ethhdr eth;
	__u16 ethertype;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) != 0)
		return MOAT_PARSE_MALFORMED;
	__builtin_memcpy(pkt->smac, eth.h_source, ETH_ALEN);
	ethertype = bpf_ntohs(eth.h_proto);
	switch (ethertype) {
	case ETH_P_IP:
		return moat_parse_ipv4(skb, pkt);
	case ETH_P_IPV6:
		return moat_parse_ipv6(skb, pkt);
	case ETH_P_8021Q:
	case ETH_P_8021AD:
		/* A tagged frame would carry IP past every check: nothing on a pod veth sends one. */
		return MOAT_PARSE_MALFORMED;
	default:
		return MOAT_PARSE_NON_IP;
	}
}

#endif /* MOAT_LIB_PARSE_H */
