// DesiredDatapath: what the pure compiler emits and the reconciler makes the BPF maps equal to.
// It names endpoints by pod; the datapath layer maps them to host veths (ifindex) it discovered.
import type { Direction, RuleOrigin } from './model.js';

export type PeerKind = 'any' | 'identity' | 'cidr';

export interface DesiredEndpoint {
  readonly namespace: string;
  readonly name: string;
  readonly endpointId: number;
  readonly identity: number;
  readonly ips: readonly string[];
  readonly isolateIngress: boolean;
  readonly isolateEgress: boolean;
  readonly audit: boolean;
  /** TCP ports only reachable over loopback (waypoint PROXY port and friends). */
  readonly guardPorts: readonly number[];
}

/** Address prefix (canonical CIDR text, v4 or v6) → identity; endpointId 0 when the pod is not local. */
export interface IpcacheEntry {
  readonly cidr: string;
  readonly identity: number;
  readonly endpointId: number;
}

/** Prefix → CIDR atom; the longest matching prefix decides an address's atom. */
export interface CidrAtomEntry {
  readonly cidr: string;
  readonly atom: number;
}

export interface PolicyEntry {
  readonly endpointId: number;
  readonly direction: Direction;
  readonly peerKind: PeerKind;
  readonly peerId: number;
  /** IPPROTO number, or null for "every protocol" (a rule without ports). */
  readonly protocol: number | null;
  /** Port prefix value (meaningful bits are the top portPrefixLen of 16). */
  readonly port: number;
  /** 0 = every port of the protocol, 16 = exactly `port`. */
  readonly portPrefixLen: number;
  readonly ruleId: number;
}

export interface ServiceFrontend {
  readonly ip: string;
  readonly port: number;
  readonly protocol: number;
}

export interface RuleInfo {
  readonly ruleId: number;
  readonly origin: RuleOrigin;
  readonly direction: Direction;
  /** Index of the rule within its policy's ingress/egress list, or within the annotation. */
  readonly index: number;
}

export interface IdentityInfo {
  readonly id: number;
  readonly namespace: string;
  /** Only the labels some selector references (pod labels, and namespace labels as `ns:` keys). */
  readonly labels: Readonly<Record<string, string>>;
}

export interface PolicyProblem {
  readonly object: string;
  readonly field: string;
  readonly message: string;
}

export interface DesiredDatapath {
  readonly endpoints: readonly DesiredEndpoint[];
  readonly ipcache: readonly IpcacheEntry[];
  readonly cidrAtoms: readonly CidrAtomEntry[];
  readonly policy: readonly PolicyEntry[];
  readonly services: readonly ServiceFrontend[];
  readonly rules: readonly RuleInfo[];
  readonly identities: readonly IdentityInfo[];
  /**
   * TCP ports of this node's host-network pods that only loopback may reach: the host guard at LOCAL_IN
   * drops them unless the input device is lo. Optional so hand-built states in tests need not list it.
   */
  readonly hostGuardPorts?: readonly number[];
  /** Objects the compiler rejected (bad annotation...): reported, and those pods fail closed. */
  readonly problems: readonly PolicyProblem[];
}
