// The oracle: one flow, judged straight from the Kubernetes NetworkPolicy rules plus moat's annotations,
// mode and loopback-only guard. Written for obviousness, not speed, and independently of the compiler:
// every datapath test compares the BPF verdict with this.
import type {
  ClusterState,
  Direction,
  Flow,
  FlowEnd,
  LabelSelectorRequirement,
  Namespace,
  Peer,
  Pod,
  PolicyPort,
  Rule,
  RuleOrigin,
} from './model.js';
import { ALLOWLIST_ANNOTATIONS, guardedPorts, podAllowlist, podMode } from './annotations.js';
import { selectorMatches } from './selectors.js';
import { cidrContainsIp, parseCidr, parseIp, type IpAddress } from './ip.js';
import { NAMESPACE_NAME_LABEL } from './parse-k8s-workloads.js';

export interface SideVerdict {
  isolated: boolean;
  /** This side lets the packet through (not isolated, a rule matched, or traffic from the node). */
  allowed: boolean;
  /** The pod judging this side is in audit mode. */
  audit: boolean;
  /** Every rule that allowed the flow. */
  rules: { origin: RuleOrigin; direction: Direction; index: number }[];
}

export interface FlowVerdict {
  /** Packet fate: would-drop = audit, the packet passes. */
  verdict: 'allow' | 'drop' | 'would-drop';
  /** same-pod: a pod talking to itself never crosses its veth, so nothing can stop it. */
  reason: 'allowed' | 'not-isolated' | 'policy-deny' | 'loopback-only' | 'from-node' | 'same-pod';
  /** The source pod's egress judgement (null: source is not a pod of the state, is host-network, or is the node). */
  egress: SideVerdict | null;
  /** The destination pod's ingress judgement (null: destination is not a pod of the state, or is host-network). */
  ingress: SideVerdict | null;
}

export interface EvaluateOptions {
  waypointSelectors?: readonly LabelSelectorRequirement[];
}

/** One end of the flow: `pod` only for pods moat enforces (not host-network); `hostPods` share the node's addresses. */
interface End {
  readonly pod?: Pod;
  readonly hostPods: readonly Pod[];
  readonly candidates: readonly IpAddress[];
}

/** The other end as a rule peer sees it. */
interface Remote {
  readonly pod?: Pod;
  readonly address?: IpAddress;
}

function sameAddress(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.value === b.value;
}

function podHasAddress(pod: Pod, address: IpAddress): boolean {
  return pod.ips.some((ip) => sameAddress(parseIp(ip), address));
}

function resolveEnd(state: ClusterState, end: FlowEnd, which: string): End {
  if ('pod' in end) {
    const pod = state.pods.find((p) => p.namespace === end.pod.namespace && p.name === end.pod.name);
    if (pod === undefined) throw new Error(`evaluate: flow.${which} names pod ${end.pod.namespace}/${end.pod.name}, which is not in the cluster state`);
    const candidates = pod.ips.map(parseIp);
    if (!pod.hostNetwork) return { pod, hostPods: [], candidates };
    return { hostPods: state.pods.filter((p) => p.hostNetwork && candidates.some((a) => podHasAddress(p, a))), candidates };
  }
  const address = parseIp(end.ip);
  const pod = state.pods.find((p) => !p.hostNetwork && podHasAddress(p, address));
  const hostPods = state.pods.filter((p) => p.hostNetwork && podHasAddress(p, address));
  return { ...(pod && { pod }), hostPods, candidates: [address] };
}

/** The two addresses of the flow: the same family on both ends, IPv4 preferred. */
function flowAddresses(from: End, to: End): [IpAddress | undefined, IpAddress | undefined] {
  for (const family of [4, 6]) {
    const source = from.candidates.find((a) => a.family === family);
    const destination = to.candidates.find((a) => a.family === family);
    if (source && destination) return [source, destination];
  }
  return [from.candidates[0], to.candidates[0]];
}

function namespaceOf(state: ClusterState, name: string): Namespace {
  return state.namespaces.find((ns) => ns.name === name) ?? { name, labels: { [NAMESPACE_NAME_LABEL]: name } };
}

function peerMatches(state: ClusterState, peer: Peer, ruleNamespace: string, remote: Remote): boolean {
  if (peer.kind === 'ipBlock') {
    const address = remote.address;
    if (address === undefined || !cidrContainsIp(parseCidr(peer.ipBlock.cidr), address)) return false;
    return !peer.ipBlock.except.some((except) => cidrContainsIp(parseCidr(except), address));
  }
  const pod = remote.pod;
  if (pod === undefined) return false;
  if (peer.namespaceSelector === undefined && peer.namespaceNames === undefined) {
    if (pod.namespace !== ruleNamespace) return false;
  } else {
    if (peer.namespaceNames !== undefined && !peer.namespaceNames.includes(pod.namespace)) return false;
    if (peer.namespaceSelector !== undefined && !selectorMatches(peer.namespaceSelector, namespaceOf(state, pod.namespace).labels)) return false;
  }
  return peer.podSelector === undefined || selectorMatches(peer.podSelector, pod.labels);
}

