/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Loopback-only ports: whatever crossed the veth did not come over loopback, so a TCP packet to a
 * guarded port is dropped whatever policy or conntrack says. */
#ifndef MOAT_LIB_GUARD_H
#define MOAT_LIB_GUARD_H

#include "lib/packet.h"

static __always_inline bool moat_port_guarded(const struct moat_packet *pkt, const struct moat_endpoint *ep)
{
	__u16 port;
	int i;

	if (pkt->tuple.proto != IPPROTO_TCP)
		return false;
	port = bpf_ntohs(pkt->tuple.dport);
	for (i = 0; i < MOAT_MAX_GUARD_PORTS; i++) {
		if (i >= ep->n_guard_ports)
			break;
		if (ep->guard_ports[i] == port)
			return true;
	}
	return false;
}

#endif /* MOAT_LIB_GUARD_H */
