// Machinery of the named NetworkPolicy truth tables (the cases live in netpol-tables.ts): the standard
// cluster of the upstream netpol e2e suite (namespaces x, y, z; pods a, b, c; ports 80/81 over TCP and
// UDP), manifests for a case, its expected observations, the oracle's observations, and the truth-table
// printer that reports mismatches (the netns suite plugs in its address plan and real probes).
import { stringify } from 'yaml';
import type { ClusterState, Flow, Protocol } from '../../src/policy/model.js';
import { parseManifests } from '../../src/policy/parse-k8s.js';
import { formatManifestProblem } from '../../src/policy/errors.js';
import { evaluate } from '../../src/policy/evaluate.js';

export const NAMESPACES = ['x', 'y', 'z'] as const;
export const POD_NAMES = ['a', 'b', 'c'] as const;
/** Every pod as 'ns/pod', row order of the truth tables. */
export const ALL_PODS: readonly string[] = NAMESPACES.flatMap((ns) => POD_NAMES.map((pod) => `${ns}/${pod}`));

export const SERVE_PORTS = [
  { name: 'serve-80-tcp', containerPort: 80, protocol: 'TCP' },
  { name: 'serve-81-tcp', containerPort: 81, protocol: 'TCP' },
  { name: 'serve-80-udp', containerPort: 80, protocol: 'UDP' },
  { name: 'serve-81-udp', containerPort: 81, protocol: 'UDP' },
] as const;

/** Where the cluster lives; the netns suite substitutes the addresses of its topology. */
export interface AddressPlan {
  podIp(namespace: string, pod: string): string;
  readonly nodeName: string;
  readonly nodeIp: string;
  /** An address outside every pod (the "external" endpoint). */
  readonly externalIp: string;
}

/** x/a = 10.0.1.1, y/b = 10.0.2.2, … */
export const DEFAULT_PLAN: AddressPlan = {
  podIp: (namespace, pod) => `10.0.${NAMESPACES.indexOf(namespace as never) + 1}.${POD_NAMES.indexOf(pod as never) + 1}`,
  nodeName: 'node-1',
  nodeIp: '10.0.0.254',
  externalIp: '192.0.2.10',
};

export type Probe = { readonly protocol: Protocol | 'ICMP'; readonly port: number };
export type Outcome = 'allow' | 'drop' | 'would-drop';
/** 'ns/pod', 'node' (traffic the node originates) or 'external' (the plan's externalIp). */
export type EndpointName = string;
export type Manifest = Record<string, unknown>;

export interface NetpolCase {
  readonly name: string;
  /** Objects added to the standard cluster; a Namespace or Pod with a standard name replaces it. */
  readonly objects: (plan: AddressPlan) => readonly Manifest[];
  /** A state applied before `objects` (deletion cases): the final state must not remember it. */
  readonly applyFirst?: (plan: AddressPlan) => readonly Manifest[];
  readonly probes?: readonly Probe[];
  readonly sources?: readonly EndpointName[];
  readonly destinations?: readonly EndpointName[];
  /** true/false = connects or not; an Outcome to be precise about audit. A pod always reaches itself. */
  readonly expect: (from: EndpointName, to: EndpointName, probe: Probe) => boolean | Outcome;
}

export interface Observation {
  readonly from: EndpointName;
  readonly to: EndpointName;
  readonly probe: Probe;
  readonly outcome: Outcome;
}

export const TCP = (port: number): Probe => ({ protocol: 'TCP', port });
export const UDP = (port: number): Probe => ({ protocol: 'UDP', port });
export const SCTP = (port: number): Probe => ({ protocol: 'SCTP', port });
export const ICMP: Probe = { protocol: 'ICMP', port: 0 };
export const DEFAULT_PROBES: readonly Probe[] = [TCP(80), UDP(80)];

export function probeLabel(probe: Probe): string {
  return probe.protocol === 'ICMP' ? 'ICMP' : `${probe.protocol}/${probe.port}`;
}

// ---- manifests -------------------------------------------------------------------------------------

