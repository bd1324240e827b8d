/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Per-CPU packet and byte counters for every verdict, keyed (endpoint, reason, direction, verdict). */
#ifndef MOAT_LIB_COUNTERS_H
#define MOAT_LIB_COUNTERS_H

#include "lib/maps.h"

static __always_inline void moat_count(__u32 endpoint_id, __u8 direction, __u8 verdict, __u8 reason, __u32 bytes)
{
	struct moat_counter_key key = {
		.endpoint_id = endpoint_id,
		.reason = reason,
		.direction = direction,
		.verdict = verdict,
	};
	struct moat_counter_value *v = bpf_map_lookup_elem(&counters, &key);

	if (v) {
		/* Per-CPU value: no other writer, no atomics needed. */
		v->packets += 1;
		v->bytes += bytes;
		return;
	}
	struct moat_counter_value first = { .packets = 1, .bytes = bytes };

	bpf_map_update_elem(&counters, &key, &first, BPF_NOEXIST);
}

#endif /* MOAT_LIB_COUNTERS_H */
