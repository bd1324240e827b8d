// Real pod topologies in network namespaces: one NODE namespace per node (no test traffic touches the
// machine's root namespace), one namespace per pod joined to its node by a veth, and a pod agent in
// each. `bridge` wires pods like Flannel (host veths on a Linux bridge, pods on the node's /24);
// `routed` like Calico (pod /32 + /128, host route per pod, gateway 169.254.1.1 via proxy ARP and
// fe80::ecee:eeff:feee:eeee). Two nodes are joined by an "uplink" veth with plain routes.
import { PodAgent } from './agent.js';
import { nodeAddress, podCidr, uplinkAddress, type DualAddress } from './addresses.js';
import { BackgroundProcess } from './background.js';
import { deleteNetnsSync, listNetns, reapStaleNamespacesOnce, registerCleanup, uniqueStem } from './cleanup.js';
import { netnsPath, run, runIn, type RunOptions, type RunResult } from './exec.js';
import { DEFAULT_BLOCK, findLink, hostIfname, IP_TIMEOUT_MS, plan, POD_IFNAME, wire, type PlannedNode, type WiredLinks } from './wiring.js';

export type TopologyKind = 'bridge' | 'routed';

export interface PodSpec {
  name: string;
  /** Kubernetes namespace; default "default". */
  namespace?: string;
  /** Index of the node the pod runs on; default 0. */
  node?: number;
}

export interface TopologySpec {
  kind: TopologyKind;
  pods: readonly PodSpec[];
  /** Also give every pod and node an IPv6 address (dual stack). */
  ipv6?: boolean;
  nodes?: 1 | 2;
  /** Readable marker in the namespace names (debugging). */
  tag?: string;
  /** bridge only: net.bridge.bridge-nf-call-ip(6)tables=1 in the node namespace (it is per netns here). */
  brNetfilter?: boolean;
  /** Second octet of the 10.B.0.0/16 (and fd00:B::/32) block the topology uses; default 200. */
  addressBlock?: number;
}

export interface NodeInfo {
  index: number;
  netns: string;
  netnsPath: string;
  /** The node's own address(es): the bridge gateway (bridge) or a /32 on device nodeaddr (routed). */
  ips: string[];
  /** This node's pod CIDRs (v4, then v6 when enabled). */
  podCidrs: string[];
  /** Address(es) on the uplink to the other node; empty with one node. */
  uplinkIps: string[];
  /** Agent in the node namespace, for node-originated traffic (kubelet probes, host-network pods). */
  agent: PodAgent;
}

export interface PodInfo {
  name: string;
  namespace: string;
  node: number;
  netns: string;
  netnsPath: string;
  /** v4 first, then v6 when enabled. */
  ips: string[];
  ipv4: string;
  ipv6: string | undefined;
  /** The host-side veth, in the node namespace. */
  hostIfname: string;
  hostIfindex: number;
  hostMac: string;
  podIfname: string;
  mac: string;
  agent: PodAgent;
}

export class Topology {
  private readonly deferred: Array<() => Promise<void> | void> = [];
  private readonly background: BackgroundProcess[] = [];
  private destroyed = false;

  /** @internal built by createTopology */
  constructor(
    readonly kind: TopologyKind,
    readonly stem: string,
    readonly nodes: readonly NodeInfo[],
    readonly pods: readonly PodInfo[],
    private readonly namespaces: readonly string[],
    private readonly unregister: () => void,
  ) {}

  /** Every namespace this topology owns (nodes first). */
  get netnsNames(): readonly string[] {
    return this.namespaces;
  }

  node(index = 0): NodeInfo {
    const node = this.nodes[index];
    if (node === undefined) throw new Error(`topology ${this.stem}: no node ${index}`);
    return node;
  }

  /** Pod by name, or by "namespace/name" when names repeat across namespaces. */
  pod(ref: string): PodInfo {
    const [namespace, name] = ref.includes('/') ? ref.split('/', 2) : [undefined, ref];
    const matches = this.pods.filter((pod) => pod.name === name && (namespace === undefined || pod.namespace === namespace));
    if (matches.length !== 1) {
      throw new Error(`topology ${this.stem}: pod ${ref} ${matches.length === 0 ? 'not found' : 'is ambiguous; use namespace/name'}`);
    }
    return matches[0] as PodInfo;
  }

  /** Run a command in node `index`'s namespace (BPF pins visible). */
  runOnNode(argv: readonly string[], options: RunOptions & { node?: number } = {}): Promise<RunResult> {
    return runIn(this.node(options.node).netns, argv, options);
  }

  /** Start a long-running command in a namespace; it is killed on destroy() at the latest. */
  startIn(netns: string, argv: readonly string[]): BackgroundProcess {
    const process = BackgroundProcess.start(netns, argv);
    this.background.push(process);
    return process;
  }

  /** Register cleanup to run first in destroy() (LIFO), e.g. removing BPF pins made for this topology. */
  defer(cleanup: () => Promise<void> | void): void {
    this.deferred.push(cleanup);
  }

  /** Close the long-lived connections every agent holds (between tests). */
  async closeConnections(): Promise<void> {
    await Promise.all(this.agents().map((agent) => agent.closeAllConnections()));
  }

  private agents(): PodAgent[] {
    return [...this.nodes.map((node) => node.agent), ...this.pods.map((pod) => pod.agent)];
  }

