/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Includes, protocol numbers and small helpers every moat program shares. */
#ifndef MOAT_LIB_COMMON_H
#define MOAT_LIB_COMMON_H

/* vmlinux.h has a `config` typedef; the map user space knows as "config" needs the name. */
#define config moat_vmlinux_config
#include "vmlinux.h"
#undef config
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "abi.h"

/* TC_ACT_UNSPEC equals TCX_NEXT: an allowed packet continues to programs attached after ours. */
#define MOAT_TC_ALLOW (-1)
#define MOAT_TC_DROP 2

#define ETH_HLEN 14
#define ETH_ALEN 6
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8

#define IPV4_MIN_IHL 5
#define IPV4_HDR_MIN_LEN 20
#define IPV4_FRAG_OFFSET_MASK 0x1fff
#define IPV4_FRAG_MORE 0x2000
#define IPV6_HDR_LEN 40
#define IPV6_FRAG_OFFSET_MASK 0xfff8
#define IPV6_FRAG_MORE 0x0001

/* IPv6 next-header values (linux/in6.h macros do not reach vmlinux.h). */
#define MOAT_NEXTHDR_HOP 0
#define MOAT_NEXTHDR_ROUTING 43
#define MOAT_NEXTHDR_FRAGMENT 44
#define MOAT_NEXTHDR_AUTH 51
#define MOAT_NEXTHDR_DEST 60
#define MOAT_IPPROTO_ICMPV6 58

#define TCP_HDR_MIN_LEN 20
#define TCP_MIN_DOFF 5
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10
#define UDP_HDR_LEN 8
#define SCTP_COMMON_HDR_LEN 12
#define ICMP_HDR_LEN 8 /* type, code, checksum and the 4-byte rest (echo id/sequence) */

#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define ICMPV6_DEST_UNREACH 1
#define ICMPV6_PARAMPROB 4
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define NDISC_ROUTER_SOLICITATION 133
#define NDISC_ROUTER_ADVERTISEMENT 134
#define NDISC_REDIRECT 137

#define MOAT_NSEC_PER_SEC 1000000000ULL
#define MOAT_DEFAULT_CT_TCP_TIMEOUT_NS (6ULL * 3600 * MOAT_NSEC_PER_SEC)
#define MOAT_DEFAULT_CT_TCP_CLOSING_TIMEOUT_NS (10ULL * MOAT_NSEC_PER_SEC)
#define MOAT_DEFAULT_CT_OTHER_TIMEOUT_NS (60ULL * MOAT_NSEC_PER_SEC)

#define MOAT_HOST_PREFIXLEN (MOAT_ADDR_LEN * 8)
#define MOAT_EEXIST 17 /* errno.h does not reach BPF programs */

static __always_inline __u8 moat_opposite(__u8 direction)
{
	return direction == MOAT_DIR_INGRESS ? MOAT_DIR_EGRESS : MOAT_DIR_INGRESS;
}

static __always_inline void moat_addr_from_v4(__u8 *dst, __be32 v4)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &v4, 4);
}

/* clang does not inline memcmp for BPF: compare byte by byte, unrolled. */
static __always_inline bool moat_bytes_equal(const __u8 *a, const __u8 *b, const int len)
{
	__u8 diff = 0;
	int i;

#pragma unroll
	for (i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

#endif /* MOAT_LIB_COMMON_H */
