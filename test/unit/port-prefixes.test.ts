import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { portPrefixContains, portRangePrefixes } from '../../src/policy/port-prefixes.js';

describe('portRangePrefixes', () => {
  it('gives one exact prefix for a single port', () => {
    expect(portRangePrefixes(80, 80)).toEqual([{ port: 80, prefixLen: 16 }]);
  });

  it('gives the whole space as one zero-length prefix', () => {
    expect(portRangePrefixes(0, 65535)).toEqual([{ port: 0, prefixLen: 0 }]);
  });

  it('covers 8000-8080 with the minimal aligned blocks', () => {
    expect(portRangePrefixes(8000, 8080)).toEqual([
      { port: 8000, prefixLen: 10 }, // 8000-8063: 8000 is aligned to 64, not 128
      { port: 8064, prefixLen: 12 }, // 8064-8079
      { port: 8080, prefixLen: 16 },
    ]);
  });

  it('covers 1-65535 with 16 blocks', () => {
    const prefixes = portRangePrefixes(1, 65535);
    expect(prefixes).toHaveLength(16);
    expect(prefixes[0]).toEqual({ port: 1, prefixLen: 16 });
    expect(prefixes.at(-1)).toEqual({ port: 32768, prefixLen: 1 });
  });

  it('rejects empty and out-of-range ranges, naming the bound', () => {
    expect(() => portRangePrefixes(81, 80)).toThrow(/81-80 is empty/);
    expect(() => portRangePrefixes(0, 70000)).toThrow(/last 70000/);
    expect(() => portRangePrefixes(-1, 5)).toThrow(/first -1/);
  });

  it('covers exactly the range, with disjoint aligned blocks (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }),
        (a, b, probe) => {
          const [first, last] = a <= b ? [a, b] : [b, a];
          const prefixes = portRangePrefixes(first, last);
          const covering = prefixes.filter((p) => portPrefixContains(p, probe));
          const inside = probe >= first && probe <= last;
          expect(covering.length).toBe(inside ? 1 : 0);
          for (const p of prefixes) expect(p.port % 2 ** (16 - p.prefixLen)).toBe(0);
          // A cover of n ports needs at most 2*16 blocks.
          expect(prefixes.length).toBeLessThanOrEqual(32);
        }),
      { numRuns: 2000 },
    );
  });
});
