// Wiring of a kit topology: the namespace plan, sysctls, and the `ip -batch` scripts that create links,
// addresses and routes in each node and pod namespace (see topology.ts for the shapes).
import { nodeAddress, podAddress, podCidr, ROUTED_GATEWAY, ROUTED_HOST_MAC, uplinkAddress, type DualAddress } from './addresses.js';
import { run, runIn } from './exec.js';
import type { PodSpec, TopologyKind, TopologySpec } from './topology.js';

export interface LinkJson {
  ifindex: number;
  ifname: string;
  address: string;
}

export const DEFAULT_BLOCK = 200;
export const POD_IFNAME = 'eth0';
const BRIDGE_IFNAME = 'cni0';
const NODE_ADDRESS_IFNAME = 'nodeaddr';
const UPLINK_IFNAME = 'uplink';
export const IP_TIMEOUT_MS = 20_000;

export function hostIfname(kind: TopologyKind, slot: number): string {
  return `${kind === 'bridge' ? 'veth' : 'cali'}${slot}`;
}

/** A netns-safe rendering of a Kubernetes name (DNS-1123 names pass unchanged). */
function netnsSafe(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9.-]+/g, '_');
}

export interface PlannedPod {
  spec: Required<PodSpec>;
  netns: string;
  slot: number;
  address: DualAddress;
}

export interface PlannedNode {
  index: number;
  netns: string;
  pods: PlannedPod[];
}

export function plan(spec: TopologySpec, stem: string): PlannedNode[] {
  const nodeCount = spec.nodes ?? 1;
  const block = spec.addressBlock ?? DEFAULT_BLOCK;
  const nodes: PlannedNode[] = Array.from({ length: nodeCount }, (_, index) => ({ index, netns: `${stem}-n${index}`, pods: [] }));
  const seen = new Set<string>();
  for (const pod of spec.pods) {
    const full: Required<PodSpec> = { name: pod.name, namespace: pod.namespace ?? 'default', node: pod.node ?? 0 };
    const netns = `${stem}-${netnsSafe(full.namespace)}-${netnsSafe(full.name)}`;
    const node = nodes[full.node];
    if (node === undefined) throw new Error(`pod ${full.namespace}/${full.name}: node ${full.node} does not exist (nodes: ${nodeCount})`);
    if (seen.has(netns)) throw new Error(`pod ${full.namespace}/${full.name}: listed twice (or collides after name sanitising)`);
    seen.add(netns);
    const slot = node.pods.length;
    node.pods.push({ spec: full, netns, slot, address: podAddress(block, full.node, slot) });
  }
  return nodes;
}

function sysctlArgs(settings: Record<string, string | number>): string[] {
  return ['sysctl', '-q', '-w', ...Object.entries(settings).map(([key, value]) => `${key}=${value}`)];
}

/** Namespace-wide settings, applied before any interface exists so new interfaces inherit them. */
function nodeSysctls(spec: TopologySpec): string[] {
  const bridgeNf = spec.kind === 'bridge' && spec.brNetfilter ? 1 : 0;
  return sysctlArgs({
    'net.ipv4.ip_forward': 1,
    'net.ipv6.conf.all.forwarding': 1,
    'net.ipv4.conf.all.rp_filter': 0,
    'net.ipv4.conf.default.rp_filter': 0,
    // DAD would keep fresh v6 addresses tentative for about a second; these namespaces are private.
    'net.ipv6.conf.all.accept_dad': 0,
    'net.ipv6.conf.default.accept_dad': 0,
    'net.bridge.bridge-nf-call-iptables': bridgeNf,
    'net.bridge.bridge-nf-call-ip6tables': bridgeNf,
  });
}

const POD_SYSCTLS = sysctlArgs({
  'net.ipv6.conf.all.accept_dad': 0,
  'net.ipv6.conf.default.accept_dad': 0,
  'net.ipv4.conf.all.rp_filter': 0,
  'net.ipv4.conf.default.rp_filter': 0,
});