export function namespaceManifest(name: string, extraLabels: Record<string, string> = {}): Manifest {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ns: name, ...extraLabels } } };
}

export interface PodChanges {
  /** Replace the pod's labels (the standard pod=NAME label is kept unless overridden). */
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export function podManifest(plan: AddressPlan, namespace: string, name: string, changes: PodChanges = {}): Manifest {
  const ip = plan.podIp(namespace, name);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels: { pod: name, ...changes.labels }, ...(changes.annotations && { annotations: changes.annotations }) },
    spec: { nodeName: plan.nodeName, containers: [{ name: 'serve', image: 'moat-test/agent', ports: SERVE_PORTS.map((p) => ({ ...p })) }] },
    status: { podIP: ip, podIPs: [{ ip }] },
  };
}

/** A NetworkPolicy from its spec, for brevity in the cases. */
export function networkPolicy(namespace: string, name: string, spec: Manifest): Manifest {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec };
}

export function standardCluster(plan: AddressPlan): Manifest[] {
  return [...NAMESPACES.map((ns) => namespaceManifest(ns)), ...NAMESPACES.flatMap((ns) => POD_NAMES.map((pod) => podManifest(plan, ns, pod)))];
}

function identityOf(object: Manifest): string {
  const metadata = (object['metadata'] ?? {}) as Record<string, unknown>;
  return `${String(object['kind'])}/${String(metadata['namespace'] ?? '')}/${String(metadata['name'])}`;
}

function merged(plan: AddressPlan, objects: readonly Manifest[]): Manifest[] {
  const replacements = new Map(objects.map((object) => [identityOf(object), object]));
  const base = standardCluster(plan).map((object) => replacements.get(identityOf(object)) ?? object);
  const baseIds = new Set(base.map(identityOf));
  return [...base, ...objects.filter((object) => !baseIds.has(identityOf(object)))];
}

/** The whole cluster of a case as multi-document YAML, as `moat apply -f` reads it. */
export function caseManifestYaml(testCase: NetpolCase, plan: AddressPlan = DEFAULT_PLAN, stage: 'final' | 'applyFirst' = 'final'): string {
  const objects = stage === 'final' ? testCase.objects(plan) : (testCase.applyFirst?.(plan) ?? []);
  return merged(plan, objects).map((object) => stringify(object)).join('---\n');
}

export function caseState(testCase: NetpolCase, plan: AddressPlan = DEFAULT_PLAN, stage: 'final' | 'applyFirst' = 'final'): ClusterState {
  const path = `${testCase.name}.yaml`;
  const parsed = parseManifests([{ path, text: caseManifestYaml(testCase, plan, stage) }]);
  if (parsed.errors.length > 0) throw new Error(`case "${testCase.name}": manifests rejected:\n${parsed.errors.map(formatManifestProblem).join('\n')}`);
  return { ...parsed.state, node: { name: plan.nodeName, ips: [plan.nodeIp] } };
}

// ---- expectations and the oracle -------------------------------------------------------------------

export function caseSources(testCase: NetpolCase): readonly EndpointName[] {
  return testCase.sources ?? ALL_PODS;
}

export function caseDestinations(testCase: NetpolCase): readonly EndpointName[] {
  return testCase.destinations ?? ALL_PODS;
}

export function caseProbes(testCase: NetpolCase): readonly Probe[] {
  return testCase.probes ?? DEFAULT_PROBES;
}

function endpointFlowEnd(name: EndpointName, plan: AddressPlan): Flow['from'] {
  if (name === 'node') return { ip: plan.nodeIp };
  if (name === 'external') return { ip: plan.externalIp };
  const [namespace, pod] = name.split('/');
  if (namespace === undefined || pod === undefined) throw new Error(`endpoint "${name}": expected ns/pod, node or external`);
  return { pod: { namespace, name: pod } };
}

export function flowFor(from: EndpointName, to: EndpointName, probe: Probe, plan: AddressPlan = DEFAULT_PLAN): Flow {
  return {
    from: endpointFlowEnd(from, plan),
    to: endpointFlowEnd(to, plan),
    protocol: probe.protocol,
    port: probe.port,
    ...(from === 'node' && { fromNode: true }),
  };
}

