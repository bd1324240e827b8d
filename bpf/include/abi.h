/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * moat ABI: the one description of every map key/value, config struct, drop reason and event that
 * BPF programs and user space share. scripts/gen-abi.mjs turns it into src/datapath/abi.generated.ts,
 * and test/bpf/abi.test.ts checks that the generated layouts equal the BTF of the compiled objects.
 *
 * Rules for this file (the generator relies on them):
 * - only fixed-width fields (__u8/__u16/__u32/__u64, __s32, arrays of them); no pointers, no bitfields;
 * - every struct is followed by _Static_assert on its size;
 * - enums have explicit values; reasons and metric-facing codes are append-only, never renumbered;
 * - constants are `#define MOAT_NAME <integer>`;
 * - a field in network byte order is named `*_be` or says "network byte order" in its comment
 *   (the TS mirror then encodes it big-endian, so user space handles plain port numbers).
 *
 * Addresses are 16 bytes everywhere: IPv6 as is, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so one
 * map serves both families and an IPv4 /n prefix is an LPM prefix of 96 + n bits.
 */
#ifndef MOAT_ABI_H
#define MOAT_ABI_H

#ifndef __BPF__
#include <linux/types.h>
#endif

#define MOAT_ADDR_LEN 16
#define MOAT_MAX_GUARD_PORTS 8
#define MOAT_IPV4_MAPPED_PREFIX 96

/* Policy LPM key: bits before the protocol byte are exact-match fields. */
#define MOAT_POLICY_EXACT_BITS 88 /* endpoint_id, peer_id, direction, peer_kind, pad */
#define MOAT_POLICY_PROTO_BITS 96 /* ... + proto: "this protocol, every port" */
#define MOAT_POLICY_FULL_BITS 112 /* ... + 16-bit port: one exact port */

/* Direction is always from the endpoint's point of view. */
enum moat_direction {
	MOAT_DIR_INGRESS = 0, /* towards the pod: the pod's ingress policy (TC egress on the host veth) */
	MOAT_DIR_EGRESS = 1,  /* from the pod: the pod's egress policy (TC ingress on the host veth) */
};

enum moat_peer_kind {
	MOAT_PEER_ANY = 0,      /* rule with no peers, or a peer that selects everything */
	MOAT_PEER_IDENTITY = 1, /* peer_id is a numeric identity from the ipcache */
	MOAT_PEER_CIDR = 2,     /* peer_id is a CIDR atom from the cidr map */
};

enum moat_verdict {
	MOAT_VERDICT_ALLOW = 0,
	MOAT_VERDICT_DROP = 1,
	MOAT_VERDICT_WOULD_DROP = 2, /* audit mode: counted and reported, packet passes */
};

/* Why a verdict was reached. Append-only: metric labels and stored counters depend on the numbers. */
enum moat_reason {
	MOAT_REASON_POLICY_ALLOW = 0,     /* an allow rule matched (rule_id names it) */
	MOAT_REASON_NOT_ISOLATED = 1,     /* no policy isolates this direction */
	MOAT_REASON_REPLY = 2,            /* reply of a tracked, allowed flow */
	MOAT_REASON_FROM_NODE = 3,        /* locally originated by the node (kubelet probes) */
	MOAT_REASON_RELATED_ICMP = 4,     /* ICMP error about a tracked flow */
	MOAT_REASON_NDP = 5,              /* IPv6 neighbour discovery, always allowed */
	MOAT_REASON_NON_IP = 6,           /* ARP and other non-IP ethertypes pass */
	MOAT_REASON_POLICY_DENY = 7,      /* isolated direction, no allow rule matched */
	MOAT_REASON_LOOPBACK_ONLY = 8,    /* guarded (loopback-only) port reached from outside the pod */
	MOAT_REASON_SPOOFED_SOURCE = 9,   /* source IP or MAC is not the pod's own */
	MOAT_REASON_MALFORMED = 10,       /* truncated or invalid headers */
	MOAT_REASON_ROUTER_ADVERT = 11,   /* IPv6 router advertisement sent by a pod */
	MOAT_REASON_FRAGMENT = 12,        /* non-first fragment whose first fragment was not allowed/seen */
	MOAT_REASON_UNKNOWN_ENDPOINT = 13, /* device has a program but no endpoint (unknownEndpoint=deny) */
	MOAT_REASON_PREFILTER = 14,       /* XDP node-wide CIDR deny list */
	MOAT_REASON_HOST_GUARD = 15,      /* node-level loopback-only port reached on a non-lo device */
	MOAT_REASON_LOCALNET = 16,        /* 127.0.0.0/8 arriving on a non-lo device (CVE-2020-8558) */
	MOAT_REASON_SERVICE_DEFERRED = 17, /* egress to a Service IP, judged after DNAT at POST_ROUTING */
	MOAT_REASON_CT_FULL = 18,         /* conntrack insert failed: the flow is not allowed blind */
	MOAT_REASON__COUNT = 19,
};

