import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../src/policy/parse-k8s.js';
import { formatManifestProblem } from '../../src/policy/errors.js';

const parse = (text: string, path = 'm.yaml') => parseManifests([{ path, text }]);

function policyYaml(spec: string, name = 'p'): string {
  return `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: x}
spec:
${spec.replace(/^/gm, '  ')}
`;
}

function podYaml(body: string, name = 'a', metadataExtra = ''): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: x${metadataExtra}}
${body}
`;
}

const POD_SPEC = 'spec: {containers: [{name: c}]}';

/** A valid pod whose metadata carries `extra` (labels, annotations). */
const podWithMetadata = (extra: string) => podYaml(POD_SPEC, 'a', `, ${extra}`);

describe('parseManifests: accepted input', () => {
  it('reads every kind moat uses from multi-document YAML and Lists', () => {
    const { state, errors, warnings } = parse(`
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {team: blue}}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a, namespace: x, labels: {app: web}, annotations: {moat.dev/allow-ingress: "tcp/80"}}
  spec:
    nodeName: node-1
    containers:
    - name: c
      ports: [{name: http, containerPort: 80}, {containerPort: 53, protocol: UDP}]
  status: {podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: "fd00:0:0::0001"}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: h, namespace: kube-system}
  spec: {hostNetwork: true, containers: [{name: c}]}
  status: {podIP: 192.168.0.1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: x}
spec:
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10]
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}, {name: dns, port: 53, protocol: UDP, targetPort: 5353}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc, namespace: x, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints:
- addresses: [10.0.0.1]
- addresses: [10.0.0.9]
  conditions: {ready: false}
ports: [{name: http, port: 80, protocol: TCP}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ignored, namespace: x}
`);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([{ file: 'm.yaml', object: 'Deployment ignored', field: '', message: 'kind Deployment (apps/v1) is not used by moat and was ignored' }]);
    expect(state.namespaces).toEqual([
      { name: 'x', labels: { team: 'blue', 'kubernetes.io/metadata.name': 'x' } },
      { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } },
    ]);
    expect(state.pods).toEqual([
      {
        namespace: 'x',
        name: 'a',
        labels: { app: 'web' },
        annotations: { 'moat.dev/allow-ingress': 'tcp/80' },
        ips: ['10.0.0.1', 'fd00::1'],
        hostNetwork: false,
        nodeName: 'node-1',
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }],
      },
      { namespace: 'kube-system', name: 'h', labels: {}, annotations: {}, ips: ['192.168.0.1'], hostNetwork: true, ports: [] },
    ]);
    expect(state.services).toEqual([
      {
        namespace: 'x',
        name: 'web',
        clusterIPs: ['10.96.0.10'],
        selector: { app: 'web' },
        ports: [
          { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' },
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 },
        ],
      },
    ]);
    expect(state.endpointSlices).toEqual([{ namespace: 'x', name: 'web-abc', serviceName: 'web', addresses: ['10.0.0.1'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }]);
  });

  it('applies NetworkPolicy defaults and canonicalises CIDRs', () => {
    const { state, errors } = parse(
      [
        policyYaml('podSelector: {}', 'ingress-default'),
        policyYaml('podSelector: {matchLabels: {app: web}}\negress: [{}]', 'egress-rules'),
        policyYaml('policyTypes: [Egress]'),
        policyYaml(`ingress:
