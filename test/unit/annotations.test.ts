import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AllowlistSyntaxError, guardedPorts, isWaypoint, parseAllowlist, podAllowlists, podMode, renderAllowlistError, resolveMode } from '../../src/policy/annotations.js';
import type { Direction, Namespace, Pod, Rule } from '../../src/policy/model.js';
import { MATCH_EVERYTHING } from '../../src/policy/selectors.js';

const labels = (matchLabels: Record<string, string>) => ({ matchLabels, matchExpressions: [] });

function pod(fields: Partial<Pod> = {}): Pod {
  return { namespace: 'shop', name: 'api', labels: {}, annotations: {}, ips: ['10.0.0.1'], hostNetwork: false, ports: [], ...fields };
}

describe('allowlist grammar: accepted', () => {
  const table: [string, Direction, Rule[]][] = [
    ['', 'ingress', []],
    ['  ;  ; ', 'egress', []],
    ['*', 'ingress', [{ peers: [], ports: [] }]],
    ['tcp/80', 'ingress', [{ peers: [], ports: [{ protocol: 'TCP', port: 80 }] }]],
    [
      ' TCP/80 , tcp/8000-8080,udp/53 , sctp/9, tcp/http, udp/* ',
      'ingress',
      [
        {
          peers: [],
          ports: [
            { protocol: 'TCP', port: 80 },
            { protocol: 'TCP', port: 8000, endPort: 8080 },
            { protocol: 'UDP', port: 53 },
            { protocol: 'SCTP', port: 9 },
            { protocol: 'TCP', port: 'http' },
            { protocol: 'UDP' },
          ],
        },
      ],
    ],
    ['tcp/8080 from pod:app=web ns:monitoring; udp/53', 'ingress', [
      { peers: [{ kind: 'pods', podSelector: labels({ app: 'web' }) }, { kind: 'pods', namespaceNames: ['monitoring'] }], ports: [{ protocol: 'TCP', port: 8080 }] },
      { peers: [], ports: [{ protocol: 'UDP', port: 53 }] },
    ]],
    ['* to pod:app=web&tier=front pod:* ns:payments/pod:app=api', 'egress', [
      {
        peers: [
          { kind: 'pods', podSelector: labels({ app: 'web', tier: 'front' }) },
          { kind: 'pods', podSelector: MATCH_EVERYTHING },
          { kind: 'pods', namespaceNames: ['payments'], podSelector: labels({ app: 'api' }) },
        ],
        ports: [],
      },
    ]],
    ['tcp/443 to nslabel:team=blue&env= nslabel:example.com/team=red/pod:app.kubernetes.io/name=x nslabel:*', 'egress', [
      {
        peers: [
          { kind: 'pods', namespaceSelector: labels({ team: 'blue', env: '' }) },
          { kind: 'pods', namespaceSelector: labels({ 'example.com/team': 'red' }), podSelector: labels({ 'app.kubernetes.io/name': 'x' }) },
          { kind: 'pods', namespaceSelector: MATCH_EVERYTHING },
        ],
        ports: [{ protocol: 'TCP', port: 443 }],
      },
    ]],
    ['* to cidr:10.0.0.0/8!10.1.0.0/16!10.2.3.4/16 cidr:FD00::1/64', 'egress', [
      {
        peers: [
          { kind: 'ipBlock', ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.0.0/16'] } },
          { kind: 'ipBlock', ipBlock: { cidr: 'fd00::/64', except: [] } },
        ],
        ports: [],
      },
    ]],
    ['tcp/80 from pod:app=web any', 'ingress', [{ peers: [], ports: [{ protocol: 'TCP', port: 80 }] }]],
    ['\ttcp/80\n  from\n  pod:app=web\n;\n', 'ingress', [{ peers: [{ kind: 'pods', podSelector: labels({ app: 'web' }) }], ports: [{ protocol: 'TCP', port: 80 }] }]],
  ];
  it.each(table)('%j (%s)', (text, direction, rules) => {
    expect(parseAllowlist(text, direction)).toEqual(rules);
  });
});

describe('allowlist grammar: errors point at the offending character', () => {
  const table: [string, Direction, number, RegExp][] = [
    ['tcp/80 frm pod:app=web', 'ingress', 7, /expected ',', 'from', ';' or end of value, found 'f'/],
    ['tcp/80 to pod:app=web', 'ingress', 7, /'to' belongs in allow-egress; allow-ingress takes 'from'/],
    ['tcp/80 from pod:a=b', 'egress', 7, /'from' belongs in allow-ingress/],
    ['icmp/0', 'ingress', 0, /unknown protocol 'icmp'/],
    ['tcp80', 'ingress', 3, /expected '\/' after 'tcp'/],
    ['tcp/0', 'ingress', 4, /port must be a number 1-65535/],
    ['tcp/65536', 'ingress', 4, /port must be a number 1-65535/],
    ['tcp/90-80', 'ingress', 7, /range end 80 is below its start 90/],
    ['tcp/80-', 'ingress', 7, /port must be a number/],
    ['tcp/Http2-', 'ingress', 4, /port name 'Http2-'/],
    ['tcp/80x', 'ingress', 6, /unexpected 'x' after the port/],
    ['tcp/80,', 'ingress', 7, /expected '\*' or a port such as tcp\/80, found end of value/],
    ['*,tcp/80', 'ingress', 1, /unexpected ',' after '\*'/],
    ['tcp/80 from', 'ingress', 11, /expected a peer .* after 'from'/],
    ['tcp/80 from ;udp/53', 'ingress', 12, /expected a peer/],
    ['tcp/80 from web', 'ingress', 12, /expected a peer \('any', 'pod:', 'ns:', 'nslabel:' or 'cidr:'\), found 'w'/],
    ['tcp/80 from svc:web', 'ingress', 12, /expected a peer/],
    ['tcp/80 from pod:', 'ingress', 16, /expected a label key or '\*', found end of value/],
    ['tcp/80 from pod:app', 'ingress', 19, /expected '=' after label key 'app'/],
    ['tcp/80 from pod:app=-web', 'ingress', 20, /label value '-web'/],
    ['tcp/80 from pod:-app=web', 'ingress', 16, /label key '-app'/],
    ['tcp/80 from pod:a=b&a=c', 'ingress', 20, /label key 'a' repeated/],
    ['tcp/80 from pod:a=b/pod:c=d', 'ingress', 19, /unexpected '\/' after the peer/],
    ['tcp/80 from ns:Pay', 'ingress', 15, /namespace name 'Pay': a lowercase RFC 1123 label/],
    ['tcp/80 from ns:/pod:a=b', 'ingress', 15, /expected a namespace name, found '\/'/],
    ['tcp/80 from ns:pay/x=y', 'ingress', 19, /expected 'pod:' after '\/'/],
    ['tcp/80 from nslabel:a=b/pods:c=d', 'ingress', 24, /expected 'pod:'/],
    ['* to cidr:10.0.0.0/33', 'egress', 10, /prefix length must be a number 0-32/],
    ['* to cidr:10.0.0.1', 'egress', 10, /missing "\/prefix-length"/],
    ['* to cidr:', 'egress', 10, /expected a CIDR/],
    ['* to cidr:10.0.0.0/8!11.0.0.0/16', 'egress', 21, /except 11.0.0.0\/16 must be strictly inside 10.0.0.0\/8/],
    ['* to cidr:10.0.0.0/8!10.0.0.0/8', 'egress', 21, /strictly inside/],
    ['* to cidr:10.0.0.0/8!fd00::/64', 'egress', 21, /strictly inside/],
    ['* to anyone', 'egress', 5, /expected a peer/],
    ['* to any,', 'egress', 8, /unexpected ',' after 'any'/],
  ];
  it.each(table)('%j (%s) → offset %i', (text, direction, offset, message) => {
    let caught: unknown;
    try {
      parseAllowlist(text, direction);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AllowlistSyntaxError);
    const error = caught as AllowlistSyntaxError;
    expect(error.message).toMatch(message);
    expect(error.offset).toBe(offset);
  });

  it('renders the value with a caret under the offending character', () => {
    const text = 'tcp/80 frm\tpod:a=b';
    const error = new AllowlistSyntaxError("expected ',', 'from', ';' or end of value, found 'f'", 7);
    expect(renderAllowlistError('moat.dev/allow-ingress', text, error)).toBe(
      "moat.dev/allow-ingress: expected ',', 'from', ';' or end of value, found 'f' (offset 7)\n  tcp/80 frm pod:a=b\n         ^",
    );
  });

  it('either parses or throws AllowlistSyntaxError on arbitrary input, never anything else', () => {
    const alphabet = fc.constantFrom(...'tcpudpsctfromto/*;,=&!:-.0123456789abnslaeypdi '.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }).map((chars) => chars.join('')), fc.constantFrom<Direction>('ingress', 'egress'), (text, direction) => {
        try {
          parseAllowlist(text, direction);
        } catch (error) {
          expect(error).toBeInstanceOf(AllowlistSyntaxError);
          const offset = (error as AllowlistSyntaxError).offset;
          expect(offset).toBeGreaterThanOrEqual(0);
          expect(offset).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('podAllowlists', () => {
  it('is empty when the pod has no allow annotations', () => {
    expect(podAllowlists(pod())).toEqual({});
  });

  it('parses each direction present; empty value isolates with no rules', () => {
    const result = podAllowlists(pod({ annotations: { 'moat.dev/allow-ingress': 'tcp/80', 'moat.dev/allow-egress': '' } }));
    expect(result).toEqual({ ingress: { rules: [{ peers: [], ports: [{ protocol: 'TCP', port: 80 }] }] }, egress: { rules: [] } });
  });

  it('fails closed with an error naming pod, key and position', () => {
    const result = podAllowlists(pod({ annotations: { 'moat.dev/allow-egress': 'udp/53 to dns' } }));
    expect(result.ingress).toBeUndefined();
    expect(result.egress?.rules).toEqual([]);
    expect(result.egress?.error).toBe(
      "Pod shop/api: moat.dev/allow-egress: expected a peer ('any', 'pod:', 'ns:', 'nslabel:' or 'cidr:'), found 'd' (offset 10)\n  udp/53 to dns\n            ^",
    );
  });
});

describe('mode', () => {
  const modeLabel = (mode?: string): Record<string, string> => (mode === undefined ? {} : { 'moat.dev/mode': mode });
  const ns = (mode?: string): Namespace => ({ name: 'shop', labels: modeLabel(mode) });
  const podIn = (mode?: string) => pod({ labels: modeLabel(mode) });

  it.each([
    [undefined, undefined, 'enforce'],
    [undefined, 'audit', 'audit'],
    ['audit', undefined, 'audit'],
    ['enforce', 'audit', 'enforce'],
    ['audit', 'enforce', 'audit'],
  ] as const)('pod %s, namespace %s → %s', (podLabel, nsLabel, mode) => {
    expect(resolveMode(podIn(podLabel), ns(nsLabel))).toEqual({ mode, errors: [] });
    expect(podMode(podIn(podLabel), ns(nsLabel))).toBe(mode);
  });

  it('enforces and reports an invalid value, from the pod or the namespace', () => {
    expect(resolveMode(podIn('Audit'), ns('audit'))).toEqual({ mode: 'enforce', errors: ['Pod shop/api: label moat.dev/mode="Audit" is not one of enforce, audit; enforcing'] });
    expect(resolveMode(podIn(), ns('dry-run'))).toEqual({ mode: 'enforce', errors: ['Namespace shop: label moat.dev/mode="dry-run" is not one of enforce, audit; enforcing'] });
  });

  it('works without the namespace object', () => {
    expect(podMode(podIn('audit'))).toBe('audit');
    expect(podMode(podIn())).toBe('enforce');
  });
});

describe('guardedPorts', () => {
  it('guards nothing on an ordinary pod', () => {
    expect(guardedPorts(pod({ labels: { 'moat.dev/waypoint': 'false' } }))).toEqual({ ports: [], errors: [] });
  });

  it('guards 15088 on waypoints, by label or by the default selectors', () => {
    const waypointLabels: Record<string, string>[] = [{ 'moat.dev/waypoint': 'true' }, { 'gateway.networking.k8s.io/gateway-class-name': 'kgateway-waypoint' }, { 'gateway.networking.k8s.io/gateway-class-name': 'istio-waypoint' }];
    for (const podLabels of waypointLabels) {
      const waypoint = pod({ labels: podLabels });
      expect(isWaypoint(waypoint)).toBe(true);
      expect(guardedPorts(waypoint)).toEqual({ ports: [15088], errors: [] });
    }
    expect(isWaypoint(pod({ labels: { 'gateway.networking.k8s.io/gateway-class-name': 'istio' } }))).toBe(false);
  });

  it('uses configured selectors instead of the defaults', () => {
    const custom = [{ key: 'mesh/role', operator: 'In' as const, values: ['waypoint'] }];
    expect(guardedPorts(pod({ labels: { 'mesh/role': 'waypoint' } }), custom).ports).toEqual([15088]);
    expect(guardedPorts(pod({ labels: { 'gateway.networking.k8s.io/gateway-class-name': 'istio-waypoint' } }), custom).ports).toEqual([]);
  });

  it('adds loopback-only ports and the inbound binding port on waypoints', () => {
    const waypoint = pod({
      labels: { 'moat.dev/waypoint': 'true' },
      annotations: { 'moat.dev/loopback-only-ports': ' 9090, 8443 ,9090', 'ambient.istio.io/waypoint-inbound-binding': 'PROXY/15089' },
    });
    expect(guardedPorts(waypoint)).toEqual({ ports: [8443, 9090, 15088, 15089], errors: [] });
    expect(guardedPorts({ ...waypoint, annotations: { 'ambient.istio.io/waypoint-inbound-binding': 'PROXY' } }).ports).toEqual([15088]);
  });

  it('guards loopback-only ports on any pod, but ignores a binding on non-waypoints', () => {
    const plain = pod({ annotations: { 'moat.dev/loopback-only-ports': '6060', 'ambient.istio.io/waypoint-inbound-binding': 'PROXY/15089' } });
    expect(guardedPorts(plain)).toEqual({ ports: [6060], errors: [] });
  });

  it('refuses mesh ports and bad entries, keeping the other ports', () => {
    const waypoint = pod({
      labels: { 'moat.dev/waypoint': 'true' },
      annotations: { 'moat.dev/loopback-only-ports': '15008,abc,0,9090,70000', 'ambient.istio.io/waypoint-inbound-binding': 'HBONE/15009' },
    });
    expect(guardedPorts(waypoint)).toEqual({
      ports: [9090, 15088],
      errors: [
        'Pod shop/api: moat.dev/loopback-only-ports: port 15008 is a mesh port that must stay reachable; not guarded',
        'Pod shop/api: moat.dev/loopback-only-ports: "abc" is not a port number 1-65535',
        'Pod shop/api: moat.dev/loopback-only-ports: "0" is not a port number 1-65535',
        'Pod shop/api: moat.dev/loopback-only-ports: "70000" is not a port number 1-65535',
        'Pod shop/api: ambient.istio.io/waypoint-inbound-binding: port 15009 is a mesh port that must stay reachable; not guarded',
      ],
    });
    expect(guardedPorts({ ...waypoint, annotations: { 'ambient.istio.io/waypoint-inbound-binding': 'PROXY/x/y' } }).errors).toEqual([
      'Pod shop/api: ambient.istio.io/waypoint-inbound-binding: "PROXY/x/y" is not PROTOCOL[/PORT]',
    ]);
  });
});