/* moat_endpoint.flags */
#define MOAT_EP_ISOLATE_INGRESS 0x1
#define MOAT_EP_ISOLATE_EGRESS 0x2
#define MOAT_EP_AUDIT 0x4     /* judge and report, never drop on policy (guard and anti-spoof still drop) */
#define MOAT_EP_CHECK_MAC 0x8 /* mac[] is known: frames from the pod must carry it as source */

/* moat_config.flags */
#define MOAT_CFG_UNKNOWN_ENDPOINT_DENY 0x1

/* ipcache and cidr maps: LPM_TRIE keyed by an address prefix. */
struct moat_lpm_addr_key {
	__u32 prefixlen;
	__u8 addr[MOAT_ADDR_LEN];
};
_Static_assert(sizeof(struct moat_lpm_addr_key) == 20, "moat_lpm_addr_key size");

struct moat_ipcache_value {
	__u32 identity;
	__u32 endpoint_id; /* the local endpoint owning this address, 0 when it is not local */
};
_Static_assert(sizeof(struct moat_ipcache_value) == 8, "moat_ipcache_value size");

struct moat_cidr_value {
	__u32 atom; /* CIDR atom: the set of ipBlocks (minus excepts) that contain the prefix */
};
_Static_assert(sizeof(struct moat_cidr_value) == 4, "moat_cidr_value size");

/* endpoints map: HASH keyed by the host-side veth ifindex (__u32). */
struct moat_endpoint {
	__u32 endpoint_id;
	__u32 identity;
	__u32 flags;
	__u8 mac[6];
	__u8 n_guard_ports;
	__u8 pad;
	__u16 guard_ports[MOAT_MAX_GUARD_PORTS]; /* TCP, host byte order */
};
_Static_assert(sizeof(struct moat_endpoint) == 36, "moat_endpoint size");

/* policy map: LPM_TRIE. prefixlen counts bits from endpoint_id on (see MOAT_POLICY_*_BITS). */
struct moat_policy_key {
	__u32 prefixlen;
	__u32 endpoint_id;
	__u32 peer_id;
	__u8 direction;
	__u8 peer_kind;
	__u8 pad;
	__u8 proto;    /* IPPROTO_*; 0 only under an "every protocol" prefix */
	__u16 port_be; /* destination port, network byte order so its high bits are the prefix */
	__u16 pad2;
};
_Static_assert(sizeof(struct moat_policy_key) == 20, "moat_policy_key size");

struct moat_policy_value {
	__u32 rule_id; /* names the policy/annotation rule for counters, events and explain */
};
_Static_assert(sizeof(struct moat_policy_value) == 4, "moat_policy_value size");

/* Conntrack (LRU_HASH, one map for TCP, one for everything else). The key is the flow's original
 * direction as seen at one endpoint's hook: endpoint_id and direction keep the two sides of a
 * same-node flow apart. ICMP echo uses the echo id as sport and 0 as dport. */
