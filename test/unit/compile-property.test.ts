// compile + the simulated BPF lookup must agree with the oracle (evaluate.ts) on random clusters and flows.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compile } from '../../src/policy/compile.js';
import { evaluate, type SideVerdict } from '../../src/policy/evaluate.js';
import { DatapathSimulator, packetOfFlow, type HookDecision } from '../../src/policy/lookup.js';
import type {
  ClusterState,
  Flow,
  FlowEnd,
  IPBlock,
  LabelSelector,
  LabelSelectorRequirement,
  NetworkPolicy,
  Peer,
  Pod,
  PolicyPort,
  Rule,
} from '../../src/policy/model.js';
import { NAMESPACE_NAME_LABEL } from '../../src/policy/parse-k8s-workloads.js';

const NODE = 'node-a';
const NODE_IP = '192.168.0.1';
const REMOTE_NODE_IP = '192.168.0.2';
const NAMESPACES = ['x', 'y', 'z'];
const EXTERNAL_IPS = ['10.0.1.5', '10.9.0.1', '172.16.0.1', '2001:db8::1', 'fd00::1:5', NODE_IP, REMOTE_NODE_IP];
const PORTS = [53, 80, 81, 8080, 15088];

const labelValue = fc.constantFrom('a', 'b');
const labelsArb = fc.record(
  { app: fc.constantFrom('web', 'db'), tier: labelValue, 'pod-template-hash': fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16)) },
  { requiredKeys: [] },
);

const requirementArb: fc.Arbitrary<LabelSelectorRequirement> = fc.oneof(
  fc.record({ key: fc.constantFrom('app', 'tier', 'team'), operator: fc.constantFrom('In' as const, 'NotIn' as const), values: fc.subarray(['web', 'db', 'a', 'b'], { minLength: 1 }) }),
  fc.record({ key: fc.constantFrom('app', 'tier', 'team'), operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const), values: fc.constant([]) }),
);

// Mostly one requirement, so selectors match some pods and miss others rather than matching nothing.
const selectorArb: fc.Arbitrary<LabelSelector> = fc.record({
  matchLabels: fc.oneof(
    fc.constant({}),
    fc.record({ app: fc.constantFrom('web', 'db') }),
    fc.record({ tier: labelValue }),
    fc.record({ team: labelValue }),
    fc.record({ app: fc.constantFrom('web', 'db'), tier: labelValue }),
  ),
  matchExpressions: fc.oneof(fc.constant([]), fc.array(requirementArb, { maxLength: 2 })),
});

const ipBlockArb: fc.Arbitrary<IPBlock> = fc.constantFrom(
  { cidr: '10.0.0.0/16', except: ['10.0.1.0/24'] },
  { cidr: '10.0.0.0/8', except: [] },
  { cidr: '10.0.2.0/24', except: [] },
  { cidr: '0.0.0.0/0', except: ['10.0.0.0/16'] },
  { cidr: '::/0', except: [] },
  { cidr: 'fd00::/64', except: ['fd00::1:0/112'] },
  { cidr: '192.168.0.0/24', except: [] },
);

const peerArb: fc.Arbitrary<Peer> = fc.oneof(
  fc.record({ kind: fc.constant('pods' as const), podSelector: selectorArb }),
  fc.record({ kind: fc.constant('pods' as const), namespaceSelector: selectorArb }),
  fc.record({ kind: fc.constant('pods' as const), podSelector: selectorArb, namespaceSelector: selectorArb }),
  fc.record({ kind: fc.constant('ipBlock' as const), ipBlock: ipBlockArb }),
);

const portArb: fc.Arbitrary<PolicyPort> = fc.oneof(
  fc.record({ protocol: fc.constantFrom('TCP' as const, 'UDP' as const, 'SCTP' as const) }),
  fc.record({ protocol: fc.constantFrom('TCP' as const, 'UDP' as const), port: fc.constantFrom(...PORTS) }),
  fc.record({ protocol: fc.constantFrom('TCP' as const, 'UDP' as const), port: fc.constantFrom('http', 'dns') }),
  fc.tuple(fc.constantFrom('TCP' as const, 'UDP' as const), fc.integer({ min: 50, max: 100 }), fc.integer({ min: 0, max: 8100 }))
    .map(([protocol, port, span]): PolicyPort => ({ protocol, port, endPort: port + span })),
);

