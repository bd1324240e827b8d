import { describe, expect, it } from 'vitest';
import {
  decodeAddress,
  decodeCounters,
  decodeEvent,
  encodeAddress,
  encodeCidrAtomEntry,
  encodeConfig,
  encodeEndpoint,
  encodeEndpointKey,
  encodeIpcacheEntry,
  encodePolicyEntry,
  encodePrefix,
  encodeServiceFrontend,
  maskPort,
} from '../../src/datapath/codec.js';
import {
  MOAT_EP_AUDIT,
  MOAT_EP_CHECK_MAC,
  MOAT_EP_ISOLATE_INGRESS,
  MoatReason,
  MoatVerdict,
  decodeMoatConfig,
  decodeMoatEndpoint,
  decodeMoatPolicyKey,
  encodeMoatCounterKey,
  encodeMoatCounterValue,
  encodeMoatEvent,
} from '../../src/datapath/abi.generated.js';
import type { DesiredEndpoint, PolicyEntry } from '../../src/policy/desired.js';

const hex = (b: Buffer): string => b.toString('hex');

describe('addresses and prefixes', () => {
  it('maps IPv4 into ::ffff:0:0/96', () => {
    expect(hex(encodeAddress('10.1.2.3'))).toBe('00000000000000000000ffff0a010203');
    expect(encodePrefix('10.0.0.0/8')).toEqual({ addr: encodeAddress('10.0.0.0'), prefixlen: 104 });
  });

  it('keeps IPv6 as is and treats a bare address as its host prefix', () => {
    expect(hex(encodeAddress('fd00::1'))).toBe('fd000000000000000000000000000001');
    expect(encodePrefix('fd00::1').prefixlen).toBe(128);
    expect(encodePrefix('10.0.0.7').prefixlen).toBe(128);
  });

  it('clears host bits so one prefix has one key', () => {
    expect(encodePrefix('10.1.2.3/8')).toEqual(encodePrefix('10.0.0.0/8'));
    expect(hex(encodePrefix('fd00:1:2::/32').addr)).toBe('fd000001000000000000000000000000');
  });

  it('an IPv4-mapped IPv6 text is the same datapath address as the IPv4 one', () => {
    expect(encodeAddress('::ffff:10.0.0.1')).toEqual(encodeAddress('10.0.0.1'));
  });

  it('decodes back to canonical text', () => {
    for (const text of ['10.1.2.3', '0.0.0.0', 'fd00::1', '2001:db8::ff00:42:8329', '::']) {
      expect(decodeAddress(encodeAddress(text))).toBe(text);
    }
  });

  it('rejects bad text with the text in the message', () => {
    expect(() => encodeAddress('10.0.0.256')).toThrow(/10\.0\.0\.256/);
    expect(() => encodePrefix('10.0.0.0/33')).toThrow(/10\.0\.0\.0\/33/);
  });
});

