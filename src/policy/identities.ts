// Identities: the numbers the ipcache gives pod addresses and the policy map keys identity peers by.
//
// Scheme. An identity stands for every pod address that every rule of the cluster treats alike. Its key is
//   (namespace name,
//    the pod's labels restricted to the keys some peer podSelector looks at,
//    the namespace's labels restricted to the keys some peer namespaceSelector looks at,
//    [only for destinations of named-port egress rules] how the pod resolves each of those port names,
//    [only when such a rule has an ipBlock peer] which of those ipBlocks hold this address).
// Two addresses with equal keys are matched by exactly the same peers and resolve every egress named port
// identically, so one policy entry per identity is exact. Labels no selector references
// (pod-template-hash...) do not enter the key, so they do not multiply identities. The key is computed
// per address, which only matters for dual-stack pods under the last clause.
//
// Numbering: the canonical key text is hashed into [256, 2^31) (see stable-ids.ts), so an identity keeps
// its number across compiles whatever other pods exist. Below 256 are reserved identities: 0 = world
// (an address the ipcache does not know), 1 = this node's own addresses. Host-network pods are not
// identities: they are their node's address and only ipBlock peers can name them.
import type { IdentityInfo } from './desired.js';
import { cidrContainsIp, formatIp, parseCidr, parseIp, type IpAddress } from './ip.js';
import type { ClusterState, IPBlock, Labels, Namespace, Pod, Protocol } from './model.js';
import { NAMESPACE_NAME_LABEL } from './parse-k8s-workloads.js';
import { ipBlockKey } from './cidr-atoms.js';
import { assignStableIds, FIRST_ALLOCATED_ID } from './stable-ids.js';

export const IDENTITY_WORLD = 0;
export const IDENTITY_HOST = 1;

/** What the rules of the whole state look at: everything else about a pod cannot change a verdict. */
export interface IdentityReferences {
  readonly podLabelKeys: ReadonlySet<string>;
  readonly namespaceLabelKeys: ReadonlySet<string>;
  /** namedPortKey() of the named ports that egress rules use. */
  readonly egressNamedPorts: ReadonlySet<string>;
  /** ipBlocks that are peers of egress rules with named ports. */
  readonly egressNamedPortBlocks: readonly IPBlock[];
}

/** What an identity's pods look like to selectors and egress named ports. */
export interface IdentityMember {
  readonly id: number;
  readonly namespace: string;
  readonly podLabels: Labels;
  readonly namespaceLabels: Labels;
  /** namedPortKey() → the ports it resolves to on these pods, ascending; absent = does not resolve. */
  readonly namedPorts: ReadonlyMap<string, readonly number[]>;
  /** ipBlockKey() of the named-port egress blocks holding these addresses. */
  readonly blocks: ReadonlySet<string>;
}

export interface Identities {
  /** Sorted by id. */
  readonly infos: readonly IdentityInfo[];
  readonly members: readonly IdentityMember[];
  /** Canonical pod address → identity. */
  readonly ofAddress: ReadonlyMap<string, number>;
}

export function namedPortKey(name: string, protocol: Protocol): string {
  return `${name}/${protocol}`;
}

/** The pods that are identities: they have addresses and their own network namespace. */
export function isIdentityPod(pod: Pod): boolean {
  return !pod.hostNetwork && pod.ips.length > 0;
}

function restrict(labels: Labels, keys: ReadonlySet<string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const key of Object.keys(labels).sort()) {
    if (keys.has(key)) kept[key] = labels[key] as string;
  }
  return kept;
}

function resolveNamedPorts(pod: Pod, names: ReadonlySet<string>): Map<string, number[]> {
  const resolved = new Map<string, number[]>();
  for (const port of pod.ports) {
    if (port.name === undefined) continue;
    const key = namedPortKey(port.name, port.protocol);
    if (!names.has(key)) continue;
    const ports = resolved.get(key) ?? [];
    if (!ports.includes(port.port)) ports.push(port.port);
    resolved.set(key, ports);
  }
  for (const ports of resolved.values()) ports.sort((a, b) => a - b);
  return new Map([...resolved].sort(([a], [b]) => (a < b ? -1 : 1)));
}

