// A TypeScript model of the BPF decision over a DesiredDatapath, step for step like bpf/lib (guard,
// node traffic, isolation, then ipcache LPM → identity, CIDR LPM → atom, and the identity / atom / any
// policy lookups with LPM over protocol and port prefix). It lets the compiler be checked against the
// oracle (evaluate.ts) without a kernel, and explains what the maps say about one packet.
//
// Addresses live in the maps' single 128-bit space (IPv4 mapped into ::ffff:0:0/96), exactly as the
// codec writes them, so a prefix of one family that would swallow the other shows up here too.
import type { DesiredDatapath, DesiredEndpoint, IpcacheEntry, PeerKind, PolicyEntry } from './desired.js';
import type { ClusterState, Direction, Flow, FlowEnd } from './model.js';
import { formatIp, parseCidr, parseIp, type IpAddress } from './ip.js';
import { unifiedAddress, unifiedContains, unifiedPrefix, type UnifiedPrefix } from './cidr-atoms.js';
import { IDENTITY_HOST, IDENTITY_WORLD } from './identities.js';
import { portPrefixContains } from './port-prefixes.js';
import { IPPROTO, protocolNumber } from './protocols.js';


export interface SimulatedPacket {
  readonly src: string;
  readonly dst: string;
  /** IPPROTO number. */
  readonly protocol: number;
  /** Destination port; 0 for protocols without ports. */
  readonly dstPort: number;
  /** Locally originated by the node (kubelet probes): no source endpoint judges it. */
  readonly fromNode?: boolean;
}

export type HookReason = 'policy-allow' | 'not-isolated' | 'from-node' | 'policy-deny' | 'loopback-only';
export type Verdict = 'allow' | 'drop' | 'would-drop';

export interface HookDecision {
  readonly endpointId: number;
  readonly direction: Direction;
  readonly verdict: Verdict;
  readonly reason: HookReason;
  /** The rule of the policy entry that matched; 0 when none did. */
  readonly ruleId: number;
}

export interface PacketDecision {
  readonly verdict: Verdict;
  /** The source endpoint's egress hook (null: the source is not a local endpoint, or the node sent it). */
  readonly egress: HookDecision | null;
  /** The destination endpoint's ingress hook (null: the destination is not a local endpoint). */
  readonly ingress: HookDecision | null;
  /** The node's LOCAL_IN guard dropped it (a loopback-only port of a host-network pod). */
  readonly hostGuard: boolean;
  /** Source and destination are one pod: the packet never crosses its veth. */
  readonly samePod: boolean;
}

interface LpmEntry<T> {
  readonly prefix: UnifiedPrefix;
  readonly value: T;
}

function lpmTable<E extends { readonly cidr: string }, T>(entries: readonly E[], value: (entry: E) => T): LpmEntry<T>[] {
  return entries.map((entry) => ({ prefix: unifiedPrefix(parseCidr(entry.cidr)), value: value(entry) }));
}

function longestMatch<T>(table: readonly LpmEntry<T>[], address: bigint): T | undefined {
  let best: LpmEntry<T> | undefined;
  for (const entry of table) {
    if (unifiedContains(entry.prefix, address) && (best === undefined || entry.prefix.length > best.prefix.length)) best = entry;
  }
  return best?.value;
}

/** LPM over (protocol, port): "every protocol" is the shortest prefix, then the port prefix length. */
function keyBitsMatched(entry: PolicyEntry): number {
  return entry.protocol === null ? 0 : 8 + entry.portPrefixLen;
}

function policyMatches(entry: PolicyEntry, protocol: number, port: number): boolean {
  if (entry.protocol === null) return true;
  return entry.protocol === protocol && portPrefixContains({ port: entry.port, prefixLen: entry.portPrefixLen }, port);
}

export class DatapathSimulator {
  private readonly ipcache: LpmEntry<IpcacheEntry>[];
  private readonly cidrAtoms: LpmEntry<number>[];
  private readonly policy = new Map<string, PolicyEntry[]>();
  private readonly endpoints = new Map<number, DesiredEndpoint>();
  private readonly hostGuardPorts: ReadonlySet<number>;

  constructor(datapath: DesiredDatapath) {
    this.ipcache = lpmTable(datapath.ipcache, (entry) => entry);
    this.cidrAtoms = lpmTable(datapath.cidrAtoms, (entry) => entry.atom);
    for (const entry of datapath.policy) {
      const key = this.policyKey(entry.endpointId, entry.direction, entry.peerKind, entry.peerId);
      this.policy.set(key, [...(this.policy.get(key) ?? []), entry]);
    }
    for (const endpoint of datapath.endpoints) this.endpoints.set(endpoint.endpointId, endpoint);
    this.hostGuardPorts = new Set(datapath.hostGuardPorts ?? []);
  }

  private policyKey(endpointId: number, direction: Direction, peerKind: PeerKind, peerId: number): string {
    return `${endpointId}|${direction}|${peerKind}|${peerId}`;
  }

