// Fuzzing the TC programs. Random flows over the truth-table clusters must get exactly the oracle's verdict; randomly
// mutated frames under a deny-all policy must never pass except as non-IP or neighbour discovery, and every packet
// must be counted once. Seeded, so a failure names a reproducible case; bounded in time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/policy/compile.js';
import type { DesiredEndpoint } from '../../src/policy/desired.js';
import { ALL_PODS, caseState, NETPOL_CASES, probeLabel, type Probe } from '../helpers/netpol-tables.js';
import {
  arpFrame,
  buildFragments,
  buildPacket,
  ETH_P_8021Q,
  ETH_P_IP,
  ETH_P_IPV6,
  ICMP4,
  ICMP6,
  ipPacket,
  TCP,
  type PacketSpec,
} from '../helpers/packets.js';
import { endpointAddress, FlowJudge, oracleOutcome, probeFrame } from './tc-flows.js';
import { skipBpfSuite, TcHarness, type Hook } from './tc-harness.js';

/** mulberry32: small, seedable, good enough to spread test inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.MOAT_FUZZ_SEED ?? 20240611);
const MIN_PACKETS = 1_000_000;
const TIME_BUDGET_MS = 45_000;

describe.skipIf(skipBpfSuite())('TC datapath fuzzing', () => {
  let tc: TcHarness;

  beforeAll(() => {
    tc = TcHarness.open();
  });
  afterAll(() => tc?.close());

  it('random flows over the truth-table clusters get the oracle verdict', () => {
    const random = prng(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const ends = [...ALL_PODS, 'external', 'node'];
    const ports = [53, 80, 81, 90, 91, 443, 9090, 15088, 65535];
    const protocols: Probe['protocol'][] = ['TCP', 'UDP', 'SCTP', 'ICMP'];
    const repeat = 16;
    let packets = 0;
    const mismatches: string[] = [];
    for (const testCase of NETPOL_CASES) {
      const state = caseState(testCase);
      const judge = new FlowJudge(tc, compile(state));
      for (let i = 0; i < 40; i += 1) {
        const from = pick(ends);
        const to = pick(ALL_PODS.filter((pod) => pod !== from));
        const protocol = pick(protocols);
        const probe: Probe = { protocol, port: protocol === 'ICMP' ? 0 : random() < 0.7 ? pick(ports) : 1 + Math.floor(random() * 65535) };
        const expected = oracleOutcome(state, from, to, probe);
        const actual = judge.outcome(from, to, probeFrame(endpointAddress(from), endpointAddress(to), probe), repeat);
        packets += repeat * (from.includes('/') ? 2 : 1);
        if (actual !== expected) mismatches.push(`[${testCase.name}] ${from} -> ${to} ${probeLabel(probe)}: datapath ${actual}, oracle ${expected}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(packets).toBeGreaterThan(0);
  });

  it(`mutated frames never pass a deny-all endpoint except as non-IP or NDP (>= ${MIN_PACKETS} packets)`, () => {
    const POD = '10.0.1.1';
    const POD6 = 'fd00::1';
    const PEER = '10.0.2.2';
    const PEER6 = 'fd00::2';
    const endpoint: DesiredEndpoint = {
      namespace: 'x',
      name: 'a',
      endpointId: 1,
      identity: 100,
      ips: [POD, POD6],
      isolateIngress: true,
      isolateEgress: true,
      audit: false,
      guardPorts: [15088],
    };
    tc.reset({
      endpoint: { ep: endpoint },
      ipcache: [
        { cidr: `${POD}/32`, identity: 100, endpointId: 1 },
        { cidr: `${POD6}/128`, identity: 100, endpointId: 1 },
        { cidr: '10.0.0.0/16', identity: 200, endpointId: 0 },
      ],
      cidrAtoms: [{ cidr: '10.0.0.0/8', atom: 3 }],
    });

    const specs: PacketSpec[] = [];
    for (const [src, dst] of [[POD, PEER], [PEER, POD], [POD6, PEER6], [PEER6, POD6]] as const) {
      const v6 = src.includes(':');
      specs.push(
        { src, dst, l4: { proto: 'tcp', sport: 40000, dport: 80, flags: TCP.SYN }, payload: Buffer.alloc(24, 1) },
        { src, dst, l4: { proto: 'tcp', sport: 443, dport: 40000, flags: TCP.ACK } },
        { src, dst, l4: { proto: 'udp', sport: 53, dport: 53 }, payload: Buffer.alloc(16, 2) },
        { src, dst, l4: { proto: 'sctp', sport: 1, dport: 9000 } },
        { src, dst, l4: { proto: 'icmp', type: v6 ? ICMP6.ECHO_REQUEST : ICMP4.ECHO, id: 9 } },
        { src, dst, l4: { proto: 'icmp', type: v6 ? ICMP6.DEST_UNREACH : ICMP4.DEST_UNREACH, quote: ipPacket({ src: dst, dst: src, l4: { proto: 'udp', sport: 1, dport: 2 } }) } },
        v6
          ? { src, dst, l4: { proto: 'udp', sport: 1, dport: 2 }, ipv6Extensions: [{ type: 'hop' }, { type: 'dest', units: 1 }] }
          : { src, dst, l4: { proto: 'udp', sport: 1, dport: 2 }, ipv4Options: Buffer.from([1, 1, 1, 0]) },
      );
    }
    const seeds: Buffer[] = [
      ...specs.map(buildPacket),
      ...specs.slice(0, 3).flatMap((spec) => buildFragments({ ...spec, payload: Buffer.alloc(48, 3) }, 7, 24)),
      arpFrame(POD, PEER),
    ];

    const random = prng(SEED + 1);
    const byte = (): number => Math.floor(random() * 256);
    const MIN_FRAME = 14 + 40; // test_run refuses frames shorter than their fixed IP header
    const mutate = (frame: Buffer): Buffer => {
      const out = Buffer.from(frame);
      const edits = 1 + Math.floor(random() * 4);
      for (let i = 0; i < edits; i += 1) {
        const at = Math.floor(random() * out.length);
        // Header bytes are where parsing decisions live: aim most edits at the first 80 bytes.
        out[random() < 0.8 ? at % Math.min(out.length, 80) : at] = byte();
      }
      if (random() < 0.2) out.writeUInt16BE(random() < 0.5 ? ETH_P_IP : ETH_P_IPV6, 12);
      const kept = random() < 0.3 ? out.subarray(0, MIN_FRAME + Math.floor(random() * Math.max(1, out.length - MIN_FRAME))) : out;
      return Buffer.concat([kept, Buffer.alloc(Math.max(0, MIN_FRAME - kept.length))]);
    };

    const isIpEthertype = (frame: Buffer): boolean => [ETH_P_IP, ETH_P_IPV6, ETH_P_8021Q, 0x88a8].includes(frame.readUInt16BE(12));
    const isNdp = (frame: Buffer): boolean =>
      frame.readUInt16BE(12) === ETH_P_IPV6 && frame.length > 54 && frame[20] === 58 && (frame[54] ?? 0) >= ICMP6.RS && (frame[54] ?? 0) <= 137;

    const repeat = 32;
    const deadline = Date.now() + TIME_BUDGET_MS;
    const problems: string[] = [];
    let packets = 0;
    let countedSinceReset = 0;
    let frames = 0;
    tc.forgetFlows();
    while (packets < MIN_PACKETS && Date.now() < deadline) {
      const frame = mutate(seeds[frames % seeds.length] as Buffer);
      frames += 1;
      for (const hook of ['fromPod', 'toPod'] as Hook[]) {
        packets += repeat;
        if (tc.verdict(hook, frame, { repeat }) === 'drop') {
          countedSinceReset += repeat;
          continue;
        }
        // Allowed: find out why on a clean slate (these verdicts create no state, so a rerun is the same).
        tc.forgetFlows();
        tc.run(hook, frame);
        const [why] = tc.counters();
        countedSinceReset = 1;
        const ok = why && (why.reason === 'NON_IP' ? !isIpEthertype(frame) : why.reason === 'NDP' && isNdp(frame));
        if (!ok) problems.push(`${hook} allowed ${frame.toString('hex')} (${why?.reason ?? 'no counter'})`);
      }
      if (problems.length > 5) break;
    }
    expect(problems).toEqual([]);
    const counted = tc.counters().reduce((sum, c) => sum + c.packets, 0n);
    expect(counted).toBe(BigInt(countedSinceReset)); // every packet counted once, nothing lost
    expect(packets, `${frames} frames in ${TIME_BUDGET_MS} ms`).toBeGreaterThanOrEqual(MIN_PACKETS);
  });
});