/** Named ports resolve against the destination pod's container ports of the same protocol. */
function portMatches(port: PolicyPort, flow: Flow, destinationPod: Pod | undefined): boolean {
  if (flow.protocol === 'ICMP' || port.protocol !== flow.protocol) return false;
  if (port.port === undefined) return true;
  if (typeof port.port === 'number') {
    return port.endPort === undefined ? flow.port === port.port : flow.port >= port.port && flow.port <= port.endPort;
  }
  const name = port.port;
  return destinationPod?.ports.some((p) => p.name === name && p.protocol === flow.protocol && p.port === flow.port) ?? false;
}

function ruleMatches(state: ClusterState, rule: Rule, ruleNamespace: string, remote: Remote, flow: Flow, destinationPod: Pod | undefined): boolean {
  const peerOk = rule.peers.length === 0 || rule.peers.some((peer) => peerMatches(state, peer, ruleNamespace, remote));
  const portOk = rule.ports.length === 0 || rule.ports.some((port) => portMatches(port, flow, destinationPod));
  return peerOk && portOk;
}

function judgeSide(state: ClusterState, pod: Pod, direction: Direction, remote: Remote, flow: Flow, destinationPod: Pod | undefined): SideVerdict {
  const policies = state.policies.filter(
    (policy) => policy.namespace === pod.namespace && policy.policyTypes.includes(direction) && selectorMatches(policy.podSelector, pod.labels),
  );
  const allowlist = podAllowlist(pod, direction);
  const rules: SideVerdict['rules'] = [];
  for (const policy of policies) {
    (direction === 'ingress' ? policy.ingress : policy.egress).forEach((rule, index) => {
      if (ruleMatches(state, rule, policy.namespace, remote, flow, destinationPod)) {
        rules.push({ origin: { kind: 'networkpolicy', namespace: policy.namespace, name: policy.name }, direction, index });
      }
    });
  }
  allowlist?.rules.forEach((rule, index) => {
    if (ruleMatches(state, rule, pod.namespace, remote, flow, destinationPod)) {
      rules.push({ origin: { kind: 'annotation', namespace: pod.namespace, pod: pod.name, key: ALLOWLIST_ANNOTATIONS[direction] }, direction, index });
    }
  });
  const isolated = policies.length > 0 || allowlist !== undefined;
  return { isolated, allowed: !isolated || rules.length > 0, audit: podMode(pod, namespaceOf(state, pod.namespace)) === 'audit', rules };
}

function isGuarded(flow: Flow, to: End, addresses: [IpAddress | undefined, IpAddress | undefined], options: EvaluateOptions): boolean {
  if (flow.protocol !== 'TCP') return false;
  const guarded = (pod: Pod) => guardedPorts(pod, options.waypointSelectors).ports.includes(flow.port);
  if (to.pod !== undefined) return guarded(to.pod);
  // Host-network destinations are guarded at the node's LOCAL_IN, where traffic from the node itself
  // (including other host-network pods: same addresses) arrives on lo and passes.
  const [source, destination] = addresses;
  const fromSameHost = flow.fromNode === true || (source !== undefined && destination !== undefined && sameAddress(source, destination));
  return !fromSameHost && to.hostPods.some(guarded);
}

export function evaluate(state: ClusterState, flow: Flow, options: EvaluateOptions = {}): FlowVerdict {
  const from = resolveEnd(state, flow.from, 'from');
  const to = resolveEnd(state, flow.to, 'to');
  const addresses = flowAddresses(from, to);
  const [sourceAddress, destinationAddress] = addresses;
  const sourcePod = flow.fromNode ? undefined : from.pod;
  if (sourcePod !== undefined && sourcePod === to.pod) return { verdict: 'allow', reason: 'same-pod', egress: null, ingress: null };

  const egress = sourcePod ? judgeSide(state, sourcePod, 'egress', { pod: to.pod, address: destinationAddress }, flow, to.pod) : null;
  const judgedIngress = to.pod ? judgeSide(state, to.pod, 'ingress', { pod: sourcePod, address: sourceAddress }, flow, to.pod) : null;
  const ingress = judgedIngress && flow.fromNode ? { ...judgedIngress, allowed: true } : judgedIngress;

  if (isGuarded(flow, to, addresses, options)) return { verdict: 'drop', reason: 'loopback-only', egress, ingress };
  if (flow.fromNode) return { verdict: 'allow', reason: 'from-node', egress, ingress };
  const sides = [egress, ingress].filter((side): side is SideVerdict => side !== null);
  const deniers = sides.filter((side) => !side.allowed);
  if (deniers.length === 0) return { verdict: 'allow', reason: sides.some((side) => side.isolated) ? 'allowed' : 'not-isolated', egress, ingress };
  return { verdict: deniers.some((side) => !side.audit) ? 'drop' : 'would-drop', reason: 'policy-deny', egress, ingress };
}
