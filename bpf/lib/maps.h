/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Every map of the endpoint datapath. Names are the contract with user space; max_entries are
 * defaults the loader overrides from the configuration before load. */
#ifndef MOAT_LIB_MAPS_H
#define MOAT_LIB_MAPS_H

#include "lib/common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* host-side veth ifindex */
	__type(value, struct moat_endpoint);
} endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct moat_lpm_addr_key);
	__type(value, struct moat_ipcache_value);
} ipcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct moat_lpm_addr_key);
	__type(value, struct moat_cidr_value);
} cidr_atoms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct moat_policy_key);
	__type(value, struct moat_policy_value);
} policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct moat_ct_key);
	__type(value, struct moat_ct_value);
} ct_tcp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct moat_ct_key);
	__type(value, struct moat_ct_value);
} ct_other SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct moat_frag_key);
	__type(value, struct moat_frag_value);
} frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct moat_service_key);
	__type(value, struct moat_service_value);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct moat_counter_key);
	__type(value, struct moat_counter_value);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Per-CPU token bucket behind moat_config.events_per_sec (internal: user space never reads it). */
struct moat_event_bucket {
	__u64 tokens;
	__u64 refilled_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_event_bucket);
} event_bucket SEC(".maps");

static __always_inline const struct moat_config *moat_config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config, &zero);
}

#endif /* MOAT_LIB_MAPS_H */