  /** Kill agents and background processes by PID, then delete every namespace (and so every link). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const failures: unknown[] = [];
    for (const cleanup of this.deferred.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        failures.push(error);
      }
    }
    await Promise.all([...this.agents().map((agent) => agent.stop()), ...this.background.map((process) => process.stop())]);
    await deleteNamespaces(this.namespaces).catch((error: unknown) => failures.push(error));
    this.unregister();
    if (failures.length > 0) throw new AggregateError(failures, `topology ${this.stem}: cleanup failed`);
  }
}

async function deleteNamespaces(names: readonly string[]): Promise<void> {
  await run(['ip', '-force', '-batch', '-'], { input: names.map((name) => `netns del ${name}\n`).join(''), timeoutMs: IP_TIMEOUT_MS, check: false });
  const left = listNetns().filter((name) => names.includes(name));
  if (left.length > 0) throw new Error(`namespaces still present after netns del: ${left.join(', ')}`);
}

/** Start agents in parallel; all of them or none (the started ones are stopped again). */
async function startAgents(wanted: ReadonlyArray<{ name: string; netns: string }>): Promise<PodAgent[]> {
  const settled = await Promise.allSettled(wanted.map(({ name, netns }) => PodAgent.start(name, netns)));
  const failure = settled.find((outcome) => outcome.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.stop() : undefined)));
    throw (failure as PromiseRejectedResult).reason;
  }
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<PodAgent>).value);
}

/** What tests see of a wired topology; `agents` are the node agents followed by the pod agents. */
function describeTopology(
  spec: TopologySpec,
  nodes: readonly PlannedNode[],
  { nodeLinks, podLinks }: WiredLinks,
  agents: readonly PodAgent[],
): { nodeInfos: NodeInfo[]; podInfos: PodInfo[] } {
  const pods = nodes.flatMap((node) => node.pods);
  const block = spec.addressBlock ?? DEFAULT_BLOCK;
  const v6 = spec.ipv6 === true;
  const dual = (address: DualAddress): string[] => (v6 ? [address.v4, address.v6] : [address.v4]);
  const nodeInfos: NodeInfo[] = nodes.map((node) => ({
    index: node.index,
    netns: node.netns,
    netnsPath: netnsPath(node.netns),
    ips: dual(nodeAddress(block, node.index)),
    podCidrs: dual(podCidr(block, node.index)),
    uplinkIps: nodes.length > 1 ? dual(uplinkAddress(block, node.index)) : [],
    agent: agents[node.index] as PodAgent,
  }));
  const podInfos: PodInfo[] = pods.map((pod, index) => {
    const host = findLink(nodeLinks[pod.spec.node] ?? [], hostIfname(spec.kind, pod.slot), nodes[pod.spec.node]?.netns ?? '');
    const inside = findLink(podLinks[index] ?? [], POD_IFNAME, pod.netns);
    return {
      name: pod.spec.name,
      namespace: pod.spec.namespace,
      node: pod.spec.node,
      netns: pod.netns,
      netnsPath: netnsPath(pod.netns),
      ips: dual(pod.address),
      ipv4: pod.address.v4,
      ipv6: v6 ? pod.address.v6 : undefined,
      hostIfname: host.ifname,
      hostIfindex: host.ifindex,
      hostMac: host.address,
      podIfname: POD_IFNAME,
      mac: inside.address,
      agent: agents[nodes.length + index] as PodAgent,
    };
  });
  return { nodeInfos, podInfos };
}

/** Build the topology; on any failure everything made so far is removed before the error is thrown. */
export async function createTopology(spec: TopologySpec): Promise<Topology> {
  reapStaleNamespacesOnce();
  if (spec.kind !== 'bridge' && spec.kind !== 'routed') throw new Error(`topology kind ${String(spec.kind)}: must be bridge or routed`);
  const stem = uniqueStem(spec.tag);
  const nodes = plan(spec, stem);
  const pods = nodes.flatMap((node) => node.pods);
  const namespaces = [...nodes.map((node) => node.netns), ...pods.map((pod) => pod.netns)];
  const unregister = registerCleanup(() => deleteNetnsSync(namespaces));
  let agentsStarting: Promise<PodAgent[]> | undefined;
  try {
    await run(['ip', '-batch', '-'], { input: namespaces.map((name) => `netns add ${name}\n`).join(''), timeoutMs: IP_TIMEOUT_MS });
    // Agents only need their namespace: their (CPU-bound) python start-up overlaps the wiring.
    agentsStarting = startAgents([
      ...nodes.map((node) => ({ name: `node${node.index}`, netns: node.netns })),
      ...pods.map((pod) => ({ name: pod.spec.name, netns: pod.netns })),
    ]);
    const [{ nodeLinks, podLinks }, agents] = await Promise.all([wire(spec, nodes), agentsStarting]);
    const { nodeInfos, podInfos } = describeTopology(spec, nodes, { nodeLinks, podLinks }, agents);
    return new Topology(spec.kind, stem, nodeInfos, podInfos, namespaces, unregister);
  } catch (error) {
    const agents = (await agentsStarting?.catch(() => [])) ?? [];
    await Promise.all(agents.map((agent) => agent.stop()));
    deleteNetnsSync(namespaces);
    unregister();
    throw new Error(`createTopology ${spec.kind} (${stem}): ${(error as Error).message}`, { cause: error });
  }
}
