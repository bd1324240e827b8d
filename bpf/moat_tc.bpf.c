/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* TC programs on a pod's host-side veth. Wiring only: the checks live in lib/endpoint.h. */
#include "lib/endpoint.h"

/* TC ingress of the host veth: packets from the pod, judged by its egress policy. */
SEC("tc")
int moat_from_pod(struct __sk_buff *skb)
{
	return moat_endpoint_hook(skb, MOAT_DIR_EGRESS);
}

/* TC egress of the host veth: packets to the pod, judged by its ingress policy. */
SEC("tc")
int moat_to_pod(struct __sk_buff *skb)
{
	return moat_endpoint_hook(skb, MOAT_DIR_INGRESS);
}

char LICENSE[] SEC("license") = "GPL";
