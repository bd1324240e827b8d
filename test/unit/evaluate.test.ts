import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/policy/evaluate.js';
import type { ClusterState, Flow, NetworkPolicy, Pod } from '../../src/policy/model.js';
import { MATCH_EVERYTHING } from '../../src/policy/selectors.js';
import {
  caseState,
  expectedObservations,
  flowFor,
  NETPOL_CASES,
  namespaceManifest,
  networkPolicy,
  oracleObservations,
  podManifest,
  reachabilityReport,
  DEFAULT_PLAN,
  TCP,
  type NetpolCase,
} from '../helpers/netpol-tables.js';

describe('named NetworkPolicy truth tables', () => {
  it('has unique case names', () => {
    const names = NETPOL_CASES.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const testCase of NETPOL_CASES) {
    it(testCase.name, () => {
      const report = reachabilityReport(testCase, oracleObservations(testCase));
      expect(report, report).toBeUndefined();
    });
  }

  it('audit everywhere turns exactly the policy drops into would-drops', () => {
    for (const testCase of NETPOL_CASES) {
      const enforced = caseState(testCase);
      const audited: ClusterState = {
        ...enforced,
        namespaces: enforced.namespaces.map((ns) => ({ ...ns, labels: { ...ns.labels, 'moat.dev/mode': 'audit' } })),
        pods: enforced.pods.map((p) => ({ ...p, labels: Object.fromEntries(Object.entries(p.labels).filter(([key]) => key !== 'moat.dev/mode')) })),
      };
      for (const { from, to, probe } of expectedObservations(testCase)) {
        const flow = flowFor(from, to, probe);
        const before = evaluate(enforced, flow);
        const after = evaluate(audited, flow);
        expect(after.reason, `${testCase.name}: ${from} -> ${to}`).toBe(before.reason);
        expect(after.verdict, `${testCase.name}: ${from} -> ${to}`).toBe(before.reason === 'policy-deny' ? 'would-drop' : before.verdict);
      }
    }
  });

  it('the deletion case differs from its earlier state', () => {
    const deletion = NETPOL_CASES.find((c) => c.applyFirst !== undefined) as NetpolCase;
    const before = caseState(deletion, DEFAULT_PLAN, 'applyFirst');
    expect(evaluate(before, flowFor('y/a', 'x/a', TCP(80))).verdict).toBe('drop');
    expect(evaluate(caseState(deletion), flowFor('y/a', 'x/a', TCP(80))).verdict).toBe('allow');
  });
});

describe('reachabilityReport', () => {
  const denyAll = NETPOL_CASES[0] as NetpolCase;

  it('renders expected, observed and comparison tables naming the mismatch', () => {
    const observed = expectedObservations(denyAll).map((o) => (o.from === 'y/b' && o.to === 'x/c' && o.probe.protocol === 'TCP' ? { ...o, outcome: 'allow' as const } : o));
    const report = reachabilityReport(denyAll, observed) ?? '';
    expect(report).toContain('deny-all ingress in x — TCP/80');
    expect(report).not.toContain('UDP/80');
    const comparison = report.split('comparison (X = mismatch):\n')[1] ?? '';
    const row = comparison.split('\n').find((line) => line.startsWith('y/b')) ?? '';
    expect(row.split(/\s+/)).toEqual(['y/b', '.', '.', 'X', '.', '.', '.', '.', '.', '.']);
  });

  it('treats would-drop as connected when comparing connectivity only', () => {
    const audit = NETPOL_CASES.find((c) => c.name === 'audit mode never drops') as NetpolCase;
    const observed = expectedObservations(audit).map((o) => ({ ...o, outcome: o.outcome === 'would-drop' ? ('allow' as const) : o.outcome }));
    expect(reachabilityReport(audit, observed)).toBeDefined();
    expect(reachabilityReport(audit, observed, { connectivityOnly: true })).toBeUndefined();
  });

  it('marks missing observations with ?', () => {
    expect(reachabilityReport(denyAll, [])).toContain('?');
  });
});

function pod(namespace: string, name: string, ips: string[], extra: Partial<Pod> = {}): Pod {
  return { namespace, name, labels: { pod: name }, annotations: {}, ips, hostNetwork: false, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], ...extra };
}

