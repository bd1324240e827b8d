/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Verdict events on the ring buffer: drops and would-drops always, allows sampled; all of them
 * under a per-CPU token bucket. A full ring buffer loses the event, never delays the packet. */
#ifndef MOAT_LIB_EVENTS_H
#define MOAT_LIB_EVENTS_H

#include "lib/maps.h"
#include "lib/packet.h"
#include "lib/policy.h"
#include "lib/verdict.h"

static __always_inline bool moat_event_sampled(const struct moat_config *cfg, const struct moat_judgement *v)
{
	if (v->verdict != MOAT_VERDICT_ALLOW)
		return true;
	if (!cfg || !cfg->allow_event_sample)
		return false;
	return bpf_get_prandom_u32() % cfg->allow_event_sample == 0;
}

/* Token bucket holding at most one second's worth of events. */
static __always_inline bool moat_event_token(const struct moat_config *cfg, __u64 now)
{
	__u32 zero = 0;
	struct moat_event_bucket *bucket;
	__u64 rate, elapsed, refill;

	if (!cfg || !cfg->events_per_sec)
		return true;
	rate = cfg->events_per_sec;
	bucket = bpf_map_lookup_elem(&event_bucket, &zero);
	if (!bucket)
		return false;
	elapsed = now - bucket->refilled_ns;
	if (elapsed > MOAT_NSEC_PER_SEC)
		elapsed = MOAT_NSEC_PER_SEC;
	refill = elapsed * rate / MOAT_NSEC_PER_SEC;
	if (refill) {
		bucket->tokens = bucket->tokens + refill > rate ? rate : bucket->tokens + refill;
		bucket->refilled_ns = now;
	}
	if (!bucket->tokens)
		return false;
	bucket->tokens -= 1;
	return true;
}

/* Not inlined: the event is filled once per emitted event only, and this signature is what puts
 * struct moat_event (a ring buffer has no typed value) in the object's BTF for the ABI test. */
static __noinline void moat_event_fill(struct moat_event *e, const struct moat_hook *h,
				       const struct moat_packet *pkt, const struct moat_judgement *v)
{
	__u32 local_identity = h->ep ? h->ep->identity : 0;
	bool to_pod = h->direction == MOAT_DIR_INGRESS;

	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = h->now;
	__builtin_memcpy(e->saddr, pkt->tuple.saddr, MOAT_ADDR_LEN);
	__builtin_memcpy(e->daddr, pkt->tuple.daddr, MOAT_ADDR_LEN);
	e->sport = bpf_ntohs(pkt->tuple.sport);
	e->dport = bpf_ntohs(pkt->tuple.dport);
	e->endpoint_id = h->ep ? h->ep->endpoint_id : 0;
	e->ifindex = h->skb->ifindex;
	e->src_identity = to_pod ? moat_identity_of(pkt->tuple.saddr) : local_identity;
	e->dst_identity = to_pod ? local_identity : moat_identity_of(pkt->tuple.daddr);
	e->rule_id = v->rule_id;
	e->bytes = h->skb->len;
	e->proto = pkt->tuple.proto;
	e->direction = h->direction;
	e->verdict = v->verdict;
	e->reason = v->reason;
}

static __always_inline void moat_event_emit(const struct moat_hook *h, const struct moat_packet *pkt,
					    const struct moat_judgement *v)
{
	struct moat_event *e;

	if (!moat_event_sampled(h->cfg, v) || !moat_event_token(h->cfg, h->now))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return;
	moat_event_fill(e, h, pkt, v);
	bpf_ringbuf_submit(e, 0);
}

#endif /* MOAT_LIB_EVENTS_H */
