import { describe, expect, it } from 'vitest';
import { compile } from '../../src/policy/compile.js';
import type { DesiredDatapath, PolicyEntry } from '../../src/policy/desired.js';
import { DatapathSimulator, packetOfFlow } from '../../src/policy/lookup.js';
import type { ClusterState, Flow, NetworkPolicy, Pod, Rule } from '../../src/policy/model.js';
import { MATCH_EVERYTHING } from '../../src/policy/selectors.js';
import {
  caseDestinations,
  caseProbes,
  caseSources,
  caseState,
  DEFAULT_PLAN,
  flowFor,
  NETPOL_CASES,
  reachabilityReport,
  type Observation,
  type NetpolCase,
} from '../helpers/netpol-tables.js';

const NODE = 'node-1';

function pod(namespace: string, name: string, ips: string[], extra: Partial<Pod> = {}): Pod {
  return { namespace, name, labels: {}, annotations: {}, ips, nodeName: NODE, hostNetwork: false, ports: [], ...extra };
}

function policy(namespace: string, name: string, spec: Partial<NetworkPolicy>): NetworkPolicy {
  return { namespace, name, podSelector: MATCH_EVERYTHING, policyTypes: ['ingress'], ingress: [], egress: [], ...spec };
}

function state(pods: Pod[], policies: NetworkPolicy[] = [], extra: Partial<ClusterState> = {}): ClusterState {
  return {
    node: { name: NODE, ips: ['192.168.1.1'] },
    namespaces: ['x', 'y'].map((name) => ({ name, labels: { 'kubernetes.io/metadata.name': name, team: name === 'x' ? 'red' : 'blue' } })),
    pods,
    policies,
    services: [],
    endpointSlices: [],
    ...extra,
  };
}

const selector = (matchLabels: Record<string, string>) => ({ matchLabels, matchExpressions: [] });

function endpointId(datapath: DesiredDatapath, name: string): number {
  const endpoint = datapath.endpoints.find((e) => e.name === name);
  if (endpoint === undefined) throw new Error(`no endpoint ${name}`);
  return endpoint.endpointId;
}

function entriesOf(datapath: DesiredDatapath, name: string, direction: 'ingress' | 'egress'): Omit<PolicyEntry, 'endpointId' | 'ruleId' | 'direction'>[] {
  const id = endpointId(datapath, name);
  return datapath.policy
    .filter((e) => e.endpointId === id && e.direction === direction)
    .map(({ peerKind, peerId, protocol, port, portPrefixLen }) => ({ peerKind, peerId, protocol, port, portPrefixLen }));
}

function verdict(s: ClusterState, flow: Flow): string {
  const packet = packetOfFlow(s, flow);
  if (packet === undefined) throw new Error('flow has no packet');
  return new DatapathSimulator(compile(s)).packet(packet).verdict;
}

const tcp = (from: string, to: string, port: number, ns = 'x'): Flow => ({
  from: from.includes('.') || from.includes(':') ? { ip: from } : { pod: { namespace: ns, name: from } },
  to: to.includes('.') || to.includes(':') ? { ip: to } : { pod: { namespace: ns, name: to } },
  protocol: 'TCP',
  port,
});

