import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalCidr, canonicalIp, cidrContainsCidr, cidrContainsIp, formatIp, parseCidr, parseIp, tryParseIp } from '../../src/policy/ip.js';

describe('ip addresses', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['FD00:0:0::0001', 'fd00::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::ffff:10.1.2.3', '::ffff:10.1.2.3'],
    ['64:ff9b::10.1.2.3', '64:ff9b::a01:203'],
  ])('%s → %s', (text, canonical) => {
    expect(canonicalIp(text)).toBe(canonical);
  });

  it.each(['10.0.0', '10.0.0.1.2', '10.0.0.256', '10.0.0.01', '1.2.3.-4', '', 'fd00::1::2', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'fe80::1%eth0', 'g::1', '12345::', '1:2:3:4:5:6:7::8'])(
    'rejects %j',
    (text) => {
      expect(() => parseIp(text)).toThrow(/is not (an|a)/);
      expect(tryParseIp(text)).toBeUndefined();
    },
  );

  it('round-trips every address through its canonical text', () => {
    const v6 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((value) => ({ family: 6 as const, value }));
    const v4 = fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((value) => ({ family: 4 as const, value }));
    fc.assert(fc.property(fc.oneof(v4, v6), (address) => {
      expect(parseIp(formatIp(address))).toEqual(address);
    }));
  });
});

describe('CIDRs', () => {
  it('clears host bits and says so', () => {
    expect(parseCidr('10.1.2.3/16')).toEqual({ family: 4, network: 0x0a010000n, prefixLength: 16, hadHostBits: true });
    expect(canonicalCidr('FD00::1/64')).toBe('fd00::/64');
    expect(canonicalCidr('0.0.0.0/0')).toBe('0.0.0.0/0');
    expect(parseCidr('10.1.0.0/16').hadHostBits).toBe(false);
  });

  it.each(['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', 'fd00::/129', '10.0.0.0/a'])('rejects %j', (text) => {
    expect(() => parseCidr(text)).toThrow(/CIDR|IP/);
  });

  it('contains addresses of its own family only', () => {
    const net = parseCidr('10.1.0.0/16');
    expect(cidrContainsIp(net, parseIp('10.1.255.255'))).toBe(true);
    expect(cidrContainsIp(net, parseIp('10.2.0.0'))).toBe(false);
    expect(cidrContainsIp(parseCidr('0.0.0.0/0'), parseIp('1.2.3.4'))).toBe(true);
    expect(cidrContainsIp(parseCidr('::/0'), parseIp('10.1.0.1'))).toBe(false);
    expect(cidrContainsIp(parseCidr('fd00::/8'), parseIp('fdff::1'))).toBe(true);
  });

  it('contains CIDRs that are equal or inside', () => {
    expect(cidrContainsCidr(parseCidr('10.0.0.0/8'), parseCidr('10.1.0.0/16'))).toBe(true);
    expect(cidrContainsCidr(parseCidr('10.0.0.0/8'), parseCidr('10.0.0.0/8'))).toBe(true);
    expect(cidrContainsCidr(parseCidr('10.1.0.0/16'), parseCidr('10.0.0.0/8'))).toBe(false);
    expect(cidrContainsCidr(parseCidr('10.0.0.0/8'), parseCidr('fd00::/64'))).toBe(false);
  });
});
