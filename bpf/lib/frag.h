/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* IP fragments: only the first carries ports, so it is judged and its ports and verdict recorded;
 * later fragments of the same datagram (same addresses, protocol and IP id) share them. */
#ifndef MOAT_LIB_FRAG_H
#define MOAT_LIB_FRAG_H

#include "lib/maps.h"
#include "lib/packet.h"
#include "lib/verdict.h"

static __always_inline void moat_frag_key_fill(struct moat_frag_key *key, const struct moat_packet *pkt,
					       const struct moat_hook *h)
{
	__builtin_memset(key, 0, sizeof(*key));
	__builtin_memcpy(key->saddr, pkt->tuple.saddr, MOAT_ADDR_LEN);
	__builtin_memcpy(key->daddr, pkt->tuple.daddr, MOAT_ADDR_LEN);
	key->id = pkt->frag_id;
	key->endpoint_id = h->ep->endpoint_id;
	key->proto = pkt->tuple.proto;
	key->direction = h->direction;
}

static __always_inline void moat_frag_record(const struct moat_packet *pkt, const struct moat_hook *h,
					     const struct moat_judgement *v)
{
	struct moat_frag_key key;
	struct moat_frag_value value = {
		.sport = pkt->tuple.sport,
		.dport = pkt->tuple.dport,
		.verdict = v->verdict,
		.reason = v->reason,
	};

	moat_frag_key_fill(&key, pkt, h);
	/* LRU map: an insert only fails under memory pressure, and then later fragments drop. */
	bpf_map_update_elem(&frags, &key, &value, BPF_ANY);
}

/* The verdict of a later fragment: its first fragment's, or FRAGMENT when none was seen. */
static __always_inline struct moat_judgement moat_frag_follow(struct moat_packet *pkt, const struct moat_hook *h)
{
	struct moat_frag_key key;
	struct moat_frag_value *first;
	struct moat_judgement v = {};

	moat_frag_key_fill(&key, pkt, h);
	first = bpf_map_lookup_elem(&frags, &key);
	if (!first)
		return moat_drop(MOAT_REASON_FRAGMENT);
	pkt->tuple.sport = first->sport;
	pkt->tuple.dport = first->dport;
	v.verdict = first->verdict;
	v.reason = first->reason;
	return v;
}

#endif /* MOAT_LIB_FRAG_H */