interface ParsedBlock {
  readonly key: string;
  readonly contains: (address: IpAddress) => boolean;
}

function parseBlocks(blocks: readonly IPBlock[]): ParsedBlock[] {
  const byKey = new Map<string, ParsedBlock>();
  for (const block of blocks) {
    const cidr = parseCidr(block.cidr);
    const excepts = block.except.map((text) => parseCidr(text));
    byKey.set(ipBlockKey(block), {
      key: ipBlockKey(block),
      contains: (address) => cidrContainsIp(cidr, address) && !excepts.some((except) => cidrContainsIp(except, address)),
    });
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
}

function infoLabels(member: Omit<IdentityMember, 'id'>): Record<string, string> {
  const labels: Record<string, string> = { ...member.podLabels };
  for (const [key, value] of Object.entries(member.namespaceLabels)) labels[`ns:${key}`] = value;
  for (const [key, ports] of member.namedPorts) labels[`port:${key}`] = ports.join(',');
  for (const key of member.blocks) labels[`ipblock:${key}`] = '';
  return labels;
}

/** The namespace a pod lives in; one missing from the state still has the label the API server always sets. */
export function namespaceOfPod(namespaces: ReadonlyMap<string, Namespace>, pod: Pod): Namespace {
  return namespaces.get(pod.namespace) ?? { name: pod.namespace, labels: { [NAMESPACE_NAME_LABEL]: pod.namespace } };
}

/** Gives every pod address an identity; throws IpSyntaxError naming a pod address that does not parse. */
export function computeIdentities(state: ClusterState, references: IdentityReferences): Identities {
  const namespaces = new Map(state.namespaces.map((ns) => [ns.name, ns]));
  const blocks = parseBlocks(references.egressNamedPortBlocks);
  const candidates = new Map<string, Omit<IdentityMember, 'id'>>();
  const keyOfAddress = new Map<string, string>();
  const pods = state.pods
    .filter(isIdentityPod)
    .sort((a, b) => (a.namespace + '/' + a.name < b.namespace + '/' + b.name ? -1 : 1));
  for (const pod of pods) {
    const podLabels = restrict(pod.labels, references.podLabelKeys);
    const nsLabels = restrict(namespaceOfPod(namespaces, pod).labels, references.namespaceLabelKeys);
    const namedPorts = resolveNamedPorts(pod, references.egressNamedPorts);
    for (const text of pod.ips) {
      const address = parseIp(text);
      const canonical = formatIp(address);
      // Two pods claiming one address (stale state): the first in namespace/name order keeps it.
      if (keyOfAddress.has(canonical)) continue;
      const member = {
        namespace: pod.namespace,
        podLabels,
        namespaceLabels: nsLabels,
        namedPorts,
        blocks: new Set(blocks.filter((block) => block.contains(address)).map((block) => block.key)),
      };
      const key = JSON.stringify([
        member.namespace,
        Object.entries(podLabels),
        Object.entries(nsLabels),
        [...namedPorts],
        [...member.blocks],
      ]);
      candidates.set(key, member);
      keyOfAddress.set(canonical, key);
    }
  }
  const ids = assignStableIds(candidates.keys(), FIRST_ALLOCATED_ID.identity);
  const members = [...candidates].map(([key, member]) => ({ id: ids.get(key) as number, ...member }));
  members.sort((a, b) => a.id - b.id);
  const ofAddress = new Map([...keyOfAddress].map(([address, key]) => [address, ids.get(key) as number]));
  return {
    infos: members.map((member) => ({ id: member.id, namespace: member.namespace, labels: infoLabels(member) })),
    members,
    ofAddress,
  };
}