const ruleArb: fc.Arbitrary<Rule> = fc.record({
  peers: fc.oneof(fc.constant([]), fc.array(peerArb, { minLength: 1, maxLength: 2 })),
  ports: fc.oneof(fc.constant([]), fc.array(portArb, { minLength: 1, maxLength: 2 })),
});

const policyArb = (name: string): fc.Arbitrary<NetworkPolicy> =>
  fc.record({
    namespace: fc.constantFrom(...NAMESPACES),
    name: fc.constant(name),
    podSelector: selectorArb,
    policyTypes: fc.subarray(['ingress' as const, 'egress' as const], { minLength: 1 }),
    ingress: fc.array(ruleArb, { maxLength: 3 }),
    egress: fc.array(ruleArb, { maxLength: 3 }),
  });

const annotationArb = fc.constantFrom(
  '',
  'tcp/80',
  'tcp/http from pod:app=web',
  'tcp/8000-8080 from ns:y; udp/53',
  '* from nslabel:team=a cidr:10.0.0.0/16!10.0.1.0/24',
  'tcp/http to pod:app=db ns:z/pod:tier=a',
  'udp/dns to cidr:10.0.0.0/8',
  'tcp/80 fro pod:app=web',
);

const containerPortsArb = fc.array(
  fc.record({ name: fc.constantFrom('http', 'dns'), port: fc.constantFrom(...PORTS), protocol: fc.constantFrom('TCP' as const, 'UDP' as const) }),
  { maxLength: 2 },
).map((ports) => ports.filter((p, i) => ports.findIndex((q) => q.name === p.name) === i));

interface PodShape {
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ports: Pod['ports'];
  placement: 'local' | 'remote' | 'host' | 'remote-host';
  families: 'v4' | 'v6' | 'dual';
}

const podShapeArb: fc.Arbitrary<PodShape> = fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  labels: fc.tuple(labelsArb, fc.constantFrom<Record<string, string>>({}, {}, {}, { 'moat.dev/mode': 'audit' }, { 'moat.dev/waypoint': 'true' }))
    .map(([labels, extra]) => ({ ...(labels as Record<string, string>), ...extra })),
  annotations: fc.oneof(
    { weight: 2, arbitrary: fc.constant<Record<string, string>>({}) },
    { weight: 1, arbitrary: fc.record({ 'moat.dev/allow-ingress': annotationArb, 'moat.dev/allow-egress': annotationArb }, { requiredKeys: [] }).map((a) => a as Record<string, string>) },
  ),
  ports: containerPortsArb,
  placement: fc.constantFrom('local' as const, 'local' as const, 'local' as const, 'remote' as const, 'host' as const, 'remote-host' as const),
  families: fc.constantFrom('v4' as const, 'v4' as const, 'v6' as const, 'dual' as const),
});

function buildPod(shape: PodShape, index: number): Pod {
  const host = shape.placement === 'host' || shape.placement === 'remote-host';
  const ips = host
    ? [shape.placement === 'host' ? NODE_IP : REMOTE_NODE_IP]
    : [
        ...(shape.families === 'v6' ? [] : [`10.0.${index % 3}.${10 + index}`]),
        ...(shape.families === 'v4' ? [] : [`fd00::${index.toString(16)}`]),
      ];
  return {
    namespace: shape.namespace,
    name: `p${index}`,
    labels: shape.labels,
    annotations: host ? { ...shape.annotations, 'moat.dev/loopback-only-ports': '8080' } : shape.annotations,
    ips,
    ...(shape.placement === 'remote' || shape.placement === 'remote-host' ? { nodeName: 'node-b' } : { nodeName: NODE }),
    hostNetwork: host,
    ports: shape.ports,
  };
}

const stateArb: fc.Arbitrary<ClusterState> = fc
  .tuple(
    fc.array(podShapeArb, { minLength: 2, maxLength: 8 }),
    fc.array(fc.nat(), { maxLength: 5 }).chain((ids) => fc.tuple(...ids.map((_, i) => policyArb(`np${i}`)))),
    fc.tuple(...NAMESPACES.map(() => fc.record({ team: labelValue, 'moat.dev/mode': fc.constantFrom('enforce', 'audit') }, { requiredKeys: ['team'] }))),
  )
  .map(([shapes, policies, nsLabels]) => ({
    node: { name: NODE, ips: [NODE_IP] },
    namespaces: NAMESPACES.map((name, i) => ({ name, labels: { ...nsLabels[i], [NAMESPACE_NAME_LABEL]: name } })),
    pods: shapes.map(buildPod),
    policies,
    services: [],
    endpointSlices: [],
  }));

