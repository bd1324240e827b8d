/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Policy: identity and CIDR atom of the peer, then at most three LPM lookups in the endpoint's
 * policy map, whatever the number of pods and policies. */
#ifndef MOAT_LIB_POLICY_H
#define MOAT_LIB_POLICY_H

#include "lib/maps.h"

struct moat_policy_result {
	__u8 reason;  /* POLICY_ALLOW, NOT_ISOLATED or POLICY_DENY */
	__u32 rule_id;
};

static __always_inline void moat_lpm_host_key(struct moat_lpm_addr_key *key, const __u8 *addr)
{
	key->prefixlen = MOAT_HOST_PREFIXLEN;
	__builtin_memcpy(key->addr, addr, MOAT_ADDR_LEN);
}

/* Numeric identity of an address; 0 is "world" (not in the ipcache). */
static __always_inline __u32 moat_identity_of(const __u8 *addr)
{
	struct moat_lpm_addr_key key;
	struct moat_ipcache_value *v;

	moat_lpm_host_key(&key, addr);
	v = bpf_map_lookup_elem(&ipcache, &key);
	return v ? v->identity : 0;
}

static __always_inline bool moat_direction_isolated(const struct moat_endpoint *ep, __u8 direction)
{
	__u32 flag = direction == MOAT_DIR_INGRESS ? MOAT_EP_ISOLATE_INGRESS : MOAT_EP_ISOLATE_EGRESS;

	return ep->flags & flag;
}

static __always_inline bool moat_policy_lookup(struct moat_policy_key *key, __u8 peer_kind, __u32 peer_id,
					       __u32 *rule_id)
{
	struct moat_policy_value *v;

	key->peer_kind = peer_kind;
	key->peer_id = peer_id;
	v = bpf_map_lookup_elem(&policy, key);
	if (!v)
		return false;
	*rule_id = v->rule_id;
	return true;
}

/* Judge traffic of `direction` at endpoint `ep` with the given peer address, protocol and
 * destination port (network byte order; 0 for protocols without ports). */
static __always_inline struct moat_policy_result moat_policy_judge(const struct moat_endpoint *ep, __u8 direction,
								   const __u8 *peer, __u8 proto, __u16 port_be)
{
	struct moat_policy_result res = { .reason = MOAT_REASON_POLICY_DENY };
	struct moat_policy_key key = {};
	struct moat_lpm_addr_key addr_key;
	struct moat_cidr_value *atom;

	if (!moat_direction_isolated(ep, direction)) {
		res.reason = MOAT_REASON_NOT_ISOLATED;
		return res;
	}
	key.prefixlen = MOAT_POLICY_FULL_BITS;
	key.endpoint_id = ep->endpoint_id;
	key.direction = direction;
	key.proto = proto;
	key.port_be = port_be;

	if (moat_policy_lookup(&key, MOAT_PEER_IDENTITY, moat_identity_of(peer), &res.rule_id))
		goto allow;
	moat_lpm_host_key(&addr_key, peer);
	atom = bpf_map_lookup_elem(&cidr_atoms, &addr_key);
	if (atom && moat_policy_lookup(&key, MOAT_PEER_CIDR, atom->atom, &res.rule_id))
		goto allow;
	if (moat_policy_lookup(&key, MOAT_PEER_ANY, 0, &res.rule_id))
		goto allow;
	return res;
allow:
	res.reason = MOAT_REASON_POLICY_ALLOW;
	return res;
}

#endif /* MOAT_LIB_POLICY_H */