describe('map entries', () => {
  it('ipcache entry: LPM key (prefixlen LE + address) and identity/endpoint value', () => {
    const { key, value } = encodeIpcacheEntry({ cidr: '10.0.0.5/32', identity: 7, endpointId: 3 });
    expect(hex(key)).toBe('80000000' + '00000000000000000000ffff0a000005');
    expect(hex(value)).toBe('07000000' + '03000000');
  });

  it('cidr atom entry', () => {
    const { key, value } = encodeCidrAtomEntry({ cidr: '192.168.0.0/16', atom: 0x0102 });
    expect(hex(key)).toBe('70000000' + '00000000000000000000ffffc0a80000');
    expect(hex(value)).toBe('02010000');
  });

  const base: PolicyEntry = {
    endpointId: 1,
    direction: 'ingress',
    peerKind: 'identity',
    peerId: 9,
    protocol: 6,
    port: 8080,
    portPrefixLen: 16,
    ruleId: 42,
  };

  it('policy entry for one TCP port: prefix 112, port in network order', () => {
    const { key, value } = encodePolicyEntry(base);
    // prefixlen 112 | endpoint 1 | peer 9 | dir 0, kind 1, pad, proto 6 | port 0x1f90 BE | pad
    expect(hex(key)).toBe('70000000' + '01000000' + '09000000' + '00010006' + '1f90' + '0000');
    expect(hex(value)).toBe('2a000000');
  });

  it('policy entry for a port range: prefix 96 + portPrefixLen, port masked to the prefix', () => {
    const { key } = encodePolicyEntry({ ...base, direction: 'egress', peerKind: 'cidr', port: 0xe123, portPrefixLen: 3 });
    const decoded = decodeMoatPolicyKey(key);
    expect(decoded).toMatchObject({ prefixlen: 99, direction: 1, peerKind: 2, proto: 6, portBe: 0xe000 });
  });

  it('policy entry for every protocol stops at the exact-match prefix (88)', () => {
    const { key } = encodePolicyEntry({ ...base, peerKind: 'any', peerId: 0, protocol: null, port: 0, portPrefixLen: 0 });
    expect(hex(key)).toBe('58000000' + '01000000' + '00000000' + '00000000' + '0000' + '0000');
  });

  it('rejects policy entries the datapath could never match', () => {
    expect(() => encodePolicyEntry({ ...base, peerKind: 'any' })).toThrow(/peerId must be 0/);
    expect(() => encodePolicyEntry({ ...base, portPrefixLen: 17 })).toThrow(/portPrefixLen 17/);
  });

  it('masks ports to their prefix', () => {
    expect(maskPort(0xffff, 0)).toBe(0);
    expect(maskPort(0xffff, 1)).toBe(0x8000);
    expect(maskPort(8080, 16)).toBe(8080);
  });

  const endpoint: DesiredEndpoint = {
    namespace: 'ns',
    name: 'waypoint',
    endpointId: 5,
    identity: 77,
    ips: ['10.0.0.5'],
    isolateIngress: true,
    isolateEgress: false,
    audit: true,
    guardPorts: [15088, 9000],
  };

  it('endpoint: flags, guard ports in host order, MAC only when given', () => {
    const withoutMac = encodeEndpoint(endpoint);
    expect(hex(withoutMac)).toBe(
      '05000000' + '4d000000' + '05000000' + '000000000000' + '02' + '00' + 'f03a' + '2823' + '0000'.repeat(6),
    );
    const withMac = decodeMoatEndpoint(encodeEndpoint(endpoint, Buffer.from([2, 0, 0, 0, 0, 1])));
    expect(withMac.flags).toBe(MOAT_EP_ISOLATE_INGRESS | MOAT_EP_AUDIT | MOAT_EP_CHECK_MAC);
    expect(hex(Buffer.from(withMac.mac))).toBe('020000000001');
    expect(hex(encodeEndpointKey(7))).toBe('07000000');
  });

  it('endpoint errors name the pod', () => {
    const tooMany = { ...endpoint, guardPorts: [1, 2, 3, 4, 5, 6, 7, 8, 9] };
    expect(() => encodeEndpoint(tooMany)).toThrow(/ns\/waypoint.*9 loopback-only ports/);
    expect(() => encodeEndpoint(endpoint, Buffer.alloc(5))).toThrow(/ns\/waypoint: MAC/);
    expect(() => encodeEndpoint({ ...endpoint, endpointId: -1 })).toThrow(/moat_endpoint.endpoint_id/);
  });

  it('service frontend key: address, port in network order, protocol', () => {
    const { key } = encodeServiceFrontend({ ip: '10.96.0.10', port: 53, protocol: 17 });
    expect(hex(key)).toBe('00000000000000000000ffff0a60000a' + '0035' + '11' + '00');
  });

  it('config: flags and timeouts in nanoseconds', () => {
    const config = decodeMoatConfig(
      encodeConfig({
        unknownEndpoint: 'deny',
        allowEventSample: 100,
        eventsPerSecond: 1000,
        tcpTimeoutSeconds: 21600,
        tcpClosingTimeoutSeconds: 10,
        otherTimeoutSeconds: 60,
      }),
    );
    expect(config).toEqual({
      flags: 1,
      allowEventSample: 100,
      eventsPerSec: 1000,
      ctTcpTimeoutNs: 21600n * 1_000_000_000n,
      ctTcpClosingTimeoutNs: 10_000_000_000n,
      ctOtherTimeoutNs: 60_000_000_000n,
    });
  });
});

describe('decoding what the programs write', () => {
  it('sums per-CPU counters', () => {
    const key = encodeMoatCounterKey({ endpointId: 3, reason: MoatReason.POLICY_DENY, direction: 1, verdict: MoatVerdict.DROP });
    const cpu = (packets: bigint, bytes: bigint) => encodeMoatCounterValue({ packets, bytes });
    const samples = decodeCounters(new Map([[hex(key), [cpu(2n, 100n), cpu(0n, 0n), cpu(5n, 1000n)]]]));
    expect(samples).toEqual([{ endpointId: 3, direction: 'egress', verdict: 'DROP', reason: 'POLICY_DENY', packets: 7n, bytes: 1100n }]);
  });

  it('decodes an event with text addresses and names', () => {
    const record = encodeMoatEvent({
      tsNs: 123n,
      saddr: encodeAddress('10.0.0.1'),
      daddr: encodeAddress('fd00::2'),
      sport: 40000,
      dport: 80,
      endpointId: 3,
      ifindex: 9,
      srcIdentity: 4,
      dstIdentity: 5,
      ruleId: 6,
      bytes: 60,
      proto: 6,
      direction: 0,
      verdict: MoatVerdict.WOULD_DROP,
      reason: MoatReason.POLICY_DENY,
    });
    expect(decodeEvent(record)).toEqual({
      timestampNs: 123n,
      source: '10.0.0.1',
      destination: 'fd00::2',
      sourcePort: 40000,
      destinationPort: 80,
      protocol: 6,
      endpointId: 3,
      ifindex: 9,
      sourceIdentity: 4,
      destinationIdentity: 5,
      ruleId: 6,
      bytes: 60,
      direction: 'ingress',
      verdict: 'WOULD_DROP',
      reason: 'POLICY_DENY',
    });
  });

  it('rejects records of the wrong size and unknown codes', () => {
    expect(() => decodeEvent(Buffer.alloc(10))).toThrow(/moat_event: expected 72 bytes/);
    const bad = encodeMoatCounterKey({ endpointId: 1, reason: 250, direction: 0, verdict: 0 });
    expect(() => decodeCounters(new Map([[hex(bad), [Buffer.alloc(16)]]]))).toThrow(/counter reason: unknown code 250/);
  });
});
