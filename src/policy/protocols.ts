// IP protocol numbers as the datapath keys them (IPPROTO_*), for the model's protocol names.
import type { Protocol } from './model.js';

export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132 } as const;

export function protocolNumber(protocol: Protocol): number {
  return IPPROTO[protocol];
}