- from:
  - ipBlock: {cidr: 10.1.2.3/16, except: [10.1.128.7/17]}
  - ipBlock: {cidr: "FD00:0::/48", except: ["fd00:0:0:1::/64"]}
  - namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [a, b]}]}
    podSelector: {matchExpressions: [{key: tier, operator: DoesNotExist}]}
  ports: [{port: 80}, {protocol: UDP, port: dns}, {protocol: SCTP, port: 1000, endPort: 2000}, {protocol: UDP}]`, 'full'),
      ].join('---\n'),
    );
    expect(errors).toEqual([]);
    expect(state.policies.map((p) => [p.name, p.policyTypes])).toEqual([
      ['ingress-default', ['ingress']],
      ['egress-rules', ['ingress', 'egress']],
      ['p', ['egress']],
      ['full', ['ingress']],
    ]);
    expect(state.policies[1]?.podSelector).toEqual({ matchLabels: { app: 'web' }, matchExpressions: [] });
    expect(state.policies[1]?.egress).toEqual([{ peers: [], ports: [] }]);
    expect(state.policies[3]?.ingress).toEqual([
      {
        peers: [
          { kind: 'ipBlock', ipBlock: { cidr: '10.1.0.0/16', except: ['10.1.128.0/17'] } },
          { kind: 'ipBlock', ipBlock: { cidr: 'fd00::/48', except: ['fd00:0:0:1::/64'] } },
          {
            kind: 'pods',
            namespaceSelector: { matchLabels: {}, matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] },
            podSelector: { matchLabels: {}, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist', values: [] }] },
          },
        ],
        ports: [
          { protocol: 'TCP', port: 80 },
          { protocol: 'UDP', port: 'dns' },
          { protocol: 'SCTP', port: 1000, endPort: 2000 },
          { protocol: 'UDP' },
        ],
      },
    ]);
  });

  it('leaves a bad moat annotation to the pod (not a parse error)', () => {
    const { errors, state } = parse(podWithMetadata('annotations: {moat.dev/allow-ingress: "tcp/x/y from"}'));
    expect(errors).toEqual([]);
    expect(state.pods[0]?.annotations['moat.dev/allow-ingress']).toBe('tcp/x/y from');
  });

  it('skips empty documents', () => {
    expect(parse('---\n---\n# nothing\n')).toEqual({ state: { namespaces: [], pods: [], policies: [], services: [], endpointSlices: [] }, errors: [], warnings: [] });
  });
});

interface InvalidCase {
  readonly name: string;
  readonly yaml: string;
  readonly object: string;
  readonly field: string;
  readonly message: RegExp;
}

const INVALID: readonly InvalidCase[] = [
  { name: 'missing name', yaml: 'apiVersion: v1\nkind: Namespace\nmetadata: {}', object: 'Namespace <unnamed>', field: 'metadata.name', message: /^Required value$/ },
  { name: 'generateName', yaml: 'apiVersion: v1\nkind: Pod\nmetadata: {generateName: a-}\nspec: {containers: [{name: c}]}', object: 'Pod default/<unnamed>', field: 'metadata.name', message: /generateName is not supported/ },
  { name: 'namespace name', yaml: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: Bad_NS}', object: 'Namespace Bad_NS', field: 'metadata.name', message: /RFC 1123 label/ },
  { name: 'pod namespace', yaml: 'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: "x.y"}\n' + POD_SPEC, object: 'Pod x.y/a', field: 'metadata.namespace', message: /RFC 1123 label/ },
  { name: 'service name', yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\nspec: {ports: [{port: 80}]}', object: 'Service default/1web', field: 'metadata.name', message: /DNS-1035/ },
  { name: 'label key', yaml: podWithMetadata('labels: {"bad key": v}'), object: 'Pod x/a', field: 'metadata.labels', message: /"bad key".*name part must consist/ },
  { name: 'label key prefix', yaml: podWithMetadata('labels: {"Example.com/k": v}'), object: 'Pod x/a', field: 'metadata.labels', message: /prefix part a lowercase RFC 1123 subdomain/ },
  { name: 'label value', yaml: podWithMetadata('labels: {app: "-web"}'), object: 'Pod x/a', field: 'metadata.labels[app]', message: /"-web".*valid label/ },
  { name: 'label value too long', yaml: podWithMetadata(`labels: {app: ${'a'.repeat(64)}}`), object: 'Pod x/a', field: 'metadata.labels[app]', message: /no more than 63/ },
  { name: 'label value type', yaml: podWithMetadata('labels: {replicas: 3}'), object: 'Pod x/a', field: 'metadata.labels[replicas]', message: /must be a string, got number/ },
  { name: 'annotation key', yaml: podWithMetadata('annotations: {"a/b/c": v}'), object: 'Pod x/a', field: 'metadata.annotations', message: /qualified name/ },
  { name: 'pod without containers', yaml: podYaml('spec: {containers: []}'), object: 'Pod x/a', field: 'spec.containers', message: /^Required value$/ },
  { name: 'pod without spec', yaml: podYaml(''), object: 'Pod x/a', field: 'spec', message: /^Required value$/ },
  { name: 'container port range', yaml: podYaml('spec: {containers: [{name: c, ports: [{containerPort: 70000}]}]}'), object: 'Pod x/a', field: 'spec.containers[0].ports[0].containerPort', message: /between 1 and 65535/ },
  { name: 'container port missing', yaml: podYaml('spec: {containers: [{name: c, ports: [{name: http}]}]}'), object: 'Pod x/a', field: 'spec.containers[0].ports[0].containerPort', message: /^Required value$/ },
  { name: 'container port protocol', yaml: podYaml('spec: {containers: [{name: c, ports: [{containerPort: 80, protocol: tcp}]}]}'), object: 'Pod x/a', field: 'spec.containers[0].ports[0].protocol', message: /Unsupported value: "tcp"/ },
  { name: 'container port name', yaml: podYaml('spec: {containers: [{name: c, ports: [{containerPort: 80, name: "8080"}]}]}'), object: 'Pod x/a', field: 'spec.containers[0].ports[0].name', message: /at least one letter/ },
  { name: 'duplicate port name', yaml: podYaml('spec: {containers: [{name: c, ports: [{containerPort: 80, name: http}]}, {name: d, ports: [{containerPort: 81, name: http}]}]}'), object: 'Pod x/a', field: 'spec.containers[1].ports[0].name', message: /Duplicate value: "http"/ },
  { name: 'container name', yaml: podYaml('spec: {containers: [{ports: []}]}'), object: 'Pod x/a', field: 'spec.containers[0].name', message: /^Required value$/ },
  { name: 'hostNetwork type', yaml: podYaml('spec: {hostNetwork: "yes", containers: [{name: c}]}'), object: 'Pod x/a', field: 'spec.hostNetwork', message: /must be a boolean, got string/ },
  { name: 'pod IP', yaml: podYaml(POD_SPEC + '\nstatus: {podIP: 10.0.0.256}'), object: 'Pod x/a', field: 'status.podIP', message: /larger than 255/ },
  { name: 'pod IP leading zero', yaml: podYaml(POD_SPEC + '\nstatus: {podIPs: [{ip: 10.0.0.01}]}'), object: 'Pod x/a', field: 'status.podIPs[0].ip', message: /without leading zeros/ },
  { name: 'podIPs mismatch', yaml: podYaml(POD_SPEC + '\nstatus: {podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.2}]}'), object: 'Pod x/a', field: 'status.podIPs[0].ip', message: /must match status.podIP/ },
  { name: 'podIPs same family', yaml: podYaml(POD_SPEC + '\nstatus: {podIPs: [{ip: 10.0.0.1}, {ip: 10.0.0.2}]}'), object: 'Pod x/a', field: 'status.podIPs', message: /one IPv4 and one IPv6/ },
  { name: 'policy: no kind', yaml: 'apiVersion: v1\nmetadata: {name: a}', object: '', field: 'kind', message: /^Required value$/ },
  { name: 'policy: old apiVersion', yaml: 'apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p}', object: 'NetworkPolicy p', field: 'apiVersion', message: /must be networking.k8s.io\/v1/ },
  { name: 'policy name', yaml: policyYaml('podSelector: {}', 'Bad'), object: 'NetworkPolicy x/Bad', field: 'metadata.name', message: /RFC 1123 subdomain/ },
  { name: 'selector operator', yaml: policyYaml('podSelector: {matchExpressions: [{key: a, operator: Equals, values: [b]}]}'), object: 'NetworkPolicy x/p', field: 'spec.podSelector.matchExpressions[0].operator', message: /Unsupported value: "Equals"/ },
  { name: 'In without values', yaml: policyYaml('podSelector: {matchExpressions: [{key: a, operator: In}]}'), object: 'NetworkPolicy x/p', field: 'spec.podSelector.matchExpressions[0].values', message: /Required value: must be specified when `operator` is 'In' or 'NotIn'/ },
  { name: 'NotIn with empty values', yaml: policyYaml('podSelector: {matchExpressions: [{key: a, operator: NotIn, values: []}]}'), object: 'NetworkPolicy x/p', field: 'spec.podSelector.matchExpressions[0].values', message: /Required value/ },
  { name: 'Exists with values', yaml: policyYaml('podSelector: {matchExpressions: [{key: a, operator: Exists, values: [b]}]}'), object: 'NetworkPolicy x/p', field: 'spec.podSelector.matchExpressions[0].values', message: /Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'/ },
  { name: 'DoesNotExist with values', yaml: policyYaml('ingress: [{from: [{podSelector: {matchExpressions: [{key: a, operator: DoesNotExist, values: [b]}]}}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].from[0].podSelector.matchExpressions[0].values', message: /Forbidden/ },
  { name: 'expression key', yaml: policyYaml('podSelector: {matchExpressions: [{operator: Exists}]}'), object: 'NetworkPolicy x/p', field: 'spec.podSelector.matchExpressions[0].key', message: /^Required value$/ },
  { name: 'expression value syntax', yaml: policyYaml('podSelector: {matchExpressions: [{key: a, operator: In, values: ["b c"]}]}'), object: 'NetworkPolicy x/p', field: 'spec.podSelector.matchExpressions[0].values[0]', message: /valid label/ },
  { name: 'matchLabels value', yaml: policyYaml('ingress: [{from: [{namespaceSelector: {matchLabels: {team: "a b"}}}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].from[0].namespaceSelector.matchLabels[team]', message: /valid label/ },
  { name: 'empty peer', yaml: policyYaml('ingress: [{from: [{}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].from[0]', message: /must specify a peer/ },
  { name: 'ipBlock plus selector', yaml: policyYaml('egress: [{to: [{}, {ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]'), object: 'NetworkPolicy x/p', field: 'spec.egress[0].to[1]', message: /may not specify both ipBlock and another peer/ },
  { name: 'ipBlock without cidr', yaml: policyYaml('ingress: [{from: [{ipBlock: {except: [10.0.0.0/8]}}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].from[0].ipBlock.cidr', message: /^Required value$/ },
  { name: 'bad cidr', yaml: policyYaml('ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].from[0].ipBlock.cidr', message: /prefix length must be a number 0-32/ },
  { name: 'cidr without prefix', yaml: policyYaml('ingress: [{from: [{ipBlock: {cidr: 10.0.0.1}}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].from[0].ipBlock.cidr', message: /missing "\/prefix-length"/ },
  { name: 'bad v6 cidr', yaml: policyYaml('ingress: [{from: [{ipBlock: {cidr: "fd00::1::/64"}}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].from[0].ipBlock.cidr', message: /"::" may appear only once/ },
  { name: 'except outside cidr', yaml: policyYaml('ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.0/24, 10.1.0.0/24]}}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].from[0].ipBlock.except[1]', message: /strict subset of `cidr`/ },
  { name: 'except equal to cidr', yaml: policyYaml('ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].from[0].ipBlock.except[0]', message: /strict subset/ },
  { name: 'except other family', yaml: policyYaml('ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: ["fd00::/64"]}}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].from[0].ipBlock.except[0]', message: /strict subset/ },
  { name: 'bad except', yaml: policyYaml('ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0/24]}}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].from[0].ipBlock.except[0]', message: /expected 4 dot-separated numbers/ },
  { name: 'protocol', yaml: policyYaml('ingress: [{ports: [{protocol: ICMP}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].ports[0].protocol', message: /Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"/ },
  { name: 'port zero', yaml: policyYaml('ingress: [{ports: [{port: 0}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].ports[0].port', message: /between 1 and 65535/ },
  { name: 'port too big', yaml: policyYaml('egress: [{ports: [{port: 65536}]}]'), object: 'NetworkPolicy x/p', field: 'spec.egress[0].ports[0].port', message: /between 1 and 65535/ },
  { name: 'port name too long', yaml: policyYaml('ingress: [{ports: [{port: abcdefghijklmnop}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].ports[0].port', message: /no more than 15/ },
  { name: 'port name upper case', yaml: policyYaml('ingress: [{ports: [{port: HTTP}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].ports[0].port', message: /lowercase/ },
  { name: 'port name digits only', yaml: policyYaml('ingress: [{ports: [{port: "80"}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].ports[0].port', message: /at least one letter/ },
  { name: 'port name double hyphen', yaml: policyYaml('ingress: [{ports: [{port: a--b}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].ports[0].port', message: /consecutive hyphens/ },
  { name: 'endPort with named port', yaml: policyYaml('ingress: [{ports: [{port: http, endPort: 90}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].ports[0].endPort', message: /may not be specified when `port` is non-numeric/ },
  { name: 'endPort without port', yaml: policyYaml('ingress: [{ports: [{endPort: 90}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].ports[0].port', message: /Required value: when endPort is specified/ },
  { name: 'endPort below port', yaml: policyYaml('ingress: [{ports: [{port: 90, endPort: 80}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].ports[0].endPort', message: /greater than or equal to `port`/ },
  { name: 'endPort too big', yaml: policyYaml('ingress: [{ports: [{port: 90, endPort: 70000}]}]'), object: 'NetworkPolicy x/p', field: 'spec.ingress[0].ports[0].endPort', message: /between 1 and 65535/ },
  { name: 'policyTypes value', yaml: policyYaml('policyTypes: [Ingress, ingress]'), object: 'NetworkPolicy x/p', field: 'spec.policyTypes[1]', message: /Unsupported value: "ingress"/ },
  { name: 'too many policyTypes', yaml: policyYaml('policyTypes: [Ingress, Egress, Ingress]'), object: 'NetworkPolicy x/p', field: 'spec.policyTypes', message: /more than two/ },
  { name: 'rules type', yaml: policyYaml('ingress: {from: []}'), object: 'NetworkPolicy x/p', field: 'spec.ingress', message: /must be a list, got object/ },
  { name: 'service port name required', yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}, {name: b, port: 81}]}', object: 'Service default/s', field: 'spec.ports[0].name', message: /more than one port/ },
  { name: 'service targetPort', yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, targetPort: 0}]}', object: 'Service default/s', field: 'spec.ports[0].targetPort', message: /between 1 and 65535/ },
  { name: 'service clusterIP', yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.0.300, ports: [{port: 80}]}', object: 'Service default/s', field: 'spec.clusterIP', message: /larger than 255/ },
  { name: 'slice address family', yaml: 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: IPv6\nendpoints: [{addresses: [10.0.0.1]}]', object: 'EndpointSlice default/e', field: 'endpoints[0].addresses[0]', message: /must be an IPv6 address/ },
  { name: 'slice address type', yaml: 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: IPv5', object: 'EndpointSlice default/e', field: 'addressType', message: /Unsupported value: "IPv5"/ },
  { name: 'slice without addressType', yaml: 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}', object: 'EndpointSlice default/e', field: 'addressType', message: /^Required value$/ },
  { name: 'list items type', yaml: 'apiVersion: v1\nkind: List\nitems: {a: 1}', object: 'List', field: 'items', message: /must be a list/ },
  { name: 'list item kind', yaml: 'apiVersion: v1\nkind: List\nitems: [{apiVersion: v1}]', object: 'items[0]', field: 'kind', message: /^Required value$/ },
  { name: 'document not an object', yaml: '- a\n- b', object: '', field: '', message: /must be an object, got list/ },
];

describe('parseManifests: rejected input names file, object and field', () => {
  for (const testCase of INVALID) {
    it(testCase.name, () => {
      const { errors } = parse(testCase.yaml, 'bad.yaml');
      expect(errors.length, errors.map(formatManifestProblem).join('\n')).toBeGreaterThan(0);
      expect(errors, errors.map(formatManifestProblem).join('\n')).toContainEqual({ file: 'bad.yaml', object: testCase.object, field: testCase.field, message: expect.stringMatching(testCase.message) });
    });
  }

  it('rejects the invalid object itself (nothing half-valid reaches the state)', () => {
    const { state, errors } = parse([policyYaml('ingress: [{ports: [{port: 0}]}]', 'bad'), policyYaml('podSelector: {}', 'good')].join('---\n'));
    expect(errors).toHaveLength(1);
    expect(state.policies.map((p) => p.name)).toEqual(['good']);
  });

  it('reports YAML syntax errors with the file', () => {
    const { errors } = parse('apiVersion: v1\nkind: Pod\nmetadata: {name: [a\n', 'broken.yaml');
    expect(errors[0]).toMatchObject({ file: 'broken.yaml', object: '', field: '', message: expect.stringMatching(/^YAML: /) });
  });

  it('rejects YAML alias bombs instead of expanding them', () => {
    const levels = Array.from({ length: 8 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`);
    const { errors } = parse(['l0: &l0 [lol]', ...levels].join('\n'), 'bomb.yaml');
    expect(errors).toEqual([{ file: 'bomb.yaml', object: '', field: '', message: expect.stringMatching(/^YAML: .*alias/i) }]);
  });

  it('reports duplicate objects across files', () => {
    const ns = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n';
    const { errors } = parseManifests([{ path: 'one.yaml', text: ns }, { path: 'two.yaml', text: ns }]);
    expect(errors).toEqual([{ file: 'two.yaml', object: 'Namespace x', field: 'metadata.name', message: 'Duplicate value: "x": also defined in one.yaml' }]);
  });

  it('keeps same names apart across kinds and namespaces', () => {
    const { errors } = parse([policyYaml('podSelector: {}', 'p'), policyYaml('podSelector: {}', 'p').replace('namespace: x', 'namespace: y'), podYaml(POD_SPEC, 'p')].join('---\n'));
    expect(errors).toEqual([]);
  });

  it('formats a problem as file: object: field: message', () => {
    expect(formatManifestProblem({ file: 'f.yaml', object: 'Pod x/a', field: 'spec', message: 'Required value' })).toBe('f.yaml: Pod x/a: spec: Required value');
  });
});

describe('parseManifests: warnings', () => {
  it('warns about FQDN slices and port-less slice ports instead of failing', () => {
    const { errors, warnings, state } = parse('apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: FQDN\nendpoints: [{addresses: [example.com]}]\nports: [{name: any}]');
    expect(errors).toEqual([]);
    expect(warnings.map((w) => w.field)).toEqual(['addressType', 'ports[0].port']);
    expect(state.endpointSlices).toEqual([{ namespace: 'default', name: 'e', serviceName: '', addresses: [], ports: [] }]);
  });
});
