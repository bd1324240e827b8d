/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* moat's own conntrack: entries exist only for flows some check allowed, keyed by the original
 * direction as seen at one endpoint's hook. Replies pass on a hit; the original direction is still
 * judged by policy on every packet, so revocation takes effect at the next packet. */
#ifndef MOAT_LIB_CONNTRACK_H
#define MOAT_LIB_CONNTRACK_H

#include "lib/maps.h"
#include "lib/packet.h"

static __always_inline void *moat_ct_map(__u8 proto)
{
	return proto == IPPROTO_TCP ? (void *)&ct_tcp : (void *)&ct_other;
}

static __always_inline void moat_ct_key_fill(struct moat_ct_key *key, const struct moat_tuple *t, bool reversed,
					     __u32 endpoint_id, __u8 direction)
{
	__builtin_memset(key, 0, sizeof(*key));
	__builtin_memcpy(key->saddr, reversed ? t->daddr : t->saddr, MOAT_ADDR_LEN);
	__builtin_memcpy(key->daddr, reversed ? t->saddr : t->daddr, MOAT_ADDR_LEN);
	key->sport = reversed ? t->dport : t->sport;
	key->dport = reversed ? t->sport : t->dport;
	key->endpoint_id = endpoint_id;
	key->proto = t->proto;
	key->direction = direction;
}

static __always_inline bool moat_ct_closed(const struct moat_ct_value *v)
{
	__u8 both_fins = MOAT_CT_SEEN_FIN_ORIG | MOAT_CT_SEEN_FIN_REPLY;

	return (v->tcp_flags & MOAT_CT_SEEN_RST) || (v->tcp_flags & both_fins) == both_fins;
}

static __always_inline bool moat_ct_expired(const struct moat_ct_value *v, __u8 proto,
					    const struct moat_config *cfg, __u64 now)
{
	__u64 timeout;

	if (proto != IPPROTO_TCP)
		timeout = cfg && cfg->ct_other_timeout_ns ? cfg->ct_other_timeout_ns : MOAT_DEFAULT_CT_OTHER_TIMEOUT_NS;
	else if (moat_ct_closed(v))
		timeout = cfg && cfg->ct_tcp_closing_timeout_ns ? cfg->ct_tcp_closing_timeout_ns
								 : MOAT_DEFAULT_CT_TCP_CLOSING_TIMEOUT_NS;
	else
		timeout = cfg && cfg->ct_tcp_timeout_ns ? cfg->ct_tcp_timeout_ns : MOAT_DEFAULT_CT_TCP_TIMEOUT_NS;
	return now - v->last_seen_ns > timeout;
}

static __always_inline __u8 moat_ct_seen_flags(__u8 tcp_flags, bool is_reply)
{
	__u8 seen = 0;

	if (tcp_flags & TCP_FLAG_FIN)
		seen |= is_reply ? MOAT_CT_SEEN_FIN_REPLY : MOAT_CT_SEEN_FIN_ORIG;
	if (tcp_flags & TCP_FLAG_RST)
		seen |= MOAT_CT_SEEN_RST;
	return seen;
}

/* A live, not revoked entry for `key`, or NULL. An expired entry is removed on sight. */
static __always_inline struct moat_ct_value *moat_ct_lookup_live(const struct moat_ct_key *key,
								 const struct moat_config *cfg, __u64 now)
{
	void *map = moat_ct_map(key->proto);
	struct moat_ct_value *v = bpf_map_lookup_elem(map, key);

	if (!v || v->revoked)
		return NULL;
	if (moat_ct_expired(v, key->proto, cfg, now)) {
		bpf_map_delete_elem(map, key);
		return NULL;
	}
	return v;
}

/* Is the packet a reply of a flow this endpoint's opposite hook allowed? Refreshes the entry. */
static __always_inline bool moat_ct_reply(const struct moat_packet *pkt, __u32 endpoint_id, __u8 direction,
					  const struct moat_config *cfg, __u64 now)
{
	struct moat_ct_key key;
	struct moat_ct_value *v;

	moat_ct_key_fill(&key, &pkt->tuple, true, endpoint_id, moat_opposite(direction));
	v = moat_ct_lookup_live(&key, cfg, now);
	if (!v)
		return false;
	v->last_seen_ns = now;
	v->tcp_flags |= moat_ct_seen_flags(pkt->tcp_flags, true);
	return true;
}

/* Is the packet an ICMP error about a flow tracked at this endpoint, in either of its directions? */
static __always_inline bool moat_ct_related(const struct moat_packet *pkt, __u32 endpoint_id, __u8 direction,
					    const struct moat_config *cfg, __u64 now)
{
	struct moat_ct_key key;

	if (!pkt->is_icmp_error || !pkt->has_inner)
		return false;
	/* The quoted packet left through the opposite hook: as an original it has the opposite
	 * direction's entry, as a reply it is the reversed tuple of an entry of this direction. */
	moat_ct_key_fill(&key, &pkt->inner, false, endpoint_id, moat_opposite(direction));
	if (moat_ct_lookup_live(&key, cfg, now))
		return true;
	moat_ct_key_fill(&key, &pkt->inner, true, endpoint_id, direction);
	return moat_ct_lookup_live(&key, cfg, now) != NULL;
}

/* Create or refresh the entry of an allowed flow. Returns false when the map refused the insert:
 * the caller drops rather than allowing a flow whose replies would then be judged blind. */
static __always_inline bool moat_ct_track(const struct moat_tuple *t, bool reversed, __u32 endpoint_id,
					  __u8 direction, __u8 tcp_flags, __u32 rule_id, bool audit, __u64 now)
{
	struct moat_ct_key key;
	struct moat_ct_value *v;
	struct moat_ct_value fresh = {};
	void *map = moat_ct_map(t->proto);
	__u8 seen = moat_ct_seen_flags(tcp_flags, reversed);
	long err;

	moat_ct_key_fill(&key, t, reversed, endpoint_id, direction);
	v = bpf_map_lookup_elem(map, &key);
	if (v) {
		/* A new SYN on an old tuple starts a new connection: forget the old close. */
		if ((tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN && !reversed)
			v->tcp_flags = 0;
		v->tcp_flags |= seen;
		v->last_seen_ns = now;
		v->rule_id = rule_id;
		v->audit = audit;
		v->revoked = 0;
		return true;
	}
	fresh.last_seen_ns = now;
	fresh.rule_id = rule_id;
	fresh.tcp_flags = seen;
	fresh.audit = audit;
	err = bpf_map_update_elem(map, &key, &fresh, BPF_NOEXIST);
	return err == 0 || err == -MOAT_EEXIST; /* EEXIST: another CPU inserted the same flow first */
}

/* A flow the policy no longer allows: its entry stays as a tombstone so neither its replies nor the
 * reply re-judgement of its next packets let it through. Returns whether the flow was tracked. */
static __always_inline bool moat_ct_revoke(const struct moat_tuple *t, __u32 endpoint_id, __u8 direction)
{
	struct moat_ct_key key;
	struct moat_ct_value *v;

	moat_ct_key_fill(&key, t, false, endpoint_id, direction);
	v = bpf_map_lookup_elem(moat_ct_map(t->proto), &key);
	if (!v)
		return false;
	v->revoked = 1;
	return true;
}

#endif /* MOAT_LIB_CONNTRACK_H */
