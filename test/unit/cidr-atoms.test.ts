import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildCidrAtoms, ipBlockKey, unifiedAddress, unifiedContains, unifiedPrefix } from '../../src/policy/cidr-atoms.js';
import { cidrContainsIp, parseCidr, parseIp } from '../../src/policy/ip.js';
import type { IPBlock } from '../../src/policy/model.js';
import { assignStableIds, fnv1a32 } from '../../src/policy/stable-ids.js';

/** The blocks an address falls into according to the LPM table (what the BPF side computes). */
function blocksByLpm(blocks: readonly IPBlock[], address: string): string[] {
  const atoms = buildCidrAtoms(blocks);
  const unified = unifiedAddress(parseIp(address));
  let best: { length: number; atom: number } | undefined;
  for (const entry of atoms.entries) {
    const prefix = unifiedPrefix(parseCidr(entry.cidr));
    if (unifiedContains(prefix, unified) && (best === undefined || prefix.length > best.length)) {
      best = { length: prefix.length, atom: entry.atom };
    }
  }
  if (best === undefined || best.atom === 0) return [];
  const atom = best.atom;
  return [...atoms.atomsOfBlock].filter(([, ids]) => ids.includes(atom)).map(([key]) => key).sort();
}

/** The blocks an address falls into by definition (cidr and not in an except). */
function blocksByDefinition(blocks: readonly IPBlock[], address: string): string[] {
  const ip = parseIp(address);
  const inside = blocks.filter(
    (b) => cidrContainsIp(parseCidr(b.cidr), ip) && !b.except.some((e) => cidrContainsIp(parseCidr(e), ip)),
  );
  return [...new Set(inside.map(ipBlockKey))].sort();
}

const block = (cidr: string, ...except: string[]): IPBlock => ({ cidr, except });

describe('stable ids', () => {
  it('hashes FNV-1a 32 like the reference vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('keeps an id whatever other keys exist, and settles collisions deterministically', () => {
    const alone = assignStableIds(['x'], 256);
    const crowded = assignStableIds(['a', 'x', 'b', 'c'], 256);
    expect(crowded.get('x')).toBe(alone.get('x'));
    // With a span of 2 ids every second key collides: probing must still give distinct ids.
    const tiny = assignStableIds(['k1', 'k2'], 2 ** 31 - 2);
    expect(new Set(tiny.values()).size).toBe(2);
    expect(() => assignStableIds(['a', 'b', 'c'], 2 ** 31 - 2)).toThrow(/3 keys do not fit/);
  });
});

describe('buildCidrAtoms', () => {
  it('splits a cidr with an except into the block and a hole', () => {
    const atoms = buildCidrAtoms([block('10.0.0.0/8', '10.1.0.0/16')]);
    expect(atoms.entries.map((e) => [e.cidr, e.atom === 0 ? 'none' : 'block'])).toEqual([
      ['10.0.0.0/8', 'block'],
      ['10.1.0.0/16', 'none'],
    ]);
    expect(atoms.atomsOfBlock.get('10.0.0.0/8!10.1.0.0/16')).toHaveLength(1);
  });

  it('shares one atom between equal sets and canonicalises block text', () => {
    const atoms = buildCidrAtoms([block('10.0.0.1/8'), block('10.0.0.0/8')]);
    expect([...atoms.atomsOfBlock.keys()]).toEqual(['10.0.0.0/8']);
    expect(atoms.entries).toHaveLength(1);
  });

  it('gives nested blocks nested atoms', () => {
    const outer = block('10.0.0.0/8');
    const inner = block('10.1.0.0/16');
    expect(blocksByLpm([outer, inner], '10.1.2.3')).toEqual(['10.0.0.0/8', '10.1.0.0/16']);
    expect(blocksByLpm([outer, inner], '10.2.2.3')).toEqual(['10.0.0.0/8']);
    expect(blocksByLpm([outer, inner], '11.0.0.1')).toEqual([]);
  });

  it('keeps ::/0 away from IPv4 addresses and 0.0.0.0/0 away from IPv6 ones', () => {
    expect(blocksByLpm([block('::/0')], '10.1.2.3')).toEqual([]);
    expect(blocksByLpm([block('::/0')], '2001:db8::1')).toEqual(['::/0']);
    expect(blocksByLpm([block('0.0.0.0/0')], '2001:db8::1')).toEqual([]);
    expect(blocksByLpm([block('0.0.0.0/0', '10.0.0.0/8'), block('::/0', 'fd00::/8')], '10.0.0.1')).toEqual([]);
    expect(blocksByLpm([block('0.0.0.0/0', '10.0.0.0/8'), block('::/0', 'fd00::/8')], '11.0.0.1')).toEqual(['0.0.0.0/0!10.0.0.0/8']);
    expect(blocksByLpm([block('0.0.0.0/0', '10.0.0.0/8'), block('::/0', 'fd00::/8')], 'fd00::1')).toEqual([]);
  });

  it('keeps atom ids stable when unrelated blocks come and go', () => {
    const first = buildCidrAtoms([block('192.168.0.0/16')]);
    const second = buildCidrAtoms([block('192.168.0.0/16'), block('172.16.0.0/12')]);
    expect(second.atomsOfBlock.get('192.168.0.0/16')).toEqual(first.atomsOfBlock.get('192.168.0.0/16'));
  });

  it('names the bad text when a cidr does not parse', () => {
    expect(() => buildCidrAtoms([block('10.0.0.0/33')])).toThrow(/10\.0\.0\.0\/33/);
  });

  it('agrees with the definition for random blocks and addresses (property)', () => {
    // Addresses drawn from a small v4 and v6 neighbourhood so blocks, excepts and probes overlap often.
    const v4 = fc.tuple(fc.constantFrom(10, 11), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }))
      .map(([a, b, c]) => `${a}.${b}.${c}.${(c * 7) % 256}`);
    const v6 = fc.tuple(fc.constantFrom('fd00', 'fd01'), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 65535 }))
      .map(([a, b, c]) => `${a}:${b}::${c.toString(16)}`);
    const address = fc.oneof(v4, v6);
    const prefixOf = (ip: string, length: number): string => {
      const family = ip.includes(':') ? 128 : 32;
      return `${ip}/${Math.min(length, family)}`;
    };
    const cidrText = fc.tuple(address, fc.integer({ min: 0, max: 128 })).map(([ip, len]) => prefixOf(ip, ip.includes(':') ? len : len % 33));
    const blockArb = fc.tuple(cidrText, fc.array(fc.integer({ min: 0, max: 128 }), { maxLength: 2 }), address)
      .map(([cidr, lens, hole]) => {
        const base = parseCidr(cidr);
        const sameFamily = (hole.includes(':') ? 6 : 4) === base.family;
        const except = sameFamily ? lens.map((len) => prefixOf(hole, Math.max(base.prefixLength, base.family === 4 ? len % 33 : len))) : [];
        return block(cidr, ...except.filter((e) => cidrContainsIp(base, parseIp(e.split('/')[0] as string))));
      });
    fc.assert(
      fc.property(fc.array(blockArb, { maxLength: 6 }), fc.array(address, { minLength: 1, maxLength: 8 }), (blocks, probes) => {
        for (const probe of probes) expect(blocksByLpm(blocks, probe)).toEqual(blocksByDefinition(blocks, probe));
      }),
      { numRuns: 300 },
    );
  });
});