/** Ports the state's rules and pods name, and the ports just outside each range: where verdicts flip. */
function portsInUse(state: ClusterState): number[] {
  const ports = new Set<number>(state.pods.flatMap((pod) => pod.ports.map((p) => p.port)));
  const rules = state.policies.flatMap((policy) => [...policy.ingress, ...policy.egress]);
  for (const port of rules.flatMap((rule) => rule.ports)) {
    if (typeof port.port !== 'number') continue;
    const last = port.endPort ?? port.port;
    [port.port - 1, port.port, last, last + 1].forEach((p) => ports.add(p));
  }
  return [...ports, 8000, 8100];
}

function flowArb(state: ClusterState): fc.Arbitrary<Flow> {
  const podEnd = fc.constantFrom(...state.pods.map((p): FlowEnd => ({ pod: { namespace: p.namespace, name: p.name } })));
  const end: fc.Arbitrary<FlowEnd> = fc.oneof(
    { weight: 3, arbitrary: podEnd },
    { weight: 1, arbitrary: fc.constantFrom(...EXTERNAL_IPS.map((ip): FlowEnd => ({ ip }))) },
  );
  return fc.record({
    from: end,
    to: end,
    protocol: fc.constantFrom('TCP' as const, 'TCP' as const, 'UDP' as const, 'SCTP' as const, 'ICMP' as const),
    port: fc.oneof(fc.constantFrom(...PORTS), fc.constantFrom(...portsInUse(state))),
    fromNode: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  });
}

function sideAgrees(side: SideVerdict | null, hook: HookDecision | null, what: string): void {
  expect(hook === null, `${what}: judged by the simulation iff judged by the oracle`).toBe(side === null);
  if (side === null || hook === null) return;
  const expected = side.allowed ? 'allow' : side.audit ? 'would-drop' : 'drop';
  // The guard is reported on its own by the oracle; the side's policy verdict is what must agree here.
  if (hook.reason === 'loopback-only') return;
  expect(hook.verdict, what).toBe(expected);
}

function podsAt(state: ClusterState, end: FlowEnd): Pod[] {
  return 'pod' in end
    ? state.pods.filter((p) => p.namespace === end.pod.namespace && p.name === end.pod.name)
    : state.pods.filter((p) => p.ips.includes(end.ip));
}

/** Whether the pods at this end are judged on this node (remote pods are judged on their own node). */
function isLocalEnd(state: ClusterState, end: FlowEnd): boolean {
  return podsAt(state, end).every((pod) => pod.nodeName === NODE);
}

function checkFlow(state: ClusterState, flow: Flow): void {
  const packet = packetOfFlow(state, flow);
  if (packet === undefined) return;
  const decision = new DatapathSimulator(compile(state)).packet(packet);
  const oracle = evaluate(state, flow);
  const context = JSON.stringify({ flow, packet, oracle, decision });
  const sourceLocal = isLocalEnd(state, flow.from);
  const destinationLocal = isLocalEnd(state, flow.to);
  if (sourceLocal && destinationLocal) {
    expect(decision.verdict, context).toBe(oracle.verdict);
    expect(decision.samePod, context).toBe(oracle.reason === 'same-pod');
  }
  if (oracle.reason === 'same-pod') return;
  if (sourceLocal) sideAgrees(oracle.egress, decision.egress, `egress ${context}`);
  if (destinationLocal) sideAgrees(oracle.ingress, decision.ingress, `ingress ${context}`);
}

describe('compile + simulated lookup == evaluate (property)', () => {
  it('agrees on random clusters and flows', () => {
    fc.assert(
      fc.property(
        stateArb.chain((state) => fc.tuple(fc.constant(state), fc.array(flowArb(state), { minLength: 1, maxLength: 12 }))),
        ([state, flows]) => {
          for (const flow of flows) checkFlow(state, flow);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('is deterministic: the same state in another order compiles to the same datapath', () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        const reversed: ClusterState = {
          ...state,
          pods: [...state.pods].reverse(),
          policies: [...state.policies].reverse(),
          namespaces: [...state.namespaces].reverse(),
        };
        expect(compile(reversed)).toEqual(compile(state));
      }),
      { numRuns: 100 },
    );
  });
});