describe('compile: identities', () => {
  it('does not let unreferenced labels multiply identities', () => {
    const pods = [0, 1, 2].map((i) =>
      pod('x', `web-${i}`, [`10.0.0.${i + 1}`], { labels: { app: 'web', 'pod-template-hash': `h${i}` } }),
    );
    const allowWeb: Rule = { peers: [{ kind: 'pods', podSelector: selector({ app: 'web' }) }], ports: [] };
    const datapath = compile(state(pods, [policy('x', 'p', { ingress: [allowWeb] })]));
    expect(datapath.identities).toHaveLength(1);
    expect(datapath.identities[0]?.labels).toEqual({ app: 'web' });
    expect(new Set(datapath.ipcache.map((e) => e.identity)).size).toBe(2); // the pods' identity and the node's
  });

  it('keeps a pod identity stable when unrelated pods come and go', () => {
    const web = pod('x', 'web', ['10.0.0.1'], { labels: { app: 'web' } });
    const allowWeb: Rule = { peers: [{ kind: 'pods', podSelector: selector({ app: 'web' }) }], ports: [] };
    const policies = [policy('x', 'p', { ingress: [allowWeb] })];
    const alone = compile(state([web], policies));
    const crowded = compile(state([web, pod('x', 'db', ['10.0.0.2'], { labels: { app: 'db' } }), pod('y', 'web', ['10.0.0.3'])], policies));
    const idOf = (d: DesiredDatapath) => d.ipcache.find((e) => e.cidr === '10.0.0.1/32')?.identity;
    expect(idOf(crowded)).toBe(idOf(alone));
    expect(idOf(alone)).toBeGreaterThanOrEqual(256);
  });

  it('splits egress named-port destinations that resolve the name differently', () => {
    const httpOn = (name: string, ip: string, port: number) =>
      pod('y', name, [ip], { labels: { app: 'api' }, ports: [{ name: 'http', port, protocol: 'TCP' }] });
    const client = pod('x', 'client', ['10.0.0.1']);
    const toHttp: Rule = { peers: [{ kind: 'pods', namespaceSelector: MATCH_EVERYTHING }], ports: [{ protocol: 'TCP', port: 'http' }] };
    const s = state([client, httpOn('api-1', '10.0.1.1', 8080), httpOn('api-2', '10.0.1.2', 9090)], [
      policy('x', 'egress', { policyTypes: ['egress'], egress: [toHttp] }),
    ]);
    const datapath = compile(s);
    const ids = ['10.0.1.1/32', '10.0.1.2/32'].map((cidr) => datapath.ipcache.find((e) => e.cidr === cidr)?.identity);
    expect(ids[0]).not.toBe(ids[1]);
    expect(verdict(s, { ...tcp('client', 'api-1', 8080), to: { pod: { namespace: 'y', name: 'api-1' } } })).toBe('allow');
    expect(verdict(s, { ...tcp('client', 'api-1', 9090), to: { pod: { namespace: 'y', name: 'api-1' } } })).toBe('drop');
    expect(verdict(s, { ...tcp('client', 'api-2', 9090), to: { pod: { namespace: 'y', name: 'api-2' } } })).toBe('allow');
  });

  it('resolves an egress named port towards an ipBlock only on pods inside the block', () => {
    const serving = (name: string, ip: string) => pod('y', name, [ip], { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
    const client = pod('x', 'client', ['10.0.0.1'], { annotations: { 'moat.dev/allow-egress': 'udp/dns to cidr:10.0.1.0/24' } });
    const s = state([client, serving('inside', '10.0.1.5'), serving('outside', '10.0.2.5')]);
    const udp = (to: string, port: number): Flow => ({ from: { pod: { namespace: 'x', name: 'client' } }, to: { pod: { namespace: 'y', name: to } }, protocol: 'UDP', port });
    expect(verdict(s, udp('inside', 53))).toBe('allow');
    expect(verdict(s, udp('outside', 53))).toBe('drop');
    expect(verdict(s, udp('inside', 54))).toBe('drop');
  });
});

describe('compile: ipcache and endpoints', () => {
  it('marks local pods with their endpoint, remote pods with 0, and never makes host-network pods identities', () => {
    const s = state([
      pod('x', 'local', ['10.0.0.1', 'fd00::1']),
      pod('x', 'remote', ['10.0.0.2'], { nodeName: 'node-2' }),
      pod('x', 'host', ['192.168.1.1'], { hostNetwork: true }),
      pod('x', 'pending', []),
    ]);
    const datapath = compile(s);
    const local = endpointId(datapath, 'local');
    expect(local).toBeGreaterThan(0);
    expect(datapath.endpoints.map((e) => e.name)).toEqual(['local']);
    expect(datapath.ipcache.map(({ cidr, endpointId: ep, identity }) => [cidr, ep, identity >= 256 ? 'pod' : identity])).toEqual([
      ['10.0.0.1/32', local, 'pod'],
      ['10.0.0.2/32', 0, 'pod'],
      ['192.168.1.1/32', 0, 1],
      ['fd00::1/128', local, 'pod'],
    ]);
  });

  it('treats every pod as local when the node has no name (moat apply)', () => {
    const s = { ...state([pod('x', 'a', ['10.0.0.1'], { nodeName: 'elsewhere' })]), node: { name: '', ips: [] } };
    expect(compile(s).endpoints).toHaveLength(1);
  });

  it('sets isolation per direction, audit and guard ports', () => {
    const s = state(
      [
        pod('x', 'waypoint', ['10.0.0.1'], { labels: { 'moat.dev/waypoint': 'true', 'moat.dev/mode': 'audit' }, annotations: { 'moat.dev/loopback-only-ports': '9000, 15021' } }),
        pod('x', 'annotated', ['10.0.0.2'], { annotations: { 'moat.dev/allow-egress': '' } }),
      ],
      [policy('x', 'in', { podSelector: selector({ 'moat.dev/waypoint': 'true' }), policyTypes: ['ingress'] })],
    );
    const datapath = compile(s);
    const [annotated, waypoint] = datapath.endpoints;
    expect(waypoint).toMatchObject({ name: 'waypoint', isolateIngress: true, isolateEgress: false, audit: true, guardPorts: [9000, 15088] });
    expect(annotated).toMatchObject({ name: 'annotated', isolateIngress: false, isolateEgress: true, audit: false, guardPorts: [] });
    expect(datapath.problems).toEqual([
      { object: 'Pod x/waypoint', field: 'metadata.annotations', message: expect.stringContaining('15021') },
    ]);
  });

  it('collects the loopback-only ports of local host-network pods for the host guard', () => {
    const host = pod('x', 'host', ['192.168.1.1'], { hostNetwork: true, annotations: { 'moat.dev/loopback-only-ports': '7000' } });
    const s = state([host, pod('x', 'client', ['10.0.0.1'])]);
    expect(compile(s).hostGuardPorts).toEqual([7000]);
    expect(verdict(s, tcp('client', '192.168.1.1', 7000))).toBe('drop');
    expect(verdict(s, tcp('client', '192.168.1.1', 7001))).toBe('allow');
    expect(verdict(s, { ...tcp('192.168.1.1', '192.168.1.1', 7000) })).toBe('allow');
  });
});

describe('compile: policy entries', () => {
  const target = pod('x', 'a', ['10.0.0.1'], { ports: [{ name: 'web', port: 8080, protocol: 'TCP' }] });

  it('turns ports into protocol/port prefixes', () => {
    const rule: Rule = {
      peers: [],
      ports: [
        { protocol: 'TCP', port: 80 },
        { protocol: 'UDP' },
        { protocol: 'TCP', port: 8000, endPort: 8003 },
        { protocol: 'TCP', port: 'web' },
        { protocol: 'UDP', port: 'web' },
      ],
    };
    const datapath = compile(state([target], [policy('x', 'p', { ingress: [rule] })]));
    expect(entriesOf(datapath, 'a', 'ingress')).toEqual([
      { peerKind: 'any', peerId: 0, protocol: 6, port: 80, portPrefixLen: 16 },
      { peerKind: 'any', peerId: 0, protocol: 6, port: 8000, portPrefixLen: 14 },
      { peerKind: 'any', peerId: 0, protocol: 6, port: 8080, portPrefixLen: 16 },
      { peerKind: 'any', peerId: 0, protocol: 17, port: 0, portPrefixLen: 0 },
    ]);
  });

  it('gives a rule without ports every protocol, and ipBlocks their atoms', () => {
    const rule: Rule = { peers: [{ kind: 'ipBlock', ipBlock: { cidr: '172.16.0.0/12', except: ['172.16.1.0/24'] } }], ports: [] };
    const datapath = compile(state([target], [policy('x', 'p', { ingress: [rule] })]));
    const entries = entriesOf(datapath, 'a', 'ingress');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ peerKind: 'cidr', protocol: null, portPrefixLen: 0 });
    expect(datapath.cidrAtoms).toEqual([
      { cidr: '172.16.0.0/12', atom: entries[0]?.peerId },
      { cidr: '172.16.1.0/24', atom: 0 },
    ]);
  });

  it('keeps the lowest rule id for identical keys and names every rule', () => {
    const rule: Rule = { peers: [], ports: [{ protocol: 'TCP', port: 80 }] };
    const datapath = compile(state([target], [policy('x', 'one', { ingress: [rule] }), policy('x', 'two', { ingress: [rule, rule] })]));
    const entries = datapath.policy.filter((e) => e.direction === 'ingress');
    expect(entries).toHaveLength(1);
    expect(datapath.rules).toHaveLength(3);
    expect(entries[0]?.ruleId).toBe(Math.min(...datapath.rules.map((r) => r.ruleId)));
    expect(new Set(datapath.rules.map((r) => r.ruleId)).size).toBe(3);
  });

  it('fails a pod closed in the direction whose annotation does not parse, and reports it', () => {
    const broken = pod('x', 'broken', ['10.0.0.1'], { annotations: { 'moat.dev/allow-ingress': 'tcp/80 fro pod:app=web' } });
    const s = state([broken, pod('x', 'client', ['10.0.0.2'])]);
    const datapath = compile(s);
    expect(datapath.endpoints.find((e) => e.name === 'broken')).toMatchObject({ isolateIngress: true, isolateEgress: false });
    expect(entriesOf(datapath, 'broken', 'ingress')).toEqual([]);
    expect(datapath.problems).toEqual([
      { object: 'Pod x/broken', field: 'metadata.annotations[moat.dev/allow-ingress]', message: expect.stringContaining('moat.dev/allow-ingress') },
    ]);
    expect(verdict(s, tcp('client', 'broken', 80))).toBe('drop');
  });

  it('matches ipBlocks against pod addresses too, and namespaces by label and name', () => {
    const s = state(
      [pod('x', 'a', ['10.0.0.1']), pod('y', 'b', ['10.0.1.1']), pod('y', 'c', ['10.0.1.2'], { labels: { app: 'c' } })],
      [
        policy('x', 'from-b-ip', { ingress: [{ peers: [{ kind: 'ipBlock', ipBlock: { cidr: '10.0.1.1/32', except: [] } }], ports: [] }] }),
        policy('x', 'from-blue-c', { ingress: [{ peers: [{ kind: 'pods', namespaceSelector: selector({ team: 'blue' }), podSelector: selector({ app: 'c' }) }], ports: [{ protocol: 'TCP', port: 81 }] }] }),
      ],
    );
    const from = (name: string, port: number): Flow => ({ from: { pod: { namespace: 'y', name } }, to: { pod: { namespace: 'x', name: 'a' } }, protocol: 'TCP', port });
    expect(verdict(s, from('b', 80))).toBe('allow');
    expect(verdict(s, from('c', 80))).toBe('drop');
    expect(verdict(s, from('c', 81))).toBe('allow');
  });
});