function forEachProbe(testCase: NetpolCase, visit: (from: EndpointName, to: EndpointName, probe: Probe) => Outcome): Observation[] {
  const observations: Observation[] = [];
  for (const probe of caseProbes(testCase)) {
    for (const from of caseSources(testCase)) {
      for (const to of caseDestinations(testCase)) observations.push({ from, to, probe, outcome: visit(from, to, probe) });
    }
  }
  return observations;
}

export function expectedObservations(testCase: NetpolCase): Observation[] {
  return forEachProbe(testCase, (from, to, probe) => {
    if (from === to) return 'allow';
    const expected = testCase.expect(from, to, probe);
    return expected === true ? 'allow' : expected === false ? 'drop' : expected;
  });
}

export function oracleObservations(testCase: NetpolCase, plan: AddressPlan = DEFAULT_PLAN): Observation[] {
  const state = caseState(testCase, plan);
  return forEachProbe(testCase, (from, to, probe) => evaluate(state, flowFor(from, to, probe, plan)).verdict);
}

// ---- the truth-table printer -----------------------------------------------------------------------

const SYMBOL: Record<Outcome, string> = { allow: '.', drop: 'X', 'would-drop': 'A' };

/** A matrix like the upstream reachability printer: rows are sources, columns destinations. */
export function renderTruthTable(sources: readonly string[], destinations: readonly string[], cell: (from: string, to: string) => string): string {
  const width = Math.max(4, ...sources.map((s) => s.length), ...destinations.map((d) => d.length)) + 1;
  const pad = (text: string) => text.padEnd(width);
  const header = pad('-') + destinations.map(pad).join('');
  const rows = sources.map((from) => pad(from) + destinations.map((to) => pad(cell(from, to))).join(''));
  return [header, ...rows].map((line) => line.trimEnd()).join('\n');
}

function connects(outcome: Outcome): boolean {
  return outcome !== 'drop';
}

/**
 * undefined when `observed` matches the case; otherwise, per probe with a mismatch, the expected and
 * observed tables ('.' allow, 'X' drop, 'A' would-drop) and a comparison ('X' marks a mismatch).
 * `connectivityOnly` compares only whether packets got through (real probes cannot see audit).
 */
export function reachabilityReport(testCase: NetpolCase, observed: readonly Observation[], options: { connectivityOnly?: boolean } = {}): string | undefined {
  const key = (o: { from: string; to: string; probe: Probe }) => `${o.from}>${o.to}>${probeLabel(o.probe)}`;
  const expected = new Map(expectedObservations(testCase).map((o) => [key(o), o.outcome]));
  const actual = new Map(observed.map((o) => [key(o), o.outcome]));
  const same = (a: Outcome | undefined, b: Outcome | undefined) =>
    a !== undefined && b !== undefined && (options.connectivityOnly ? connects(a) === connects(b) : a === b);
  const sections: string[] = [];
  for (const probe of caseProbes(testCase)) {
    const at = (map: Map<string, Outcome>, from: string, to: string) => map.get(key({ from, to, probe }));
    const sources = caseSources(testCase);
    const destinations = caseDestinations(testCase);
    const mismatched = sources.some((from) => destinations.some((to) => !same(at(expected, from, to), at(actual, from, to))));
    if (!mismatched) continue;
    const table = (map: Map<string, Outcome>) => renderTruthTable(sources, destinations, (from, to) => {
      const outcome = at(map, from, to);
      return outcome === undefined ? '?' : SYMBOL[outcome];
    });
    const comparison = renderTruthTable(sources, destinations, (from, to) => (same(at(expected, from, to), at(actual, from, to)) ? '.' : 'X'));
    sections.push(`${testCase.name} — ${probeLabel(probe)}\nexpected:\n${table(expected)}\nobserved:\n${table(actual)}\ncomparison (X = mismatch):\n${comparison}`);
  }
  return sections.length === 0 ? undefined : sections.join('\n\n');
}
