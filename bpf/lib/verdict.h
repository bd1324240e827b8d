/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* The outcome of judging one packet, and the context every judging step reads. */
#ifndef MOAT_LIB_VERDICT_H
#define MOAT_LIB_VERDICT_H

#include "lib/common.h"

struct moat_judgement {
	__u32 rule_id;
	__u8 verdict; /* enum moat_verdict */
	__u8 reason;  /* enum moat_reason */
};

struct moat_hook {
	struct __sk_buff *skb;
	const struct moat_endpoint *ep; /* NULL: the device is not a known endpoint */
	const struct moat_config *cfg;  /* NULL only if the config map is missing its entry */
	__u64 now;
	__u8 direction;
};

static __always_inline struct moat_judgement moat_allow(__u8 reason, __u32 rule_id)
{
	struct moat_judgement v = { .rule_id = rule_id, .verdict = MOAT_VERDICT_ALLOW, .reason = reason };

	return v;
}

static __always_inline struct moat_judgement moat_drop(__u8 reason)
{
	struct moat_judgement v = { .verdict = MOAT_VERDICT_DROP, .reason = reason };

	return v;
}

#endif /* MOAT_LIB_VERDICT_H */
