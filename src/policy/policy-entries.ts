// Policy-map entries: per local endpoint and direction, every (peer, protocol, port prefix) an applicable
// rule allows. Peers become identities (pod selectors), CIDR atoms (ipBlocks) or "any" (no peers); ports
// become LPM prefixes; named ports resolve on the destination (the endpoint itself for ingress, each
// destination identity for egress). Identical keys keep the lowest rule id.
import type { PolicyEntry } from './desired.js';
import { ipBlockKey, type CidrAtoms } from './cidr-atoms.js';
import { namedPortKey, type Identities, type IdentityMember } from './identities.js';
import type { Direction, Peer, Pod, PolicyPort } from './model.js';
import { portRangePrefixes, PORT_BITS } from './port-prefixes.js';
import { protocolNumber } from './protocols.js';
import { selectorMatches } from './selectors.js';
import { byText, type EndpointPlan, type SourcedRule } from './endpoint-plan.js';

type PeerTarget = Pick<PolicyEntry, 'peerKind' | 'peerId'>;
type PortMatch = Pick<PolicyEntry, 'protocol' | 'port' | 'portPrefixLen'>;

const EVERY_PROTOCOL: PortMatch = { protocol: null, port: 0, portPrefixLen: 0 };
const ANY_PEER: PeerTarget = { peerKind: 'any', peerId: 0 };

function peerSelects(peer: Extract<Peer, { kind: 'pods' }>, ruleNamespace: string, member: IdentityMember): boolean {
  const namespaceChosen = peer.namespaceSelector !== undefined || peer.namespaceNames !== undefined;
  const namespaceOk = namespaceChosen
    ? (peer.namespaceSelector === undefined || selectorMatches(peer.namespaceSelector, member.namespaceLabels)) &&
      (peer.namespaceNames === undefined || peer.namespaceNames.includes(member.namespace))
    : member.namespace === ruleNamespace;
  return namespaceOk && (peer.podSelector === undefined || selectorMatches(peer.podSelector, member.podLabels));
}

/** What a rule's peers name: identities, CIDR atoms, or any peer; and the identities behind them. */
interface RuleTargets {
  readonly targets: readonly PeerTarget[];
  /** The identities an egress named port is resolved on (every identity the peers can reach). */
  readonly destinations: readonly IdentityMember[];
}

function ruleTargets(rule: SourcedRule, identities: Identities, atoms: CidrAtoms): RuleTargets {
  if (rule.rule.peers.length === 0) return { targets: [ANY_PEER], destinations: identities.members };
  const targets: PeerTarget[] = [];
  const destinations = new Set<IdentityMember>();
  for (const peer of rule.rule.peers) {
    if (peer.kind === 'ipBlock') {
      const key = ipBlockKey(peer.ipBlock);
      for (const atom of atoms.atomsOfBlock.get(key) ?? []) targets.push({ peerKind: 'cidr', peerId: atom });
      for (const member of identities.members) if (member.blocks.has(key)) destinations.add(member);
      continue;
    }
    for (const member of identities.members) {
      if (!peerSelects(peer, rule.origin.namespace, member)) continue;
      targets.push({ peerKind: 'identity', peerId: member.id });
      destinations.add(member);
    }
  }
  return { targets, destinations: [...destinations] };
}

function numberedPortMatches(port: PolicyPort): PortMatch[] {
  const protocol = protocolNumber(port.protocol);
  if (port.port === undefined) return [{ protocol, port: 0, portPrefixLen: 0 }];
  const first = port.port as number;
  return portRangePrefixes(first, port.endPort ?? first).map((p) => ({ protocol, port: p.port, portPrefixLen: p.prefixLen }));
}

function exactPorts(protocol: number, ports: readonly number[]): PortMatch[] {
  return ports.map((port) => ({ protocol, port, portPrefixLen: PORT_BITS }));
}

function podNamedPort(pod: Pod, port: PolicyPort): number[] {
  return pod.ports.filter((p) => p.name === port.port && p.protocol === port.protocol).map((p) => p.port);
}

/** One (peer, port) an allow rule grants, with its policy-map key (endpoint aside) precomputed. */
interface Grant {
  readonly key: string;
  readonly direction: Direction;
  readonly peer: PeerTarget;
  readonly match: PortMatch;
}