function policy(namespace: string, name: string, fields: Partial<NetworkPolicy>): NetworkPolicy {
  return { namespace, name, podSelector: MATCH_EVERYTHING, policyTypes: ['ingress'], ingress: [], egress: [], ...fields };
}

function state(pods: Pod[], policies: NetworkPolicy[] = [], namespaceLabels: Record<string, Record<string, string>> = {}): ClusterState {
  const namespaces = [...new Set(pods.map((p) => p.namespace))].map((name) => ({ name, labels: { 'kubernetes.io/metadata.name': name, ...namespaceLabels[name] } }));
  return { node: { name: 'n1', ips: ['192.168.1.1'] }, namespaces, pods, policies, services: [], endpointSlices: [] };
}

const tcp = (from: Flow['from'], to: Flow['to'], port: number, extra: Partial<Flow> = {}): Flow => ({ from, to, protocol: 'TCP', port, ...extra });
const ref = (namespace: string, name: string) => ({ pod: { namespace, name } });

describe('evaluate: verdict details', () => {
  const web = pod('app', 'web', ['10.1.0.1', 'fd00::1']);
  const db = pod('app', 'db', ['10.1.0.2', 'fd00::2']);
  const host = pod('kube-system', 'proxy', ['192.168.1.1'], { hostNetwork: true, ports: [{ name: 'metrics', port: 9100, protocol: 'TCP' }] });

  it('reports not-isolated when no policy selects either side', () => {
    const verdict = evaluate(state([web, db]), tcp(ref('app', 'web'), ref('app', 'db'), 5432));
    expect(verdict).toEqual({
      verdict: 'allow',
      reason: 'not-isolated',
      egress: { isolated: false, allowed: true, audit: false, rules: [] },
      ingress: { isolated: false, allowed: true, audit: false, rules: [] },
    });
  });

  it('returns every rule that allowed, from policies and annotations, with indexes', () => {
    const annotated = { ...db, annotations: { 'moat.dev/allow-ingress': 'udp/53; tcp/5432 from pod:pod=web' } };
    const policies = [
      policy('app', 'p1', { ingress: [{ peers: [], ports: [{ protocol: 'UDP' }] }, { peers: [], ports: [{ protocol: 'TCP', port: 5432 }] }] }),
      policy('app', 'p2', { ingress: [{ peers: [{ kind: 'pods', podSelector: { matchLabels: { pod: 'web' }, matchExpressions: [] } }], ports: [] }] }),
    ];
    const verdict = evaluate(state([web, annotated], policies), tcp(ref('app', 'web'), ref('app', 'db'), 5432));
    expect(verdict.reason).toBe('allowed');
    expect(verdict.ingress?.rules).toEqual([
      { origin: { kind: 'networkpolicy', namespace: 'app', name: 'p1' }, direction: 'ingress', index: 1 },
      { origin: { kind: 'networkpolicy', namespace: 'app', name: 'p2' }, direction: 'ingress', index: 0 },
      { origin: { kind: 'annotation', namespace: 'app', pod: 'db', key: 'moat.dev/allow-ingress' }, direction: 'ingress', index: 1 },
    ]);
  });

  it('drops when one denying side enforces, would-drop when every denying side audits', () => {
    const denyBoth = [policy('app', 'deny', { policyTypes: ['ingress', 'egress'] })];
    const auditWeb = { ...web, labels: { ...web.labels, 'moat.dev/mode': 'audit' } };
    const flow = tcp(ref('app', 'web'), ref('app', 'db'), 5432);
    expect(evaluate(state([auditWeb, db], denyBoth), flow)).toMatchObject({ verdict: 'drop', reason: 'policy-deny', egress: { audit: true, allowed: false }, ingress: { audit: false } });
    const auditDb = { ...db, labels: { ...db.labels, 'moat.dev/mode': 'audit' } };
    expect(evaluate(state([auditWeb, auditDb], denyBoth), flow).verdict).toBe('would-drop');
    const egressOnly = [policy('app', 'deny', { policyTypes: ['egress'] })];
    expect(evaluate(state([auditWeb, db], egressOnly), flow).verdict).toBe('would-drop');
  });

  it('pod mode label wins over the namespace label; an invalid value enforces', () => {
    const deny = [policy('app', 'deny', {})];
    const flow = tcp(ref('app', 'web'), ref('app', 'db'), 5432);
    const enforcedDb = { ...db, labels: { ...db.labels, 'moat.dev/mode': 'enforce' } };
    expect(evaluate(state([web, enforcedDb], deny, { app: { 'moat.dev/mode': 'audit' } }), flow).verdict).toBe('drop');
    expect(evaluate(state([web, db], deny, { app: { 'moat.dev/mode': 'audit' } }), flow).verdict).toBe('would-drop');
    expect(evaluate(state([web, db], deny, { app: { 'moat.dev/mode': 'observe' } }), flow).verdict).toBe('drop');
  });

  it('resolves IP endpoints to the pod that owns the address, in either family', () => {
    const onlyFromWeb = [policy('app', 'db', { podSelector: { matchLabels: { pod: 'db' }, matchExpressions: [] }, ingress: [{ peers: [{ kind: 'pods', podSelector: { matchLabels: { pod: 'web' }, matchExpressions: [] } }], ports: [] }] })];
    const s = state([web, db], onlyFromWeb);
    expect(evaluate(s, tcp({ ip: 'fd00:0::1' }, { ip: 'fd00::2' }, 5432)).verdict).toBe('allow');
    expect(evaluate(s, tcp({ ip: '10.1.0.1' }, ref('app', 'db'), 5432)).verdict).toBe('allow');
    expect(evaluate(s, tcp({ ip: '10.9.9.9' }, ref('app', 'db'), 5432))).toMatchObject({ verdict: 'drop', egress: null });
  });

  it('matches ipBlocks in the flow family and honours excepts', () => {
    const v6Block = [policy('app', 'v6', { ingress: [{ peers: [{ kind: 'ipBlock', ipBlock: { cidr: 'fd00::/64', except: ['fd00::1/128'] } }], ports: [] }] })];
    const s = state([web, db, pod('app', 'cache', ['10.1.0.3', 'fd00::3'])], v6Block);
    expect(evaluate(s, tcp({ ip: 'fd00::3' }, { ip: 'fd00::2' }, 1)).verdict).toBe('allow');
    expect(evaluate(s, tcp({ ip: 'fd00::1' }, { ip: 'fd00::2' }, 1)).verdict).toBe('drop');
    expect(evaluate(s, tcp({ ip: '10.1.0.3' }, { ip: '10.1.0.2' }, 1)).verdict).toBe('drop');
  });

  it('lets ICMP through only rules without ports', () => {
    const icmp = (s: ClusterState) => evaluate(s, { from: ref('app', 'web'), to: ref('app', 'db'), protocol: 'ICMP', port: 0 }).verdict;
    expect(icmp(state([web, db], [policy('app', 'all', { ingress: [{ peers: [], ports: [] }] })]))).toBe('allow');
    expect(icmp(state([web, db], [policy('app', 'tcp', { ingress: [{ peers: [], ports: [{ protocol: 'TCP' }] }] })]))).toBe('drop');
  });

  it('treats host-network pods as unenforced, and as peers only by their address', () => {
    const byPodSelector = [policy('app', 'from-all-pods', { ingress: [{ peers: [{ kind: 'pods', namespaceSelector: MATCH_EVERYTHING }], ports: [] }] })];
    const byNodeIp = [policy('app', 'from-node-ip', { ingress: [{ peers: [{ kind: 'ipBlock', ipBlock: { cidr: '192.168.1.1/32', except: [] } }], ports: [] }] })];
    const flow = tcp(ref('kube-system', 'proxy'), ref('app', 'db'), 5432);
    expect(evaluate(state([host, web, db], byPodSelector), flow)).toMatchObject({ verdict: 'drop', egress: null });
    expect(evaluate(state([host, web, db], byNodeIp), flow).verdict).toBe('allow');
    const toHost = evaluate(state([host, web, db], [policy('kube-system', 'deny', {})]), tcp(ref('app', 'web'), ref('kube-system', 'proxy'), 9100));
    expect(toHost).toMatchObject({ verdict: 'allow', ingress: null });
  });

  it('never matches a named port on egress to a non-pod address', () => {
    const named = [policy('app', 'named', { podSelector: { matchLabels: { pod: 'web' }, matchExpressions: [] }, policyTypes: ['egress'], egress: [{ peers: [], ports: [{ protocol: 'TCP', port: 'http' }] }] })];
    const s = state([web, db], named);
    expect(evaluate(s, tcp(ref('app', 'web'), ref('app', 'db'), 8080)).verdict).toBe('allow');
    expect(evaluate(s, tcp(ref('app', 'web'), ref('app', 'db'), 8081)).verdict).toBe('drop');
    expect(evaluate(s, tcp(ref('app', 'web'), { ip: '203.0.113.5' }, 8080)).verdict).toBe('drop');
  });

  it('allows a pod to reach itself whatever the policies', () => {
    const s = state([web], [policy('app', 'deny', { policyTypes: ['ingress', 'egress'] })]);
    expect(evaluate(s, tcp(ref('app', 'web'), { ip: '10.1.0.1' }, 80))).toEqual({ verdict: 'allow', reason: 'same-pod', egress: null, ingress: null });
  });

  it('guards waypoint ports against every other address, the node and audit mode included', () => {
    const waypoint = pod('mesh', 'waypoint', ['10.2.0.1'], { labels: { 'gateway.networking.k8s.io/gateway-class-name': 'istio-waypoint', 'moat.dev/mode': 'audit' } });
    const s = state([web, waypoint]);
    expect(evaluate(s, tcp(ref('app', 'web'), ref('mesh', 'waypoint'), 15088)).reason).toBe('loopback-only');
    expect(evaluate(s, tcp({ ip: '192.168.1.1' }, ref('mesh', 'waypoint'), 15088, { fromNode: true })).verdict).toBe('drop');
    expect(evaluate(s, { ...tcp(ref('app', 'web'), ref('mesh', 'waypoint'), 15088), protocol: 'UDP' }).verdict).toBe('allow');
    expect(evaluate(s, tcp(ref('app', 'web'), ref('mesh', 'waypoint'), 15088), { waypointSelectors: [] }).verdict).toBe('allow');
  });

  it('guards host-network ports except from the node itself', () => {
    const hostWaypoint = { ...host, annotations: { 'moat.dev/loopback-only-ports': '9100' } };
    const s = state([web, hostWaypoint]);
    expect(evaluate(s, tcp(ref('app', 'web'), { ip: '192.168.1.1' }, 9100)).reason).toBe('loopback-only');
    expect(evaluate(s, tcp({ ip: '192.168.1.1' }, { ip: '192.168.1.1' }, 9100, { fromNode: true })).reason).toBe('from-node');
  });

  it('allows traffic from the node but still shows the ingress judgement', () => {
    const s = state([web, db], [policy('app', 'deny', {})]);
    expect(evaluate(s, tcp({ ip: '192.168.1.1' }, ref('app', 'db'), 80, { fromNode: true }))).toMatchObject({
      verdict: 'allow',
      reason: 'from-node',
      egress: null,
      ingress: { isolated: true, allowed: true, rules: [] },
    });
  });

  it('names a pod that is not in the state', () => {
    expect(() => evaluate(state([web]), tcp(ref('app', 'web'), ref('app', 'ghost'), 80))).toThrow(/flow\.to names pod app\/ghost/);
  });
});

describe('truth-table helpers', () => {
  it('build a cluster the parser accepts, with replaced objects', () => {
    const testCase: NetpolCase = {
      name: 'replace',
      objects: (plan) => [namespaceManifest('x', { team: 'red' }), podManifest(plan, 'y', 'b', { labels: { pod: 'q' } }), networkPolicy('z', 'p', {})],
      expect: () => true,
    };
    const s = caseState(testCase);
    expect(s.namespaces.find((n) => n.name === 'x')?.labels).toEqual({ ns: 'x', team: 'red', 'kubernetes.io/metadata.name': 'x' });
    expect(s.pods).toHaveLength(9);
    expect(s.pods.find((p) => p.name === 'b' && p.namespace === 'y')).toMatchObject({ labels: { pod: 'q' }, ips: ['10.0.2.2'] });
    expect(s.policies).toHaveLength(1);
  });
});