  /** One LPM lookup of the policy map: the most specific entry for this peer, protocol and port. */
  private lookupPolicy(endpoint: DesiredEndpoint, direction: Direction, peerKind: PeerKind, peerId: number, protocol: number, port: number) {
    let best: PolicyEntry | undefined;
    for (const entry of this.policy.get(this.policyKey(endpoint.endpointId, direction, peerKind, peerId)) ?? []) {
      if (policyMatches(entry, protocol, port) && (best === undefined || keyBitsMatched(entry) > keyBitsMatched(best))) best = entry;
    }
    return best;
  }

  identityOf(address: string): number {
    return longestMatch(this.ipcache, unifiedAddress(parseIp(address)))?.identity ?? IDENTITY_WORLD;
  }

  /** The local endpoint owning an address, as the ipcache records it. */
  endpointOf(address: string): DesiredEndpoint | undefined {
    const endpointId = longestMatch(this.ipcache, unifiedAddress(parseIp(address)))?.endpointId ?? 0;
    return this.endpoints.get(endpointId);
  }

  /** The decision of one endpoint's hook: `ingress` is the packet towards the pod, `egress` from it. */
  judge(endpoint: DesiredEndpoint, direction: Direction, packet: SimulatedPacket): HookDecision {
    const decide = (verdict: Verdict, reason: HookReason, ruleId = 0): HookDecision => ({
      endpointId: endpoint.endpointId,
      direction,
      verdict,
      reason,
      ruleId,
    });
    if (direction === 'ingress') {
      if (packet.protocol === IPPROTO.TCP && endpoint.guardPorts.includes(packet.dstPort)) return decide('drop', 'loopback-only');
      if (packet.fromNode === true) return decide('allow', 'from-node');
    }
    const isolated = direction === 'ingress' ? endpoint.isolateIngress : endpoint.isolateEgress;
    if (!isolated) return decide('allow', 'not-isolated');
    const peer = direction === 'ingress' ? packet.src : packet.dst;
    const lookup = (kind: PeerKind, id: number) => this.lookupPolicy(endpoint, direction, kind, id, packet.protocol, packet.dstPort);
    const atom = longestMatch(this.cidrAtoms, unifiedAddress(parseIp(peer)));
    const hit = lookup('identity', this.identityOf(peer)) ?? (atom === undefined ? undefined : lookup('cidr', atom)) ?? lookup('any', 0);
    if (hit !== undefined) return decide('allow', 'policy-allow', hit.ruleId);
    return decide(endpoint.audit ? 'would-drop' : 'drop', 'policy-deny');
  }

  /** Both hooks a packet crosses on this node, plus the host guard, combined like the packet's fate. */
  packet(packet: SimulatedPacket): PacketDecision {
    const source = packet.fromNode === true ? undefined : this.endpointOf(packet.src);
    const destination = this.endpointOf(packet.dst);
    if (source !== undefined && source === destination) {
      return { verdict: 'allow', egress: null, ingress: null, hostGuard: false, samePod: true };
    }
    const egress = source === undefined ? null : this.judge(source, 'egress', packet);
    const ingress = destination === undefined ? null : this.judge(destination, 'ingress', packet);
    const hostGuard =
      destination === undefined &&
      packet.fromNode !== true &&
      packet.src !== packet.dst &&
      packet.protocol === IPPROTO.TCP &&
      this.hostGuardPorts.has(packet.dstPort) &&
      this.identityOf(packet.dst) === IDENTITY_HOST;
    const verdicts = [egress?.verdict, ingress?.verdict, hostGuard ? 'drop' : undefined];
    const verdict: Verdict = verdicts.includes('drop') ? 'drop' : verdicts.includes('would-drop') ? 'would-drop' : 'allow';
    return { verdict, egress, ingress, hostGuard, samePod: false };
  }
}

function endAddresses(state: ClusterState, end: FlowEnd): IpAddress[] {
  if ('ip' in end) return [parseIp(end.ip)];
  const pod = state.pods.find((p) => p.namespace === end.pod.namespace && p.name === end.pod.name);
  if (pod === undefined) throw new Error(`packetOfFlow: pod ${end.pod.namespace}/${end.pod.name} is not in the cluster state`);
  return pod.ips.map(parseIp);
}

/**
 * The packet a flow puts on the wire: the first address family both ends have (IPv4 first), ICMP as
 * ICMP or ICMPv6 by family. Undefined when the ends share no family (no packet can exist).
 */
export function packetOfFlow(state: ClusterState, flow: Flow): SimulatedPacket | undefined {
  const sources = endAddresses(state, flow.from);
  const destinations = endAddresses(state, flow.to);
  for (const family of [4, 6] as const) {
    const src = sources.find((a) => a.family === family);
    const dst = destinations.find((a) => a.family === family);
    if (src === undefined || dst === undefined) continue;
    const icmp = family === 4 ? IPPROTO.ICMP : IPPROTO.ICMPV6;
    return {
      src: formatIp(src),
      dst: formatIp(dst),
      protocol: flow.protocol === 'ICMP' ? icmp : protocolNumber(flow.protocol),
      dstPort: flow.protocol === 'ICMP' ? 0 : flow.port,
      ...(flow.fromNode === true && { fromNode: true }),
    };
  }
  return undefined;
}
