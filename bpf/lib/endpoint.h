/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* The order of checks at a pod's host-side veth (DESIGN.md, Datapath). Both hooks of a same-node
 * flow judge independently: nothing recorded at one endpoint is ever read at another. */
#ifndef MOAT_LIB_ENDPOINT_H
#define MOAT_LIB_ENDPOINT_H

#include "lib/antispoof.h"
#include "lib/conntrack.h"
#include "lib/counters.h"
#include "lib/events.h"
#include "lib/frag.h"
#include "lib/guard.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/policy.h"
#include "lib/verdict.h"

static __always_inline struct moat_judgement moat_allow_tracked(const struct moat_hook *h,
							      const struct moat_packet *pkt, __u8 reason,
							      __u32 rule_id)
{
	if (!moat_ct_track(&pkt->tuple, false, h->ep->endpoint_id, h->direction, pkt->tcp_flags, rule_id, false,
			   h->now))
		return moat_drop(MOAT_REASON_CT_FULL);
	return moat_allow(reason, rule_id);
}

static __always_inline bool moat_is_service(const struct moat_packet *pkt)
{
	struct moat_service_key key = {};

	__builtin_memcpy(key.addr, pkt->tuple.daddr, MOAT_ADDR_LEN);
	key.port_be = moat_proto_has_ports(pkt->tuple.proto) ? pkt->tuple.dport : 0;
	key.proto = pkt->tuple.proto;
	return bpf_map_lookup_elem(&services, &key) != NULL;
}

/* Policy denied the packet's own direction. A non-SYN TCP packet of a flow moat does not know
 * (conntrack evicted it, or the agent was upgraded) may be the reply of a flow the opposite
 * direction allows: judge it so rather than killing established connections. */
static __always_inline struct moat_judgement moat_denied(const struct moat_hook *h, const struct moat_packet *pkt,
						       const __u8 *peer)
{
	const struct moat_endpoint *ep = h->ep;
	bool was_tracked = moat_ct_revoke(&pkt->tuple, ep->endpoint_id, h->direction);

	if (!was_tracked && pkt->tuple.proto == IPPROTO_TCP && !moat_is_tcp_syn(pkt)) {
		__u8 reverse = moat_opposite(h->direction);
		struct moat_policy_result res =
			moat_policy_judge(ep, reverse, peer, pkt->tuple.proto, pkt->tuple.sport);

		if (res.reason != MOAT_REASON_POLICY_DENY) {
			if (!moat_ct_track(&pkt->tuple, true, ep->endpoint_id, reverse, pkt->tcp_flags, res.rule_id,
					   false, h->now))
				return moat_drop(MOAT_REASON_CT_FULL);
			return moat_allow(MOAT_REASON_REPLY, res.rule_id);
		}
	}
	if (ep->flags & MOAT_EP_AUDIT) {
		struct moat_judgement v = { .verdict = MOAT_VERDICT_WOULD_DROP, .reason = MOAT_REASON_POLICY_DENY };

		/* Tracked so the replies of an audited flow pass too; if the map refuses, the
		 * packet still passes: audit never drops on policy. */
		moat_ct_track(&pkt->tuple, false, ep->endpoint_id, h->direction, pkt->tcp_flags, 0, true, h->now);
		return v;
	}
	return moat_drop(MOAT_REASON_POLICY_DENY);
}

