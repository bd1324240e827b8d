// The named NetworkPolicy truth tables (upstream netpol e2e shape). Each case: the objects it adds to
// the standard cluster (namespaces x/y/z labelled ns=NAME, pods a/b/c labelled pod=NAME) and which
// probes connect. Shared by the oracle's tests, the compiler's tests and the netns conformance suite.
import {
  ICMP,
  SCTP,
  TCP,
  UDP,
  namespaceManifest,
  networkPolicy,
  podManifest,
  type AddressPlan,
  type EndpointName,
  type NetpolCase,
} from './netpol-truth.js';

export * from './netpol-truth.js';

const namespaceOf = (endpoint: EndpointName): string | undefined => (endpoint.includes('/') ? endpoint.split('/')[0] : undefined);
const inNamespace = (endpoint: EndpointName, namespace: string): boolean => namespaceOf(endpoint) === namespace;
const hostCidr = (plan: AddressPlan, endpoint: string): string => {
  const [namespace, pod] = endpoint.split('/') as [string, string];
  return `${plan.podIp(namespace, pod)}/32`;
};

const DENY_ALL_INGRESS = { podSelector: {}, policyTypes: ['Ingress'] };
const ONLY_POD_A = { matchLabels: { pod: 'a' } };

export const NETPOL_CASES: readonly NetpolCase[] = [
  {
    name: 'deny-all ingress in x',
    objects: () => [networkPolicy('x', 'deny-all', DENY_ALL_INGRESS)],
    probes: [TCP(80), UDP(80), ICMP],
    expect: (_from, to) => !inNamespace(to, 'x'),
  },
  {
    name: 'deny-all ingress and egress in x',
    objects: () => [networkPolicy('x', 'deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })],
    expect: (from, to) => !inNamespace(from, 'x') && !inNamespace(to, 'x'),
  },
  {
    name: 'ingress from the same namespace only',
    objects: () => [networkPolicy('x', 'same-ns', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] })],
    expect: (from, to) => !inNamespace(to, 'x') || inNamespace(from, 'x'),
  },
  {
    name: 'pod selector: x/a accepts x/b only',
    objects: () => [networkPolicy('x', 'a-from-b', { podSelector: ONLY_POD_A, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] })],
    expect: (from, to) => to !== 'x/a' || from === 'x/b',
  },
  {
    name: 'namespace selector: x/a accepts every pod of y',
    objects: () => [networkPolicy('x', 'a-from-y', { podSelector: ONLY_POD_A, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }] })],
    expect: (from, to) => to !== 'x/a' || inNamespace(from, 'y'),
  },
  {
    name: 'namespace AND pod selector in one peer',
    objects: () => [
      networkPolicy('x', 'a-from-y-b', {
        podSelector: ONLY_POD_A,
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }],
      }),
    ],
    expect: (from, to) => to !== 'x/a' || from === 'y/b',
  },
  {
    name: 'namespace OR pod selector in two peers',
    objects: () => [
      networkPolicy('x', 'a-from-y-or-b', {
        podSelector: ONLY_POD_A,
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }, { podSelector: { matchLabels: { pod: 'b' } } }] }],
      }),
    ],
    expect: (from, to) => to !== 'x/a' || inNamespace(from, 'y') || from === 'x/b',
  },
  {
    name: 'numbered port: x/a accepts TCP 80 only',
    objects: () => [networkPolicy('x', 'a-tcp-80', { podSelector: ONLY_POD_A, ingress: [{ ports: [{ port: 80 }] }] })],
    probes: [TCP(80), TCP(81), UDP(80), ICMP],
    expect: (_from, to, probe) => to !== 'x/a' || (probe.protocol === 'TCP' && probe.port === 80),
  },
  {
    name: 'named port ingress: x/a accepts serve-81-tcp',
    objects: () => [networkPolicy('x', 'a-named-81', { podSelector: ONLY_POD_A, ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] })],
    probes: [TCP(80), TCP(81), UDP(81)],
    expect: (_from, to, probe) => to !== 'x/a' || (probe.protocol === 'TCP' && probe.port === 81),
  },
  {
    name: 'named port egress: x/a sends to serve-80-udp only',
    objects: () => [
      networkPolicy('x', 'a-egress-named', { podSelector: ONLY_POD_A, policyTypes: ['Egress'], egress: [{ ports: [{ protocol: 'UDP', port: 'serve-80-udp' }] }] }),
    ],
    probes: [TCP(80), UDP(80), UDP(81)],
    destinations: ['x/b', 'y/a', 'z/c', 'external'],
    // A named port never matches an address that is not a pod.
    expect: (from, to, probe) => from !== 'x/a' || (to !== 'external' && probe.protocol === 'UDP' && probe.port === 80),
  },
  {
    name: 'endPort: x/a accepts TCP 81-90',
    objects: () => [networkPolicy('x', 'a-range', { podSelector: ONLY_POD_A, ingress: [{ ports: [{ protocol: 'TCP', port: 81, endPort: 90 }] }] })],
    probes: [TCP(80), TCP(81), TCP(90), TCP(91), UDP(81)],
    expect: (_from, to, probe) => to !== 'x/a' || (probe.protocol === 'TCP' && probe.port >= 81 && probe.port <= 90),
  },
  {
    name: 'protocol-only rule: x/a accepts any UDP port',
    objects: () => [networkPolicy('x', 'a-any-udp', { podSelector: ONLY_POD_A, ingress: [{ ports: [{ protocol: 'UDP' }] }] })],
    probes: [TCP(80), UDP(80), UDP(53)],
    expect: (_from, to, probe) => to !== 'x/a' || probe.protocol === 'UDP',
  },
  {
    name: 'UDP and TCP on the same port are distinct',
    objects: () => [networkPolicy('x', 'a-udp-80', { podSelector: ONLY_POD_A, ingress: [{ ports: [{ protocol: 'UDP', port: 80 }] }] })],
    probes: [TCP(80), UDP(80), UDP(81)],
    expect: (_from, to, probe) => to !== 'x/a' || (probe.protocol === 'UDP' && probe.port === 80),
  },
  {
    name: 'SCTP is distinct from TCP',
    objects: () => [networkPolicy('x', 'a-sctp-80', { podSelector: ONLY_POD_A, ingress: [{ ports: [{ protocol: 'SCTP', port: 80 }] }] })],
    probes: [TCP(80), SCTP(80), SCTP(81)],
    expect: (_from, to, probe) => to !== 'x/a' || (probe.protocol === 'SCTP' && probe.port === 80),
  },
  {
    name: 'ipBlock /32 of a pod',
    objects: (plan) => [networkPolicy('x', 'a-from-yb-ip', { podSelector: ONLY_POD_A, ingress: [{ from: [{ ipBlock: { cidr: hostCidr(plan, 'y/b') } }] }] })],
    expect: (from, to) => to !== 'x/a' || from === 'y/b',
  },
  {
    name: 'ipBlock with except plus a second rule',
    objects: (plan) => [
      networkPolicy('x', 'a-except-y', {
        podSelector: ONLY_POD_A,
        ingress: [
          { from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['y/a', 'y/b', 'y/c'].map((pod) => hostCidr(plan, pod)) } }] },
          { from: [{ ipBlock: { cidr: hostCidr(plan, 'y/c') } }], ports: [{ protocol: 'TCP', port: 81 }] },
        ],
      }),
    ],
    probes: [TCP(80), TCP(81), UDP(81)],
    sources: ['x/b', 'y/a', 'y/b', 'y/c', 'z/a', 'external'],
    destinations: ['x/a', 'x/b'],
    expect: (from, to, probe) => to !== 'x/a' || !inNamespace(from, 'y') || (from === 'y/c' && probe.protocol === 'TCP' && probe.port === 81),
  },
  {
    name: 'egress denied except DNS (UDP 53)',
    objects: () => [networkPolicy('x', 'dns-only', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] })],
    probes: [TCP(80), UDP(80), UDP(53), TCP(53)],
    expect: (from, _to, probe) => !inNamespace(from, 'x') || (probe.protocol === 'UDP' && probe.port === 53),
  },
  {
    name: 'several policies are a union',
    objects: () => [
      networkPolicy('x', 'a-from-b', { podSelector: ONLY_POD_A, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] }),
      networkPolicy('x', 'a-from-z', { podSelector: ONLY_POD_A, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'z' } } }] }] }),
    ],
    expect: (from, to) => to !== 'x/a' || from === 'x/b' || inNamespace(from, 'z'),
  },
  {
    name: 'Egress-only policyTypes ignores ingress rules',
    objects: () => [
      networkPolicy('x', 'a-egress-only', {
        podSelector: ONLY_POD_A,
        policyTypes: ['Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }],
      }),
    ],
    expect: (from) => from !== 'x/a',
  },
  {
    name: 'ingress and egress are judged independently',
    objects: () => [
      networkPolicy('x', 'a-from-b', { podSelector: ONLY_POD_A, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] }),
      networkPolicy('x', 'b-to-c', { podSelector: { matchLabels: { pod: 'b' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { pod: 'c' } } }] }] }),
    ],
    // x/a's ingress allows x/b, but x/b's egress only reaches x/c: both sides must allow.
    expect: (from, to) => to !== 'x/a' && (from !== 'x/b' || to === 'x/c'),
  },
  {
    name: 'matchExpressions In and NotIn',
    objects: () => [
      networkPolicy('x', 'a-expressions', {
        podSelector: ONLY_POD_A,
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'NotIn', values: ['y'] }] },
                podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] },
              },
            ],
          },
        ],
      }),
    ],
    expect: (from, to) => to !== 'x/a' || (!inNamespace(from, 'y') && !from.endsWith('/a')),
  },
  {
    name: 'matchExpressions Exists',
    objects: (plan) => [
      podManifest(plan, 'y', 'b', { labels: { team: 'blue' } }),
      networkPolicy('x', 'a-from-team', {
        podSelector: ONLY_POD_A,
        ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] } }] }],
      }),
    ],
    expect: (from, to) => to !== 'x/a' || from === 'y/b',
  },
  {
    name: 'matchExpressions DoesNotExist',
    objects: (plan) => [
      podManifest(plan, 'y', 'b', { labels: { team: 'blue' } }),
      networkPolicy('x', 'a-not-team', {
        podSelector: ONLY_POD_A,
        ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] } }] }],
      }),
    ],
    expect: (from, to) => to !== 'x/a' || from !== 'y/b',
  },
  {
    name: 'empty namespaceSelector means every namespace',
    objects: () => [networkPolicy('x', 'a-from-all-pods', { podSelector: ONLY_POD_A, ingress: [{ from: [{ namespaceSelector: {} }] }] })],
    sources: ['x/b', 'y/a', 'z/c', 'external'],
    destinations: ['x/a', 'x/b'],
    // Every pod, but not addresses outside the cluster's pods.
    expect: (from, to) => to !== 'x/a' || from !== 'external',
  },
  {
    name: 'rule without from (absent peers) allows every source',
    objects: () => [networkPolicy('x', 'a-from-anyone', { podSelector: ONLY_POD_A, ingress: [{}] })],
    sources: ['x/b', 'y/a', 'z/c', 'external'],
    destinations: ['x/a', 'x/b'],
    expect: () => true,
  },
  {
    name: 'policy in one namespace does not touch the others',
    objects: () => [networkPolicy('y', 'deny-y-a', { podSelector: ONLY_POD_A, policyTypes: ['Ingress'] })],
    expect: (_from, to) => to !== 'y/a',
  },
  {
    name: 'relabelled pod gains access',
    objects: (plan) => [
      podManifest(plan, 'x', 'c', { labels: { pod: 'b' } }),
      networkPolicy('x', 'a-from-b', { podSelector: ONLY_POD_A, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] }),
    ],
    expect: (from, to) => to !== 'x/a' || from === 'x/b' || from === 'x/c',
  },
  {
    name: 'deleted policy no longer applies',
    applyFirst: () => [networkPolicy('x', 'deny-all', DENY_ALL_INGRESS)],
    objects: () => [],
    expect: () => true,
  },
  {
    name: 'traffic from the node itself is allowed',
    objects: () => [networkPolicy('x', 'deny-all', DENY_ALL_INGRESS)],
    sources: ['node', 'x/b', 'y/a'],
    probes: [TCP(80), ICMP],
    expect: (from, to) => from === 'node' || !inNamespace(to, 'x'),
  },
  {
    name: 'annotation allowlist on ingress',
    objects: (plan) => [podManifest(plan, 'x', 'a', { annotations: { 'moat.dev/allow-ingress': 'tcp/80 from pod:pod=b ns:y' } })],
    probes: [TCP(80), TCP(81)],
    expect: (from, to, probe) => to !== 'x/a' || (probe.port === 80 && (from === 'x/b' || inNamespace(from, 'y'))),
  },
  {
    name: 'annotation allowlist on egress',
    objects: (plan) => [podManifest(plan, 'x', 'a', { annotations: { 'moat.dev/allow-egress': 'udp/53; tcp/80 to nslabel:ns=y/pod:pod=c' } })],
    probes: [TCP(80), UDP(53), UDP(80)],
    expect: (from, to, probe) => from !== 'x/a' || (probe.protocol === 'UDP' && probe.port === 53) || (probe.protocol === 'TCP' && probe.port === 80 && to === 'y/c'),
  },
  {
    name: 'annotation and NetworkPolicy are a union',
    objects: (plan) => [
      podManifest(plan, 'x', 'a', { annotations: { 'moat.dev/allow-ingress': 'tcp/81 from ns:z' } }),
      networkPolicy('x', 'a-from-b-80', { podSelector: ONLY_POD_A, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }], ports: [{ port: 80 }] }] }),
    ],
    probes: [TCP(80), TCP(81)],
    expect: (from, to, probe) => to !== 'x/a' || (probe.port === 80 && from === 'x/b') || (probe.port === 81 && inNamespace(from, 'z')),
  },
  {
    name: 'annotation that does not parse fails closed',
    objects: (plan) => [
      podManifest(plan, 'x', 'a', { annotations: { 'moat.dev/allow-ingress': 'tcp/80 frm pod:pod=b' } }),
      networkPolicy('x', 'a-from-z', { podSelector: ONLY_POD_A, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'z' } } }] }] }),
    ],
    // Isolated with no annotation rules; the NetworkPolicy still allows z.
    expect: (from, to) => to !== 'x/a' || inNamespace(from, 'z'),
  },
  {
    name: 'empty annotation denies the direction',
    objects: (plan) => [podManifest(plan, 'x', 'a', { annotations: { 'moat.dev/allow-egress': '' } })],
    expect: (from) => from !== 'x/a',
  },
  {
    name: 'waypoint guard wins over any allow',
    objects: (plan) => [
      podManifest(plan, 'x', 'a', { labels: { 'moat.dev/waypoint': 'true' }, annotations: { 'moat.dev/loopback-only-ports': '9090', 'moat.dev/allow-ingress': '*' } }),
      networkPolicy('x', 'a-from-anyone', { podSelector: ONLY_POD_A, ingress: [{}] }),
    ],
    sources: ['node', 'x/a', 'x/b', 'y/a'],
    destinations: ['x/a', 'x/b'],
    probes: [TCP(15088), TCP(9090), TCP(80), UDP(15088)],
    expect: (_from, to, probe) => to !== 'x/a' || probe.protocol !== 'TCP' || probe.port === 80,
  },
  {
    name: 'audit mode never drops',
    objects: (plan) => [
      namespaceManifest('x', { 'moat.dev/mode': 'audit' }),
      podManifest(plan, 'x', 'b', { labels: { 'moat.dev/waypoint': 'true' } }),
      networkPolicy('x', 'deny-all', DENY_ALL_INGRESS),
      networkPolicy('y', 'deny-all', DENY_ALL_INGRESS),
    ],
    probes: [TCP(80), TCP(15088)],
    // x only audits (would-drop, the packet passes); y enforces; the guard on x/b is never lifted.
    expect: (_from, to, probe) => {
      if (to === 'x/b' && probe.port === 15088) return 'drop';
      if (inNamespace(to, 'x')) return 'would-drop';
      return !inNamespace(to, 'y');
    },
  },
];
