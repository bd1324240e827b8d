// Compile-time benchmark: synthetic clusters of 1k and 10k pods with 1k NetworkPolicies, compiled the way
// the agent does it (one node's share of the pods local) and the way `moat apply` does it (every pod
// local). Not a test: it prints the figures. Run: npx tsc -p tsconfig.build.json && node dist/bench/compile.js
import { performance } from 'node:perf_hooks';
import { compile } from '../src/policy/compile.js';
import type { ClusterState, NetworkPolicy, Pod, Rule } from '../src/policy/model.js';

/** Deterministic PRNG (mulberry32) so every run measures the same cluster. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const NAMESPACES = 50;
const APPS = 40;
const NODES_FOR_AGENT = 100;

interface Scale {
  readonly pods: number;
  readonly policies: number;
}

function syntheticState(scale: Scale, localNodes: 'one' | 'all'): ClusterState {
  const random = prng(scale.pods * 31 + scale.policies);
  const pick = (n: number) => Math.floor(random() * n);
  const pods: Pod[] = Array.from({ length: scale.pods }, (_, i) => ({
    namespace: `ns-${i % NAMESPACES}`,
    name: `pod-${i}`,
    labels: { app: `app-${pick(APPS)}`, tier: random() < 0.5 ? 'front' : 'back', 'pod-template-hash': `h${i}` },
    annotations: (i % 50 === 0 ? { 'moat.dev/allow-ingress': 'tcp/8080 from pod:tier=front; udp/53' } : {}) as Record<string, string>,
    ips: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
    nodeName: localNodes === 'all' ? '' : `node-${i % NODES_FOR_AGENT}`,
    hostNetwork: false,
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  }));
  const selector = (labels: Record<string, string>) => ({ matchLabels: labels, matchExpressions: [] });
  const policies: NetworkPolicy[] = Array.from({ length: scale.policies }, (_, i) => {
    const ingress: Rule[] = [
      { peers: [{ kind: 'pods', podSelector: selector({ app: `app-${pick(APPS)}` }) }], ports: [{ protocol: 'TCP', port: 8080 }] },
      { peers: [{ kind: 'pods', namespaceSelector: selector({ team: `team-${pick(5)}` }), podSelector: selector({ tier: 'front' }) }], ports: [{ protocol: 'TCP', port: 'http' }] },
      { peers: [{ kind: 'ipBlock', ipBlock: { cidr: `172.${16 + pick(16)}.0.0/16`, except: [`172.${16 + pick(16)}.${pick(256)}.0/24`] } }], ports: [{ protocol: 'TCP', port: 9000, endPort: 9100 }] },
    ];
    const egress: Rule[] = [
      { peers: [{ kind: 'pods', namespaceSelector: selector({}), podSelector: selector({ app: `app-${pick(APPS)}` }) }], ports: [{ protocol: 'TCP', port: 'http' }] },
      { peers: [], ports: [{ protocol: 'UDP', port: 53 }] },
    ];
    return {
      namespace: `ns-${i % NAMESPACES}`,
      name: `np-${i}`,
      podSelector: selector({ app: `app-${pick(APPS)}` }),
      policyTypes: i % 3 === 0 ? ['ingress', 'egress'] : ['ingress'],
      ingress,
      egress: i % 3 === 0 ? egress : [],
    };
  });
  return {
    node: { name: localNodes === 'all' ? '' : 'node-0', ips: ['192.168.0.1'] },
    namespaces: Array.from({ length: NAMESPACES }, (_, i) => ({ name: `ns-${i}`, labels: { team: `team-${i % 5}` } })),
    pods,
    policies,
    services: [],
    endpointSlices: [],
  };
}

function measure(scale: Scale, localNodes: 'one' | 'all'): void {
  const state = syntheticState(scale, localNodes);
  compile(state); // warm-up: JIT and lazily built structures
  const runs = 3;
  const times: number[] = [];
  let result = compile(state);
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    result = compile(state);
    times.push(performance.now() - start);
  }
  const best = Math.min(...times);
  const where = localNodes === 'all' ? 'every pod local (moat apply)' : `1 of ${NODES_FOR_AGENT} nodes (agent)`;
  console.log(
    `${String(scale.pods).padStart(6)} pods ${String(scale.policies).padStart(5)} policies, ${where.padEnd(30)}: ` +
      `best ${best.toFixed(0).padStart(6)} ms of ${runs}; endpoints ${result.endpoints.length}, identities ${result.identities.length}, ` +
      `policy entries ${result.policy.length}, cidr atoms ${result.cidrAtoms.length}, ipcache ${result.ipcache.length}`,
  );
}

for (const pods of [1_000, 10_000]) {
  for (const localNodes of ['one', 'all'] as const) measure({ pods, policies: 1_000 }, localNodes);
}
