// Which rules apply to which local endpoint: NetworkPolicies selecting the pod and the pod's own
// allowlist annotations, isolation per direction, and a stable id for every rule of the state.
import type { PolicyProblem, RuleInfo } from './desired.js';
import { podAllowlists } from './annotations.js';
import { namedPortKey, type IdentityReferences } from './identities.js';
import type { ClusterState, Direction, IPBlock, NetworkPolicy, Pod, PolicyPort, Rule, RuleOrigin } from './model.js';
import { ANNOTATION_ALLOW_EGRESS, ANNOTATION_ALLOW_INGRESS } from './model.js';
import { selectorLabelKeys, selectorMatches } from './selectors.js';
import { assignStableIds, FIRST_ALLOCATED_ID } from './stable-ids.js';

const DIRECTIONS: readonly Direction[] = ['ingress', 'egress'];

/** One rule with where it came from (origin.namespace is what its bare podSelectors mean). */
export interface SourcedRule {
  readonly rule: Rule;
  readonly origin: RuleOrigin;
  readonly direction: Direction;
  readonly index: number;
  readonly ruleId: number;
  readonly hasNamedPorts: boolean;
}

export interface EndpointPlan {
  readonly pod: Pod;
  readonly endpointId: number;
  readonly isolated: Readonly<Record<Direction, boolean>>;
  readonly rules: readonly SourcedRule[];
}

export function podKey(pod: { readonly namespace: string; readonly name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}

export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isLocal(state: ClusterState, pod: Pod): boolean {
  return state.node.name === '' || pod.nodeName === undefined || pod.nodeName === '' || pod.nodeName === state.node.name;
}

/** Names the rule list of one origin in one direction. */
function ruleOwnerKey(origin: RuleOrigin, direction: Direction): string {
  const owner = origin.kind === 'networkpolicy' ? [origin.name] : [origin.pod, origin.key];
  return JSON.stringify([origin.kind, origin.namespace, ...owner, direction]);
}

function ruleIdKey(origin: RuleOrigin, direction: Direction, index: number): string {
  return `${ruleOwnerKey(origin, direction)}#${index}`;
}

function annotationKey(direction: Direction): string {
  return direction === 'ingress' ? ANNOTATION_ALLOW_INGRESS : ANNOTATION_ALLOW_EGRESS;
}

interface RuleSet {
  readonly infos: RuleInfo[];
  readonly plans: EndpointPlan[];
  readonly problems: PolicyProblem[];
}

/** Which rules apply to which local endpoint, with isolation per direction and every rule numbered. */
export function planEndpoints(state: ClusterState, localPods: readonly Pod[]): RuleSet {
  const pending: { origin: RuleOrigin; direction: Direction; index: number; rule: Rule }[] = [];
  const problems: PolicyProblem[] = [];
  for (const policy of state.policies) {
    const origin: RuleOrigin = { kind: 'networkpolicy', namespace: policy.namespace, name: policy.name };
    for (const direction of DIRECTIONS) {
      policy[direction].forEach((rule, index) => pending.push({ origin, direction, index, rule }));
    }
  }
  const allowlists = new Map(localPods.map((pod) => [podKey(pod), podAllowlists(pod)]));
  for (const pod of localPods) {
    const lists = allowlists.get(podKey(pod));
    for (const direction of DIRECTIONS) {
      const list = lists?.[direction];
      if (list === undefined) continue;
      const key = annotationKey(direction);
      if (list.error !== undefined) {
        problems.push({ object: `Pod ${podKey(pod)}`, field: `metadata.annotations[${key}]`, message: list.error });
      }
      const origin: RuleOrigin = { kind: 'annotation', namespace: pod.namespace, pod: pod.name, key };
      list.rules.forEach((rule, index) => pending.push({ origin, direction, index, rule }));
    }
  }
  const ids = assignStableIds(pending.map((r) => ruleIdKey(r.origin, r.direction, r.index)), FIRST_ALLOCATED_ID.rule);
  const sourced = pending.map((r) => ({
    ...r,
    ruleId: ids.get(ruleIdKey(r.origin, r.direction, r.index)) as number,
    hasNamedPorts: ruleNamedPorts(r.rule).length > 0,
  }));
  const infos = sourced.map(({ ruleId, origin, direction, index }) => ({ ruleId, origin, direction, index }));
  infos.sort((a, b) => a.ruleId - b.ruleId);

  const rulesOfOwner = new Map<string, SourcedRule[]>();
  for (const rule of sourced) {
    const owner = ruleOwnerKey(rule.origin, rule.direction);
    rulesOfOwner.set(owner, [...(rulesOfOwner.get(owner) ?? []), rule]);
  }
  const policiesOfNamespace = new Map<string, NetworkPolicy[]>();
  for (const policy of state.policies) {
    policiesOfNamespace.set(policy.namespace, [...(policiesOfNamespace.get(policy.namespace) ?? []), policy]);
  }

  const endpointIds = assignStableIds(localPods.map(podKey), FIRST_ALLOCATED_ID.endpoint);
  const plans = localPods.map((pod): EndpointPlan => {
    const selecting = (policiesOfNamespace.get(pod.namespace) ?? []).filter((p) => selectorMatches(p.podSelector, pod.labels));
    const lists = allowlists.get(podKey(pod));
    const rules: SourcedRule[] = [];
    const isolated = { ingress: false, egress: false };
    for (const direction of DIRECTIONS) {
      const owners = selecting
        .filter((policy) => policy.policyTypes.includes(direction))
        .map((policy): RuleOrigin => ({ kind: 'networkpolicy', namespace: policy.namespace, name: policy.name }));
      if (lists?.[direction] !== undefined) {
        owners.push({ kind: 'annotation', namespace: pod.namespace, pod: pod.name, key: annotationKey(direction) });
      }
      isolated[direction] = owners.length > 0;
      for (const owner of owners) rules.push(...(rulesOfOwner.get(ruleOwnerKey(owner, direction)) ?? []));
    }
    return { pod, endpointId: endpointIds.get(podKey(pod)) as number, isolated, rules };
  });
  return { infos, plans, problems };
}

function ruleNamedPorts(rule: Rule): PolicyPort[] {
  return rule.ports.filter((port) => typeof port.port === 'string');
}

export function ipBlocksOf(rule: Rule): IPBlock[] {
  return rule.peers.flatMap((peer) => (peer.kind === 'ipBlock' ? [peer.ipBlock] : []));
}

/** Collects what the applicable rules look at, so identities distinguish exactly that. */
export function identityReferences(rules: readonly SourcedRule[]): IdentityReferences {
  const podLabelKeys = new Set<string>();
  const namespaceLabelKeys = new Set<string>();
  const egressNamedPorts = new Set<string>();
  const egressNamedPortBlocks: IPBlock[] = [];
  for (const { rule, direction } of rules) {
    for (const peer of rule.peers) {
      if (peer.kind !== 'pods') continue;
      if (peer.podSelector) selectorLabelKeys(peer.podSelector).forEach((key) => podLabelKeys.add(key));
      if (peer.namespaceSelector) selectorLabelKeys(peer.namespaceSelector).forEach((key) => namespaceLabelKeys.add(key));
    }
    const named = ruleNamedPorts(rule);
    if (direction === 'egress' && named.length > 0) {
      for (const port of named) egressNamedPorts.add(namedPortKey(port.port as string, port.protocol));
      egressNamedPortBlocks.push(...ipBlocksOf(rule));
    }
  }
  return { podLabelKeys, namespaceLabelKeys, egressNamedPorts, egressNamedPortBlocks };
}