describe('compile: services and determinism', () => {
  it('lists Service frontends once, skipping headless ones', () => {
    const s = state([], [], {
      services: [
        { namespace: 'x', name: 'web', clusterIPs: ['10.96.0.10', 'fd00:96::a'], ports: [{ protocol: 'TCP', port: 80 }, { protocol: 'UDP', port: 53 }] },
        { namespace: 'x', name: 'headless', clusterIPs: ['None'], ports: [{ protocol: 'TCP', port: 80 }] },
      ],
    });
    expect(compile(s).services).toEqual([
      { ip: '10.96.0.10', port: 53, protocol: 17 },
      { ip: '10.96.0.10', port: 80, protocol: 6 },
      { ip: 'fd00:96::a', port: 53, protocol: 17 },
      { ip: 'fd00:96::a', port: 80, protocol: 6 },
    ]);
  });
});

/** The case's probes through compile + the simulated BPF lookup, as observations for the truth table. */
function simulatedObservations(testCase: NetpolCase): Observation[] {
  const s = caseState(testCase);
  const simulator = new DatapathSimulator(compile(s));
  return caseProbes(testCase).flatMap((probe) =>
    caseSources(testCase).flatMap((from) =>
      caseDestinations(testCase).map((to): Observation => {
        const packet = packetOfFlow(s, flowFor(from, to, probe, DEFAULT_PLAN));
        if (packet === undefined) throw new Error(`${testCase.name}: ${from} → ${to} has no packet`);
        return { from, to, probe, outcome: simulator.packet(packet).verdict };
      }),
    ),
  );
}

describe('compile + simulated lookup: named truth tables', () => {
  for (const testCase of NETPOL_CASES) {
    it(testCase.name, () => {
      const report = reachabilityReport(testCase, simulatedObservations(testCase));
      expect(report, report).toBeUndefined();
    });
  }
});