/* Checks that need the L4 header: everything after parsing, anti-spoofing and fragment lookup. */
static __always_inline struct moat_judgement moat_judge_flow(const struct moat_hook *h, const struct moat_packet *pkt)
{
	const struct moat_endpoint *ep = h->ep;
	bool to_pod = h->direction == MOAT_DIR_INGRESS;
	const __u8 *peer = to_pod ? pkt->tuple.saddr : pkt->tuple.daddr;
	__u16 port_be = moat_proto_has_ports(pkt->tuple.proto) ? pkt->tuple.dport : 0;
	struct moat_policy_result res;

	if (to_pod && moat_port_guarded(pkt, ep))
		return moat_drop(MOAT_REASON_LOOPBACK_ONLY);
	if (moat_ct_reply(pkt, ep->endpoint_id, h->direction, h->cfg, h->now))
		return moat_allow(MOAT_REASON_REPLY, 0);
	if (moat_ct_related(pkt, ep->endpoint_id, h->direction, h->cfg, h->now))
		return moat_allow(MOAT_REASON_RELATED_ICMP, 0);
	/* Locally originated, by the skb's origin and never by source address: SNAT'd traffic from
	 * elsewhere can carry a node address. */
	if (to_pod && h->skb->ingress_ifindex == 0)
		return moat_allow_tracked(h, pkt, MOAT_REASON_FROM_NODE, 0);
	if (!to_pod && moat_is_service(pkt))
		return moat_allow_tracked(h, pkt, MOAT_REASON_SERVICE_DEFERRED, 0);

	res = moat_policy_judge(ep, h->direction, peer, pkt->tuple.proto, port_be);
	if (res.reason != MOAT_REASON_POLICY_DENY)
		return moat_allow_tracked(h, pkt, res.reason, res.rule_id);
	return moat_denied(h, pkt, peer);
}

static __always_inline struct moat_judgement moat_judge(const struct moat_hook *h, struct moat_packet *pkt)
{
	struct moat_judgement v;

	switch (moat_parse(h->skb, pkt)) {
	case MOAT_PARSE_NON_IP:
		return moat_allow(MOAT_REASON_NON_IP, 0);
	case MOAT_PARSE_MALFORMED:
		return moat_drop(MOAT_REASON_MALFORMED);
	}
	if (moat_is_ndp(pkt)) {
		if (pkt->icmp_type == NDISC_ROUTER_ADVERTISEMENT && h->direction == MOAT_DIR_EGRESS)
			return moat_drop(MOAT_REASON_ROUTER_ADVERT);
		return moat_allow(MOAT_REASON_NDP, 0);
	}
	if (h->direction == MOAT_DIR_EGRESS && !moat_source_is_own(pkt, h->ep))
		return moat_drop(MOAT_REASON_SPOOFED_SOURCE);
	if (pkt->frag == MOAT_FRAG_LATER)
		return moat_frag_follow(pkt, h);
	v = moat_judge_flow(h, pkt);
	if (pkt->frag == MOAT_FRAG_FIRST)
		moat_frag_record(pkt, h, &v);
	return v;
}

static __always_inline struct moat_judgement moat_unknown_endpoint(const struct moat_config *cfg)
{
	if (cfg && (cfg->flags & MOAT_CFG_UNKNOWN_ENDPOINT_DENY))
		return moat_drop(MOAT_REASON_UNKNOWN_ENDPOINT);
	return moat_allow(MOAT_REASON_UNKNOWN_ENDPOINT, 0);
}

/* Entry of both TC programs; `direction` is the pod's policy direction the hook enforces. */
static __always_inline int moat_endpoint_hook(struct __sk_buff *skb, __u8 direction)
{
	struct moat_packet pkt = {};
	__u32 ifindex = skb->ifindex;
	struct moat_hook h = {
		.skb = skb,
		.ep = bpf_map_lookup_elem(&endpoints, &ifindex),
		.cfg = moat_config_get(),
		.now = bpf_ktime_get_ns(),
		.direction = direction,
	};
	struct moat_judgement v = h.ep ? moat_judge(&h, &pkt) : moat_unknown_endpoint(h.cfg);

	moat_count(h.ep ? h.ep->endpoint_id : 0, direction, v.verdict, v.reason, skb->len);
	moat_event_emit(&h, &pkt, &v);
	return v.verdict == MOAT_VERDICT_DROP ? MOAT_TC_DROP : MOAT_TC_ALLOW;
}

#endif /* MOAT_LIB_ENDPOINT_H */
