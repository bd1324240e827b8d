// Crafted packets through both TC programs (BPF_PROG_TEST_RUN): every check of the datapath's order, each asserting
// the verdict AND the counter it lands in.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RingBuffer } from '../../src/datapath/native.js';
import { decodeEvent, encodePolicyEntry, type FlowEvent } from '../../src/datapath/codec.js';
import type { DesiredEndpoint, PolicyEntry } from '../../src/policy/desired.js';
import type { Direction } from '../../src/policy/model.js';
import {
  arpFrame,
  buildFragments,
  buildPacket,
  ether,
  ETH_P_8021Q,
  ICMP4,
  ICMP6,
  ipPacket,
  macBytes,
  TCP,
  type PacketSpec,
} from '../helpers/packets.js';
import { skipBpfSuite, TcHarness, type Hook, type RunOptions, type TcState } from './tc-harness.js';

const EP = 1;
const POD = '10.0.0.1';
const POD6 = 'fd00::1';
const PEER = '10.0.0.2'; // identity 200, another node's pod
const PEER6 = 'fd00::2';
const WORLD = '192.0.2.10'; // in CIDR atom 5
const STRANGER = '198.51.100.7'; // no identity, no atom
const ROUTER = '10.0.0.254';
const SERVICE_IP = '10.96.0.10';
const POD_MAC = '02:00:00:00:00:01';
const GUARDED = 15088;

const ENDPOINT: DesiredEndpoint = {
  namespace: 'default',
  name: 'a',
  endpointId: EP,
  identity: 100,
  ips: [POD, POD6],
  isolateIngress: true,
  isolateEgress: true,
  audit: false,
  guardPorts: [GUARDED],
};

const rule = (p: Partial<PolicyEntry> & Pick<PolicyEntry, 'direction' | 'ruleId'>): PolicyEntry => ({
  endpointId: EP,
  peerKind: 'any',
  peerId: 0,
  protocol: 6,
  port: 0,
  portPrefixLen: 16,
  ...p,
});

const POLICY: PolicyEntry[] = [
  rule({ direction: 'ingress', peerKind: 'identity', peerId: 200, port: 80, ruleId: 11 }),
  rule({ direction: 'ingress', peerKind: 'cidr', peerId: 5, protocol: 17, port: 53, ruleId: 12 }),
  rule({ direction: 'ingress', protocol: 132, port: 9000, ruleId: 13 }),
  rule({ direction: 'ingress', peerKind: 'identity', peerId: 200, port: GUARDED, ruleId: 14 }),
  rule({ direction: 'ingress', peerKind: 'identity', peerId: 200, port: 8000, portPrefixLen: 13, ruleId: 15 }), // 8000-8007
  rule({ direction: 'egress', peerKind: 'identity', peerId: 200, protocol: null, portPrefixLen: 0, ruleId: 21 }),
  rule({ direction: 'egress', port: 443, ruleId: 22 }),
];

const STATE: TcState = {
  endpoint: { ep: ENDPOINT },
  ipcache: [
    { cidr: `${POD}/32`, identity: 100, endpointId: EP },
    { cidr: `${POD6}/128`, identity: 100, endpointId: EP },
    { cidr: `${PEER}/32`, identity: 200, endpointId: 0 },
    { cidr: `${PEER6}/128`, identity: 200, endpointId: 0 },
  ],
  cidrAtoms: [{ cidr: '192.0.2.0/24', atom: 5 }],
  policy: POLICY,
  services: [{ ip: SERVICE_IP, port: 53, protocol: 17 }],
};

const tcp = (src: string, dst: string, sport: number, dport: number, flags: number = TCP.SYN, extra: Partial<PacketSpec> = {}) =>
  buildPacket({ src, dst, l4: { proto: 'tcp', sport, dport, flags }, ...extra });
const udp = (src: string, dst: string, sport: number, dport: number, extra: Partial<PacketSpec> = {}) =>
  buildPacket({ src, dst, l4: { proto: 'udp', sport, dport }, ...extra });

const DIRECTION: Record<Hook, Direction> = { fromPod: 'egress', toPod: 'ingress' };
type Verdict = 'ALLOW' | 'DROP' | 'WOULD_DROP';
type Reason = Parameters<TcHarness['counted']>[3];

