// Port ranges as bit prefixes of the 16-bit port: the policy map is an LPM trie whose last 16 key bits
// are the destination port, so a range must become the fewest aligned power-of-two blocks.

export const PORT_BITS = 16;
const PORT_MAX = (1 << PORT_BITS) - 1;

export interface PortPrefix {
  /** Port value with the low (16 - prefixLen) bits zero. */
  readonly port: number;
  /** How many leading bits of the port are significant: 16 = exactly `port`, 0 = every port. */
  readonly prefixLen: number;
}

function checkPort(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > PORT_MAX) {
    throw new RangeError(`port prefix: ${what} ${value} is not a port (0..${PORT_MAX})`);
  }
}

/** The minimal set of prefixes whose union is exactly [first, last], in ascending port order. */
export function portRangePrefixes(first: number, last: number): PortPrefix[] {
  checkPort(first, 'first');
  checkPort(last, 'last');
  if (last < first) throw new RangeError(`port prefix: range ${first}-${last} is empty`);
  const prefixes: PortPrefix[] = [];
  let start = first;
  while (start <= last) {
    // Grow the block while start stays aligned to it and it still ends inside the range.
    let hostBits = 0;
    while (hostBits < PORT_BITS) {
      const size = 2 ** (hostBits + 1);
      if (start % size !== 0 || start + size - 1 > last) break;
      hostBits += 1;
    }
    prefixes.push({ port: start, prefixLen: PORT_BITS - hostBits });
    start += 2 ** hostBits;
  }
  return prefixes;
}

/** The port with the bits below the prefix cleared: what an LPM key of that length keeps of it. */
export function maskPort(port: number, prefixLen: number): number {
  const hostBits = PORT_BITS - prefixLen;
  return Math.floor(port / 2 ** hostBits) * 2 ** hostBits;
}

/** Whether `port` lies inside the prefix (the same test the LPM trie applies). */
export function portPrefixContains(prefix: PortPrefix, port: number): boolean {
  return maskPort(port, prefix.prefixLen) === maskPort(prefix.port, prefix.prefixLen);
}