function nodeBatch(spec: TopologySpec, node: PlannedNode, nodes: readonly PlannedNode[]): string[] {
  const block = spec.addressBlock ?? DEFAULT_BLOCK;
  const own = nodeAddress(block, node.index);
  const lines: string[] = ['link set lo up'];
  const v6 = spec.ipv6 === true;
  if (spec.kind === 'bridge') {
    lines.push(`link add name ${BRIDGE_IFNAME} type bridge forward_delay 0`);
    lines.push(`addr add ${own.v4}/24 dev ${BRIDGE_IFNAME}`);
    if (v6) lines.push(`addr add ${own.v6}/64 dev ${BRIDGE_IFNAME} nodad`);
    lines.push(`link set ${BRIDGE_IFNAME} up`);
  } else {
    // Calico hosts have a default route; proxy ARP only answers for 169.254.1.1 when it is routable
    // through another device, so the node's own address lives on a port-less bridge (this kernel has
    // no dummy driver) that also takes the default route and silently drops what it is given.
    lines.push(`link add name ${NODE_ADDRESS_IFNAME} type bridge`);
    lines.push(`addr add ${own.v4}/32 dev ${NODE_ADDRESS_IFNAME}`);
    if (v6) lines.push(`addr add ${own.v6}/128 dev ${NODE_ADDRESS_IFNAME} nodad`);
    lines.push(`link set ${NODE_ADDRESS_IFNAME} up`);
    lines.push(`route add default dev ${NODE_ADDRESS_IFNAME}`);
  }
  for (const pod of node.pods) {
    const host = hostIfname(spec.kind, pod.slot);
    if (spec.kind === 'bridge') {
      lines.push(`link add name ${host} type veth peer name ${POD_IFNAME} netns ${pod.netns}`);
      lines.push(`link set ${host} master ${BRIDGE_IFNAME}`);
      lines.push(`link set ${host} up`);
    } else {
      lines.push(`link add name ${host} address ${ROUTED_HOST_MAC} type veth peer name ${POD_IFNAME} netns ${pod.netns}`);
      lines.push(`link set ${host} up`);
      lines.push(`route add ${pod.address.v4}/32 dev ${host} scope link`);
      if (v6) lines.push(`route add ${pod.address.v6}/128 dev ${host}`);
    }
  }
  const other = nodes.find((candidate) => candidate.index !== node.index);
  if (other !== undefined) {
    // The first node creates the uplink pair; both configure their end.
    if (node.index === 0) lines.push(`link add name ${UPLINK_IFNAME} type veth peer name ${UPLINK_IFNAME} netns ${other.netns}`);
    const mine = uplinkAddress(block, node.index);
    const theirs = uplinkAddress(block, other.index);
    const theirPods = podCidr(block, other.index);
    lines.push(`addr add ${mine.v4}/24 dev ${UPLINK_IFNAME}`);
    if (v6) lines.push(`addr add ${mine.v6}/64 dev ${UPLINK_IFNAME} nodad`);
    lines.push(`link set ${UPLINK_IFNAME} up`);
    lines.push(`route add ${theirPods.v4} via ${theirs.v4} dev ${UPLINK_IFNAME}`);
    if (v6) lines.push(`route add ${theirPods.v6} via ${theirs.v6} dev ${UPLINK_IFNAME}`);
  }
  lines.push('link show');
  return lines;
}

function routedHostSysctls(pods: readonly PlannedPod[]): string[] {
  const settings: Record<string, number> = {};
  for (const pod of pods) {
    const host = hostIfname('routed', pod.slot);
    settings[`net.ipv4.conf.${host}.proxy_arp`] = 1;
    settings[`net.ipv4.neigh.${host}.proxy_delay`] = 0; // else broadcast ARP answers wait up to 0.8 s
  }
  return sysctlArgs(settings);
}

function podBatch(spec: TopologySpec, pod: PlannedPod, gateway: DualAddress): string[] {
  const v6 = spec.ipv6 === true;
  const lines = ['link set lo up'];
  const prefix = spec.kind === 'bridge' ? { v4: 24, v6: 64 } : { v4: 32, v6: 128 };
  lines.push(`addr add ${pod.address.v4}/${prefix.v4} dev ${POD_IFNAME}`);
  if (v6) lines.push(`addr add ${pod.address.v6}/${prefix.v6} dev ${POD_IFNAME} nodad`);
  lines.push(`link set ${POD_IFNAME} up`);
  if (spec.kind === 'routed') lines.push(`route add ${gateway.v4} dev ${POD_IFNAME} scope link`);
  lines.push(`route add default via ${gateway.v4} dev ${POD_IFNAME}`);
  if (v6) lines.push(`route add ::/0 via ${gateway.v6} dev ${POD_IFNAME}`);
  lines.push(`link show dev ${POD_IFNAME}`);
  return lines;
}

async function ipBatch(netns: string, lines: readonly string[]): Promise<LinkJson[]> {
  const { stdout } = await run(['ip', '-j', '-n', netns, '-batch', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: IP_TIMEOUT_MS });
  return JSON.parse(stdout) as LinkJson[];
}

export function findLink(links: readonly LinkJson[], ifname: string, netns: string): LinkJson {
  const link = links.find((candidate) => candidate.ifname === ifname);
  if (link === undefined) throw new Error(`link ${ifname} missing in ${netns} after setup`);
  return link;
}

/** Sysctls, links, addresses and routes of every namespace; returns the links as `ip -j` shows them. */
export interface WiredLinks {
  /** Per node, every link of its namespace. */
  nodeLinks: LinkJson[][];
  /** Per pod (in plan order), its eth0. */
  podLinks: LinkJson[][];
}

export async function wire(spec: TopologySpec, nodes: readonly PlannedNode[]): Promise<WiredLinks> {
  const pods = nodes.flatMap((node) => node.pods);
  await Promise.all([
    ...nodes.map((node) => runIn(node.netns, nodeSysctls(spec))),
    ...pods.map((pod) => runIn(pod.netns, POD_SYSCTLS)),
  ]);
  // Sequential: the first node's batch creates the uplink the second one configures.
  const nodeLinks: LinkJson[][] = [];
  for (const node of nodes) nodeLinks.push(await ipBatch(node.netns, nodeBatch(spec, node, nodes)));
  if (spec.kind === 'routed') {
    await Promise.all(nodes.filter((node) => node.pods.length > 0).map((node) => runIn(node.netns, routedHostSysctls(node.pods))));
  }
  const block = spec.addressBlock ?? DEFAULT_BLOCK;
  const podLinks = await Promise.all(
    pods.map((pod) => ipBatch(pod.netns, podBatch(spec, pod, spec.kind === 'bridge' ? nodeAddress(block, pod.spec.node) : ROUTED_GATEWAY))),
  );
  return { nodeLinks, podLinks };
}