describe.skipIf(skipBpfSuite())('TC datapath on crafted packets', () => {
  let tc: TcHarness;

  beforeAll(() => {
    tc = TcHarness.open();
  });
  afterAll(() => tc?.close());
  beforeEach(() => tc.reset(STATE));

  /** Runs one packet and checks both the return code and that exactly its counter moved. */
  function expectJudged(hook: Hook, frame: Buffer, verdict: Verdict, reason: Reason, options: RunOptions = {}, endpointId = EP): void {
    const direction = DIRECTION[hook];
    const before = tc.counted(endpointId, direction, verdict, reason);
    const total = (): bigint => tc.counters().reduce((sum, c) => sum + c.packets, 0n);
    const totalBefore = total();
    expect(tc.verdict(hook, frame, options), `${hook} ${verdict} ${reason}`).toBe(verdict === 'DROP' ? 'drop' : 'allow');
    expect(tc.counted(endpointId, direction, verdict, reason) - before, `counter ${direction}/${verdict}/${reason}`).toBe(1n);
    expect(total() - totalBefore).toBe(1n);
  }

  describe('non-IP and neighbour discovery', () => {
    it('passes ARP', () => expectJudged('fromPod', arpFrame(POD, ROUTER), 'ALLOW', 'NON_IP'));

    it('drops VLAN-tagged frames: they would carry IP past every check', () => {
      const inner = ipPacket({ src: POD, dst: WORLD, l4: { proto: 'tcp', sport: 1, dport: 2 } });
      const tagged = ether(ETH_P_8021Q, Buffer.concat([Buffer.from([0, 5, 0x08, 0x00]), inner]), POD_MAC);
      expectJudged('fromPod', tagged, 'DROP', 'MALFORMED');
    });

    it('passes neighbour solicitations both ways', () => {
      const ns = buildPacket({ src: 'fe80::1', dst: 'ff02::1:ff00:2', l4: { proto: 'icmp', type: ICMP6.NS } });
      expectJudged('fromPod', ns, 'ALLOW', 'NDP');
      expectJudged('toPod', ns, 'ALLOW', 'NDP');
    });

    it('drops router advertisements sent by the pod, passes those sent to it', () => {
      const ra = buildPacket({ src: 'fe80::1', dst: 'ff02::1', l4: { proto: 'icmp', type: ICMP6.RA } });
      expectJudged('fromPod', ra, 'DROP', 'ROUTER_ADVERT');
      expectJudged('toPod', ra, 'ALLOW', 'NDP');
    });
  });

  describe('policy lookups', () => {
    it('allows an identity peer on its port and denies other ports (IPv4 and IPv6)', () => {
      expectJudged('toPod', tcp(PEER, POD, 40000, 80), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('toPod', tcp(PEER, POD, 40000, 81), 'DROP', 'POLICY_DENY');
      expectJudged('toPod', tcp(PEER6, POD6, 40000, 80), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('toPod', tcp(PEER6, POD6, 40000, 81), 'DROP', 'POLICY_DENY');
    });

    it('matches port ranges by prefix', () => {
      expectJudged('toPod', tcp(PEER, POD, 40000, 8007), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('toPod', tcp(PEER, POD, 40000, 8008), 'DROP', 'POLICY_DENY');
    });

    it('allows a CIDR atom peer (UDP) and nobody outside it', () => {
      expectJudged('toPod', udp(WORLD, POD, 5353, 53), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('toPod', udp(STRANGER, POD, 5353, 53), 'DROP', 'POLICY_DENY');
    });

    it('allows SCTP from any peer on its port', () => {
      const sctp = (dport: number) => buildPacket({ src: STRANGER, dst: POD, l4: { proto: 'sctp', sport: 1, dport } });
      expectJudged('toPod', sctp(9000), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('toPod', sctp(9001), 'DROP', 'POLICY_DENY');
    });

    it('an every-protocol rule covers ICMP and other protocols, port rules do not', () => {
      const echo = (dst: string) => buildPacket({ src: POD, dst, l4: { proto: 'icmp', type: ICMP4.ECHO, id: 7 } });
      expectJudged('fromPod', echo(PEER), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('fromPod', echo(WORLD), 'DROP', 'POLICY_DENY');
      const gre = buildPacket({ src: POD, dst: PEER, l4: { proto: 'raw', number: 47 } });
      expectJudged('fromPod', gre, 'ALLOW', 'POLICY_ALLOW');
    });

    it('a direction no policy isolates is not judged', () => {
      tc.reset({ ...STATE, endpoint: { ep: { ...ENDPOINT, isolateIngress: false } } });
      expectJudged('toPod', tcp(STRANGER, POD, 1, 22), 'ALLOW', 'NOT_ISOLATED');
      expectJudged('fromPod', tcp(POD, STRANGER, 1, 22), 'DROP', 'POLICY_DENY');
    });

    it('reads ports behind IPv4 options', () => {
      const options = { ipv4Options: Buffer.from([0x01, 0x01, 0x07, 0x07, 0x04, 0, 0, 0, 0]) }; // NOP NOP record-route
      expectJudged('toPod', tcp(PEER, POD, 40000, 80, TCP.SYN, options), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('toPod', tcp(PEER, POD, 40000, 81, TCP.SYN, options), 'DROP', 'POLICY_DENY');
    });

    it('reads ports behind IPv6 extension headers', () => {
      const ipv6Extensions = [{ type: 'hop' as const }, { type: 'dest' as const, units: 1 }, { type: 'routing' as const, units: 2 }];
      expectJudged('toPod', tcp(PEER6, POD6, 40000, 80, TCP.SYN, { ipv6Extensions }), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('toPod', tcp(PEER6, POD6, 40000, 81, TCP.SYN, { ipv6Extensions }), 'DROP', 'POLICY_DENY');
    });

    it('drops a chain of more extension headers than it follows', () => {
      const ipv6Extensions = Array.from({ length: 9 }, () => ({ type: 'dest' as const }));
      expectJudged('toPod', tcp(PEER6, POD6, 40000, 80, TCP.SYN, { ipv6Extensions }), 'DROP', 'MALFORMED');
    });
  });

  describe('malformed packets', () => {
    const good: PacketSpec = { src: PEER, dst: POD, l4: { proto: 'tcp', sport: 40000, dport: 80, flags: TCP.SYN } };
    // test_run refuses frames shorter than their fixed IP header (EINVAL), so shorter cuts are not here.
    const cases: [string, Buffer][] = [
      ['IPv4 ihl below 5', buildPacket({ ...good, ihl: 4 })],
      ['IPv4 version not 4', buildPacket({ ...good, version: 5 })],
      ['IPv4 total length beyond the frame', buildPacket({ ...good, totalLength: 200 })],
      ['IPv4 total length shorter than the header', buildPacket({ ...good, totalLength: 16 })],
      ['a TCP header cut by the IPv4 total length', buildPacket({ ...good, totalLength: 20 + 12 })],
      ['TCP data offset below 5', buildPacket({ ...good, l4: { proto: 'tcp', sport: 1, dport: 80, doff: 4 } })],
      ['TCP data offset beyond the packet', buildPacket({ ...good, l4: { proto: 'tcp', sport: 1, dport: 80, doff: 15 } })],
      ['a UDP header cut short', buildPacket({ src: PEER, dst: POD, l4: { proto: 'udp', sport: 1, dport: 53 } }).subarray(0, 14 + 20 + 4)],
      ['IPv6 payload length beyond the frame', buildPacket({ ...good, src: PEER6, dst: POD6, payloadLength: 100 })],
      ['a TCP header cut by the end of the IPv6 frame', buildPacket({ ...good, src: PEER6, dst: POD6 }).subarray(0, 14 + 40 + 10)],
      ['a first fragment too short for the TCP header', buildFragments({ ...good, payload: Buffer.alloc(32) }, 9, 8)[0]],
    ];
    it.each(cases)('drops %s', (_name, frame) => {
      expectJudged('toPod', frame, 'DROP', 'MALFORMED');
    });
  });

  describe('fragments', () => {
    const datagram = (dport: number, src = PEER, dst = POD): PacketSpec => ({
      src,
      dst,
      l4: { proto: 'udp', sport: 40000, dport },
      payload: Buffer.alloc(64, 0xab),
    });

    it('later fragments follow an allowed first fragment (IPv4 and IPv6)', () => {
      tc.reset({ ...STATE, policy: [...POLICY, rule({ direction: 'ingress', peerKind: 'identity', peerId: 200, protocol: 17, port: 7000, ruleId: 16 })] });
      for (const [src, dst] of [[PEER, POD], [PEER6, POD6]] as const) {
        const [first, later] = buildFragments(datagram(7000, src, dst), 77, 16);
        expectJudged('toPod', first, 'ALLOW', 'POLICY_ALLOW');
        expectJudged('toPod', later, 'ALLOW', 'POLICY_ALLOW');
      }
    });

    it('later fragments follow a denied first fragment', () => {
      const [first, later] = buildFragments(datagram(7001), 78, 16);
      expectJudged('toPod', first, 'DROP', 'POLICY_DENY');
      expectJudged('toPod', later, 'DROP', 'POLICY_DENY');
    });

    it('a later fragment whose first was never seen is dropped', () => {
      const [, later] = buildFragments(datagram(7000), 79, 16);
      expectJudged('toPod', later, 'DROP', 'FRAGMENT');
      const [, later6] = buildFragments(datagram(7000, PEER6, POD6), 79, 16);
      expectJudged('toPod', later6, 'DROP', 'FRAGMENT');
    });

    it('a later fragment does not inherit a verdict across IP ids', () => {
      tc.reset({ ...STATE, policy: [...POLICY, rule({ direction: 'ingress', peerKind: 'identity', peerId: 200, protocol: 17, port: 7000, ruleId: 16 })] });
      expectJudged('toPod', buildFragments(datagram(7000), 80, 16)[0], 'ALLOW', 'POLICY_ALLOW');
      expectJudged('toPod', buildFragments(datagram(7000), 81, 16)[1], 'DROP', 'FRAGMENT');
    });

    it('a guarded port stays guarded for later fragments', () => {
      const spec: PacketSpec = { src: PEER, dst: POD, l4: { proto: 'tcp', sport: 1, dport: GUARDED, flags: TCP.SYN }, payload: Buffer.alloc(40) };
      const [first, later] = buildFragments(spec, 82, 24);
      expectJudged('toPod', first, 'DROP', 'LOOPBACK_ONLY');
      expectJudged('toPod', later, 'DROP', 'LOOPBACK_ONLY');
    });
  });

  describe('conntrack', () => {
    it('passes the reply of an allowed flow, and only at the endpoint that allowed it', () => {
      expectJudged('toPod', udp(WORLD, POD, 5353, 53), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('fromPod', udp(POD, WORLD, 53, 5353), 'ALLOW', 'REPLY');
      expectJudged('fromPod', udp(POD, WORLD, 53, 5354), 'DROP', 'POLICY_DENY');
    });

    it('without the request, the "reply" is judged by policy', () => {
      expectJudged('fromPod', udp(POD, WORLD, 53, 5353), 'DROP', 'POLICY_DENY');
    });

    it('passes ICMP echo replies by echo id', () => {
      expectJudged('fromPod', buildPacket({ src: POD, dst: PEER, l4: { proto: 'icmp', type: ICMP4.ECHO, id: 42 } }), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('toPod', buildPacket({ src: PEER, dst: POD, l4: { proto: 'icmp', type: ICMP4.ECHO_REPLY, id: 42 } }), 'ALLOW', 'REPLY');
      expectJudged('toPod', buildPacket({ src: PEER, dst: POD, l4: { proto: 'icmp', type: ICMP4.ECHO_REPLY, id: 43 } }), 'DROP', 'POLICY_DENY');
      expectJudged('fromPod', buildPacket({ src: POD6, dst: PEER6, l4: { proto: 'icmp', type: ICMP6.ECHO_REQUEST, id: 42 } }), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('toPod', buildPacket({ src: PEER6, dst: POD6, l4: { proto: 'icmp', type: ICMP6.ECHO_REPLY, id: 42 } }), 'ALLOW', 'REPLY');
    });

    it('passes ICMP errors about a tracked flow, judges the others by policy', () => {
      const flow: PacketSpec = { src: POD, dst: PEER, l4: { proto: 'udp', sport: 40000, dport: 5000 } };
      expectJudged('fromPod', buildPacket(flow), 'ALLOW', 'POLICY_ALLOW');
      const error = (quoted: PacketSpec) =>
        buildPacket({ src: ROUTER, dst: POD, l4: { proto: 'icmp', type: ICMP4.DEST_UNREACH, code: 3, quote: ipPacket(quoted).subarray(0, 28) } });
      expectJudged('toPod', error(flow), 'ALLOW', 'RELATED_ICMP');
      expectJudged('toPod', error({ ...flow, l4: { proto: 'udp', sport: 40000, dport: 5001 } }), 'DROP', 'POLICY_DENY');

      const flow6: PacketSpec = { src: POD6, dst: PEER6, l4: { proto: 'udp', sport: 40000, dport: 5000 } };
      expectJudged('fromPod', buildPacket(flow6), 'ALLOW', 'POLICY_ALLOW');
      const error6 = buildPacket({ src: 'fd00::fe', dst: POD6, l4: { proto: 'icmp', type: ICMP6.DEST_UNREACH, quote: ipPacket(flow6) } });
      expectJudged('toPod', error6, 'ALLOW', 'RELATED_ICMP');
    });

    it('passes an ICMP error about the reply of a tracked inbound flow', () => {
      expectJudged('toPod', udp(WORLD, POD, 5353, 53), 'ALLOW', 'POLICY_ALLOW');
      const reply: PacketSpec = { src: POD, dst: WORLD, l4: { proto: 'udp', sport: 53, dport: 5353 } };
      const error = buildPacket({ src: ROUTER, dst: POD, l4: { proto: 'icmp', type: ICMP4.TIME_EXCEEDED, quote: ipPacket(reply) } });
      expectJudged('toPod', error, 'ALLOW', 'RELATED_ICMP');
    });

    it('judges a non-SYN TCP packet without an entry as a reply of the opposite direction', () => {
      // The pod's egress allows any peer on TCP 443: an ACK from 443 to the pod is that flow's reply.
      expectJudged('toPod', tcp(STRANGER, POD, 443, 40000, TCP.ACK), 'ALLOW', 'REPLY');
      expectJudged('fromPod', tcp(POD, STRANGER, 40000, 443, TCP.ACK), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('toPod', tcp(STRANGER, POD, 443, 40000, TCP.ACK), 'ALLOW', 'REPLY');
      // A SYN is never a reply, and a source port the egress policy does not allow is no reply either.
      expectJudged('toPod', tcp(STRANGER, POD, 443, 40001, TCP.SYN), 'DROP', 'POLICY_DENY');
      expectJudged('toPod', tcp(STRANGER, POD, 444, 40000, TCP.ACK), 'DROP', 'POLICY_DENY');
    });

    it('revoking a policy stops an established flow at its next packet, replies included', () => {
      expectJudged('toPod', tcp(PEER, POD, 40000, 80, TCP.SYN), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('fromPod', tcp(POD, PEER, 80, 40000, TCP.SYN | TCP.ACK), 'ALLOW', 'REPLY');
      tc.map('policy').delete(encodePolicyEntry(POLICY[0] as PolicyEntry).key);
      // The pod's egress would allow 80 → PEER as an original flow, yet the revoked flow must not come back.
      expectJudged('toPod', tcp(PEER, POD, 40000, 80, TCP.ACK), 'DROP', 'POLICY_DENY');
      expectJudged('toPod', tcp(PEER, POD, 40000, 80, TCP.ACK), 'DROP', 'POLICY_DENY');
      expectJudged('fromPod', tcp(POD, PEER, 80, 40000, TCP.ACK), 'ALLOW', 'POLICY_ALLOW');
    });

    it('entries expire: closed TCP flows after the closing timeout, other flows after theirs', async () => {
      tc.reset({ ...STATE, settings: { tcpClosingTimeoutSeconds: 1, otherTimeoutSeconds: 1 } });
      // Flows the node opened: once expired, nothing but conntrack would let the pod's side through.
      const fromNode = { ingressIfindex: 0 };
      expectJudged('toPod', tcp(STRANGER, POD, 40000, 8080, TCP.SYN), 'ALLOW', 'FROM_NODE', fromNode);
      expectJudged('fromPod', tcp(POD, STRANGER, 8080, 40000, TCP.RST | TCP.ACK), 'ALLOW', 'REPLY');
      expectJudged('toPod', tcp(STRANGER, POD, 40001, 8080, TCP.SYN), 'ALLOW', 'FROM_NODE', fromNode);
      expectJudged('fromPod', tcp(POD, STRANGER, 8080, 40001, TCP.SYN | TCP.ACK), 'ALLOW', 'REPLY');
      expectJudged('toPod', udp(WORLD, POD, 5353, 53), 'ALLOW', 'POLICY_ALLOW');
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expectJudged('fromPod', tcp(POD, STRANGER, 8080, 40000, TCP.ACK), 'DROP', 'POLICY_DENY');
      expectJudged('fromPod', tcp(POD, STRANGER, 8080, 40001, TCP.ACK), 'ALLOW', 'REPLY');
      expectJudged('fromPod', udp(POD, WORLD, 53, 5353), 'DROP', 'POLICY_DENY');
    });
  });

  describe('anti-spoofing', () => {
    it('drops sources that are not the pod own addresses', () => {
      expectJudged('fromPod', tcp('10.0.0.99', PEER, 1, 80), 'DROP', 'SPOOFED_SOURCE');
      expectJudged('fromPod', tcp(PEER, WORLD, 1, 443), 'DROP', 'SPOOFED_SOURCE');
      expectJudged('fromPod', tcp('fd00::99', PEER6, 1, 443), 'DROP', 'SPOOFED_SOURCE');
      expectJudged('fromPod', tcp(POD, WORLD, 1, 443), 'ALLOW', 'POLICY_ALLOW');
    });

    it('allows link-local sources for ICMPv6 only', () => {
      expectJudged('fromPod', tcp('fe80::1', 'fe80::2', 1, 443), 'DROP', 'SPOOFED_SOURCE');
      const echo = buildPacket({ src: 'fe80::1', dst: 'fe80::2', l4: { proto: 'icmp', type: ICMP6.ECHO_REQUEST, id: 1 } });
      expectJudged('fromPod', echo, 'DROP', 'POLICY_DENY');
    });

    it('checks the source MAC when the endpoint has one', () => {
      tc.reset({ ...STATE, endpoint: { ep: ENDPOINT, mac: macBytes(POD_MAC) } });
      expectJudged('fromPod', tcp(POD, WORLD, 1, 443, TCP.SYN, { srcMac: POD_MAC }), 'ALLOW', 'POLICY_ALLOW');
      expectJudged('fromPod', tcp(POD, WORLD, 1, 443, TCP.SYN, { srcMac: '02:00:00:00:00:09' }), 'DROP', 'SPOOFED_SOURCE');
    });

    it('is not lifted by audit mode', () => {
      tc.reset({ ...STATE, endpoint: { ep: { ...ENDPOINT, audit: true } } });
      expectJudged('fromPod', tcp('10.0.0.99', PEER, 1, 80), 'DROP', 'SPOOFED_SOURCE');
    });
  });

  describe('loopback-only guard', () => {
    it('drops a guarded port whatever policy, conntrack or the node says', () => {
      expectJudged('toPod', tcp(PEER, POD, 40000, GUARDED), 'DROP', 'LOOPBACK_ONLY');
      expectJudged('toPod', tcp(PEER, POD, 40000, GUARDED), 'DROP', 'LOOPBACK_ONLY', { ingressIfindex: 0 });
      tc.reset({ ...STATE, endpoint: { ep: { ...ENDPOINT, audit: true, isolateIngress: false } } });
      expectJudged('toPod', tcp(PEER, POD, 40000, GUARDED), 'DROP', 'LOOPBACK_ONLY');
    });

    it('guards TCP only, and only towards the pod', () => {
      tc.reset({ ...STATE, endpoint: { ep: { ...ENDPOINT, isolateIngress: false, isolateEgress: false } } });
      expectJudged('toPod', udp(PEER, POD, 40000, GUARDED), 'ALLOW', 'NOT_ISOLATED');
      expectJudged('fromPod', tcp(POD, PEER, 40000, GUARDED), 'ALLOW', 'NOT_ISOLATED');
    });
  });

  describe('node, services, audit and unknown devices', () => {
    it('allows traffic the node originates (by skb origin, not address) and its replies', () => {
      expectJudged('toPod', tcp(STRANGER, POD, 40000, 8080), 'DROP', 'POLICY_DENY');
      expectJudged('toPod', tcp(STRANGER, POD, 40000, 8080), 'ALLOW', 'FROM_NODE', { ingressIfindex: 0 });
      expectJudged('fromPod', tcp(POD, STRANGER, 8080, 40000, TCP.SYN | TCP.ACK), 'ALLOW', 'REPLY');
    });

    it('defers egress to a Service frontend and tracks it so the reverse-NATed reply passes', () => {
      expectJudged('fromPod', udp(POD, SERVICE_IP, 40000, 53), 'ALLOW', 'SERVICE_DEFERRED');
      expectJudged('toPod', udp(SERVICE_IP, POD, 53, 40000), 'ALLOW', 'REPLY');
      expectJudged('fromPod', udp(POD, SERVICE_IP, 40000, 54), 'DROP', 'POLICY_DENY');
    });

    it('audit mode passes would-be drops, counts them apart and lets their replies through', () => {
      tc.reset({ ...STATE, endpoint: { ep: { ...ENDPOINT, audit: true } } });
      expectJudged('toPod', udp(STRANGER, POD, 40000, 9999), 'WOULD_DROP', 'POLICY_DENY');
      expectJudged('fromPod', udp(POD, STRANGER, 9999, 40000), 'ALLOW', 'REPLY');
    });

    it('a device with no endpoint passes, or drops when configured to', () => {
      tc.reset({ ...STATE, endpoint: undefined });
      expectJudged('toPod', tcp(PEER, POD, 1, 81), 'ALLOW', 'UNKNOWN_ENDPOINT', {}, 0);
      tc.reset({ ...STATE, endpoint: undefined, settings: { unknownEndpoint: 'deny' } });
      expectJudged('fromPod', tcp(POD, PEER, 1, 81), 'DROP', 'UNKNOWN_ENDPOINT', {}, 0);
    });
  });

  describe('events', () => {
    function collect(run: () => void): FlowEvent[] {
      const events: FlowEvent[] = [];
      const ring = new RingBuffer(tc.map('events'), (record) => events.push(decodeEvent(record)));
      try {
        ring.consume(); // drain what earlier tests left
        events.length = 0;
        run();
        ring.consume();
      } finally {
        ring.close();
      }
      return events;
    }

    it('reports drops with the 5-tuple and identities, allows only when sampled', () => {
      const events = collect(() => {
        tc.run('toPod', tcp(PEER, POD, 40000, 81));
        tc.run('toPod', tcp(PEER, POD, 40000, 80));
      });
      expect(events).toEqual([
        expect.objectContaining({
          source: PEER,
          destination: POD,
          sourcePort: 40000,
          destinationPort: 81,
          protocol: 6,
          endpointId: EP,
          ifindex: 1,
          sourceIdentity: 200,
          destinationIdentity: 100,
          direction: 'ingress',
          verdict: 'DROP',
          reason: 'POLICY_DENY',
        }),
      ]);
      tc.reset({ ...STATE, settings: { allowEventSample: 1 } });
      const sampled = collect(() => tc.run('toPod', tcp(PEER, POD, 40000, 80)));
      expect(sampled).toEqual([expect.objectContaining({ verdict: 'ALLOW', reason: 'POLICY_ALLOW', ruleId: 11 })]);
    });

    it('rate-limits events with the per-CPU token bucket', () => {
      tc.reset({ ...STATE, settings: { eventsPerSecond: 3 } });
      const events = collect(() => tc.run('toPod', tcp(PEER, POD, 40000, 81), { repeat: 50 }));
      expect(events.length).toBeGreaterThanOrEqual(3);
      expect(events.length).toBeLessThanOrEqual(3 * 2); // a second CPU has its own bucket
      expect(tc.counted(EP, 'ingress', 'DROP', 'POLICY_DENY')).toBe(50n);
    });
  });
});