function grant(direction: Direction, peer: PeerTarget, match: PortMatch): Grant {
  return { key: `${direction}|${peer.peerKind}|${peer.peerId}|${match.protocol}|${match.port}|${match.portPrefixLen}`, direction, peer, match };
}

function crossGrants(direction: Direction, targets: readonly PeerTarget[], matches: readonly PortMatch[]): Grant[] {
  return targets.flatMap((target) => matches.map((match) => grant(direction, target, match)));
}

/** What a rule grants whichever endpoint it applies to: everything but ingress named ports. */
function sharedGrants(rule: SourcedRule, targets: RuleTargets): Grant[] {
  const { direction } = rule;
  if (rule.rule.ports.length === 0) return crossGrants(direction, targets.targets, [EVERY_PROTOCOL]);
  const grants: Grant[] = [];
  for (const port of rule.rule.ports) {
    if (typeof port.port !== 'string') {
      grants.push(...crossGrants(direction, targets.targets, numberedPortMatches(port)));
    } else if (direction === 'egress') {
      // The name resolves on the destination, and identities split pods that resolve it differently.
      const key = namedPortKey(port.port, port.protocol);
      for (const member of targets.destinations) {
        const ports = exactPorts(protocolNumber(port.protocol), member.namedPorts.get(key) ?? []);
        grants.push(...crossGrants(direction, [{ peerKind: 'identity', peerId: member.id }], ports));
      }
    }
  }
  return grants;
}

/** Ingress named ports resolve on the endpoint's own pod. */
function endpointGrants(rule: SourcedRule, targets: RuleTargets, pod: Pod): Grant[] {
  if (rule.direction !== 'ingress' || !rule.hasNamedPorts) return [];
  return rule.rule.ports
    .filter((port) => typeof port.port === 'string')
    .flatMap((port) => crossGrants('ingress', targets.targets, exactPorts(protocolNumber(port.protocol), podNamedPort(pod, port))));
}

const PEER_KIND_ORDER = { any: 0, identity: 1, cidr: 2 } as const;

function comparePolicyEntries(a: PolicyEntry, b: PolicyEntry): number {
  return (
    a.endpointId - b.endpointId ||
    byText(a.direction, b.direction) ||
    PEER_KIND_ORDER[a.peerKind] - PEER_KIND_ORDER[b.peerKind] ||
    a.peerId - b.peerId ||
    (a.protocol ?? -1) - (b.protocol ?? -1) ||
    a.port - b.port ||
    a.portPrefixLen - b.portPrefixLen
  );
}

export function policyEntries(plans: readonly EndpointPlan[], identities: Identities, atoms: CidrAtoms): PolicyEntry[] {
  const targetsOf = new Map<SourcedRule, RuleTargets>();
  const sharedOf = new Map<SourcedRule, Grant[]>();
  const perEndpoint: PolicyEntry[][] = [];
  for (const plan of [...plans].sort((a, b) => a.endpointId - b.endpointId)) {
    const kept = new Map<string, { grant: Grant; ruleId: number }>();
    for (const rule of plan.rules) {
      let targets = targetsOf.get(rule);
      if (targets === undefined) {
        targets = ruleTargets(rule, identities, atoms);
        targetsOf.set(rule, targets);
        sharedOf.set(rule, sharedGrants(rule, targets));
      }
      for (const grants of [sharedOf.get(rule) as Grant[], endpointGrants(rule, targets, plan.pod)]) {
        for (const granted of grants) {
          const existing = kept.get(granted.key);
          if (existing === undefined || existing.ruleId > rule.ruleId) kept.set(granted.key, { grant: granted, ruleId: rule.ruleId });
        }
      }
    }
    const entries = [...kept.values()].map(({ grant: { direction, peer, match }, ruleId }): PolicyEntry => ({
      endpointId: plan.endpointId,
      direction,
      peerKind: peer.peerKind,
      peerId: peer.peerId,
      protocol: match.protocol,
      port: match.port,
      portPrefixLen: match.portPrefixLen,
      ruleId,
    }));
    perEndpoint.push(entries.sort(comparePolicyEntries));
  }
  return perEndpoint.flat();
}

