/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Anti-spoofing for packets from a pod: identity comes from the source address, so a pod may only
 * send with its own addresses (and, when known, its own MAC). */
#ifndef MOAT_LIB_ANTISPOOF_H
#define MOAT_LIB_ANTISPOOF_H

#include "lib/maps.h"
#include "lib/packet.h"
#include "lib/policy.h"

/* fe80::/10 */
static __always_inline bool moat_is_ipv6_link_local(const __u8 *addr)
{
	return addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80;
}

static __always_inline bool moat_source_is_own(const struct moat_packet *pkt, const struct moat_endpoint *ep)
{
	struct moat_lpm_addr_key key;
	struct moat_ipcache_value *owner;

	if ((ep->flags & MOAT_EP_CHECK_MAC) && !moat_bytes_equal(pkt->smac, ep->mac, ETH_ALEN))
		return false;
	/* Link-local addresses are not in the ipcache; they only serve neighbour discovery and ICMPv6. */
	if (pkt->is_ipv6 && moat_is_ipv6_link_local(pkt->tuple.saddr))
		return pkt->tuple.proto == MOAT_IPPROTO_ICMPV6;
	moat_lpm_host_key(&key, pkt->tuple.saddr);
	owner = bpf_map_lookup_elem(&ipcache, &key);
	return owner && owner->endpoint_id == ep->endpoint_id;
}

#endif /* MOAT_LIB_ANTISPOOF_H */