struct moat_ct_key {
	__u8 saddr[MOAT_ADDR_LEN];
	__u8 daddr[MOAT_ADDR_LEN];
	__u16 sport; /* network byte order */
	__u16 dport; /* network byte order */
	__u32 endpoint_id;
	__u8 proto;
	__u8 direction;
	__u16 pad;
};
_Static_assert(sizeof(struct moat_ct_key) == 44, "moat_ct_key size");

/* moat_ct_value.tcp_flags: TCP flags seen, per side */
#define MOAT_CT_SEEN_FIN_ORIG 0x1
#define MOAT_CT_SEEN_FIN_REPLY 0x2
#define MOAT_CT_SEEN_RST 0x4

struct moat_ct_value {
	__u64 last_seen_ns;
	__u32 rule_id;
	__u8 tcp_flags;
	__u8 audit;   /* the flow passed only because of audit mode */
	__u8 revoked; /* policy now denies the flow: no reply passes, and no reply re-judgement revives it */
	__u8 pad;
};
_Static_assert(sizeof(struct moat_ct_value) == 16, "moat_ct_value size");

/* Fragments (LRU_HASH): non-first fragments take the ports and verdict of their first fragment. */
struct moat_frag_key {
	__u8 saddr[MOAT_ADDR_LEN];
	__u8 daddr[MOAT_ADDR_LEN];
	__u32 id;
	__u32 endpoint_id;
	__u8 proto;
	__u8 direction;
	__u16 pad;
};
_Static_assert(sizeof(struct moat_frag_key) == 44, "moat_frag_key size");

struct moat_frag_value {
	__u16 sport; /* network byte order */
	__u16 dport; /* network byte order */
	__u8 verdict;
	__u8 reason;
	__u16 pad;
};
_Static_assert(sizeof(struct moat_frag_value) == 8, "moat_frag_value size");

/* Services (HASH): Service frontends whose egress judgement moves to POST_ROUTING, after DNAT. */
struct moat_service_key {
	__u8 addr[MOAT_ADDR_LEN];
	__u16 port_be;
	__u8 proto;
	__u8 pad;
};
_Static_assert(sizeof(struct moat_service_key) == 20, "moat_service_key size");

struct moat_service_value {
	__u32 flags;
};
_Static_assert(sizeof(struct moat_service_value) == 4, "moat_service_value size");

/* Counters (PERCPU_HASH). */
struct moat_counter_key {
	__u32 endpoint_id; /* 0 for node-level programs (XDP prefilter, host guard) */
	__u8 reason;
	__u8 direction;
	__u8 verdict;
	__u8 pad;
};
_Static_assert(sizeof(struct moat_counter_key) == 8, "moat_counter_key size");

struct moat_counter_value {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct moat_counter_value) == 16, "moat_counter_value size");

/* Global configuration (ARRAY, one entry at key 0), written by the agent at runtime. */
struct moat_config {
	__u32 flags;
	__u32 allow_event_sample; /* emit 1 in N allow events; 0 = none */
	__u32 events_per_sec;     /* per-CPU token bucket for all events; 0 = unlimited */
	__u32 pad;
	__u64 ct_tcp_timeout_ns;
	__u64 ct_tcp_closing_timeout_ns;
	__u64 ct_other_timeout_ns;
};
_Static_assert(sizeof(struct moat_config) == 40, "moat_config size");

/* Verdict events (RINGBUF). */
struct moat_event {
	__u64 ts_ns;
	__u8 saddr[MOAT_ADDR_LEN];
	__u8 daddr[MOAT_ADDR_LEN];
	__u16 sport; /* host byte order */
	__u16 dport; /* host byte order */
	__u32 endpoint_id;
	__u32 ifindex;
	__u32 src_identity;
	__u32 dst_identity;
	__u32 rule_id;
	__u32 bytes;
	__u8 proto;
	__u8 direction;
	__u8 verdict;
	__u8 reason;
};
_Static_assert(sizeof(struct moat_event) == 72, "moat_event size");

#endif /* MOAT_ABI_H */
