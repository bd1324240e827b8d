// CIDR atoms: ipBlocks as a longest-prefix-match dimension of their own.
//
// Every ipBlock cidr and except in use is a prefix. A prefix P gets the atom "the set of ipBlocks B with
// P ⊆ B.cidr and P inside none of B's excepts". For any address a, the longest prefix P containing a is
// inside every prefix that contains a (prefixes containing one address are nested), so B contains a
// exactly when B is in P's atom: the LPM lookup the BPF program does is exact.
//
// The BPF maps hold one 128-bit space: IPv6 as is, IPv4 as ::ffff:a.b.c.d (abi.h). An IPv6 block such
// as ::/0 therefore also covers every IPv4 address there, which Kubernetes semantics forbid. Whenever an
// IPv6 prefix covers the mapped range, the IPv4 root 0.0.0.0/0 is added as a prefix of its own so IPv4
// lookups always stop at an IPv4 prefix, whose atom counts only IPv4 blocks.
import type { CidrAtomEntry } from './desired.js';
import { formatCidr, parseCidr, type Cidr, type IpAddress } from './ip.js';
import type { IPBlock } from './model.js';
import { assignStableIds, FIRST_ALLOCATED_ID } from './stable-ids.js';

const UNIFIED_BITS = 128;
const MAPPED_V4_PREFIX = 96;
const MAPPED_V4_BASE = 0xffffn << 32n;

/** A prefix in the BPF maps' 128-bit address space. */
export interface UnifiedPrefix {
  readonly network: bigint;
  readonly length: number;
}

export function unifiedAddress(address: IpAddress): bigint {
  return address.family === 4 ? MAPPED_V4_BASE | address.value : address.value;
}

export function unifiedPrefix(cidr: Cidr): UnifiedPrefix {
  return cidr.family === 4
    ? { network: MAPPED_V4_BASE | cidr.network, length: MAPPED_V4_PREFIX + cidr.prefixLength }
    : { network: cidr.network, length: cidr.prefixLength };
}

export function unifiedContains(outer: UnifiedPrefix, address: bigint): boolean {
  const hostBits = BigInt(UNIFIED_BITS - outer.length);
  return address >> hostBits === outer.network >> hostBits;
}

function unifiedContainsPrefix(outer: UnifiedPrefix, inner: UnifiedPrefix): boolean {
  return inner.length >= outer.length && unifiedContains(outer, inner.network);
}

function truncate(prefix: UnifiedPrefix, length: number): UnifiedPrefix {
  const hostBits = BigInt(UNIFIED_BITS - length);
  return { network: (prefix.network >> hostBits) << hostBits, length };
}

const V4_ROOT_CIDR: Cidr = { family: 4, network: 0n, prefixLength: 0 };
const V4_ROOT: Prefix = { cidr: V4_ROOT_CIDR, unified: unifiedPrefix(V4_ROOT_CIDR) };

/** The canonical text of an ipBlock: `cidr` then `!except` in sorted order (the annotation syntax). */
export function ipBlockKey(block: IPBlock): string {
  const excepts = [...new Set(block.except.map((text) => formatCidr(parseCidr(text))))].sort();
  return [formatCidr(parseCidr(block.cidr)), ...excepts].join('!');
}

/** A prefix in its own family (for output) and in the unified space (for containment). */
interface Prefix {
  readonly cidr: Cidr;
  readonly unified: UnifiedPrefix;
}

interface ParsedBlock extends Prefix {
  readonly key: string;
  readonly excepts: readonly Prefix[];
}

export interface CidrAtoms {
  /** Prefix → atom, only where the atom differs from the enclosing prefix's: the minimal LPM table. */
  readonly entries: readonly CidrAtomEntry[];
  /** ipBlock key → the atoms whose set contains that block, ascending. */
  readonly atomsOfBlock: ReadonlyMap<string, readonly number[]>;
}

function parsePrefix(text: string): Prefix {
  const cidr = parseCidr(text);
  return { cidr, unified: unifiedPrefix(cidr) };
}

function parseBlock(block: IPBlock): ParsedBlock {
  return { key: ipBlockKey(block), ...parsePrefix(block.cidr), excepts: block.except.map(parsePrefix) };
}

function prefixIdentity(prefix: UnifiedPrefix): string {
  return `${prefix.network.toString(16)}/${prefix.length}`;
}

function collectPrefixes(blocks: readonly ParsedBlock[]): Map<string, Prefix> {
  const prefixes = new Map<string, Prefix>();
  const add = (prefix: Prefix): void => {
    prefixes.set(prefixIdentity(prefix.unified), { cidr: prefix.cidr, unified: prefix.unified });
  };
  for (const block of blocks) {
    add(block);
    block.excepts.forEach(add);
  }
  const v6CoversMappedV4 = blocks.some((b) => b.cidr.family === 6 && unifiedContainsPrefix(b.unified, V4_ROOT.unified));
  if (v6CoversMappedV4) add(V4_ROOT);
  return prefixes;
}

function blockHolds(block: ParsedBlock, prefix: Prefix): boolean {
  return (
    block.cidr.family === prefix.cidr.family &&
    unifiedContainsPrefix(block.unified, prefix.unified) &&
    !block.excepts.some((except) => unifiedContainsPrefix(except.unified, prefix.unified))
  );
}

/** The atom of the longest prefix strictly enclosing `prefix` (undefined: no enclosing prefix). */
function enclosingAtomKey(prefix: UnifiedPrefix, atomKeyOf: ReadonlyMap<string, string>): string | undefined {
  for (let length = prefix.length - 1; length >= 0; length--) {
    const atomKey = atomKeyOf.get(prefixIdentity(truncate(prefix, length)));
    if (atomKey !== undefined) return atomKey;
  }
  return undefined;
}

/** Builds the atoms of a set of ipBlocks (invalid CIDR text throws IpSyntaxError naming it). */
export function buildCidrAtoms(ipBlocks: readonly IPBlock[]): CidrAtoms {
  const byKey = new Map<string, ParsedBlock>();
  for (const block of ipBlocks) {
    const parsed = parseBlock(block);
    byKey.set(parsed.key, parsed);
  }
  const blocks = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const prefixes = collectPrefixes(blocks);

  // Only blocks whose cidr encloses a prefix can hold it: find them by walking the prefix's ancestors.
  const blocksByCidr = new Map<string, ParsedBlock[]>();
  for (const block of blocks) {
    const id = prefixIdentity(block.unified);
    blocksByCidr.set(id, [...(blocksByCidr.get(id) ?? []), block]);
  }
  // atom key = the member block keys joined; '' is the empty atom, which maps to id 0 (no policy entry names it).
  const atomKeyOf = new Map<string, string>();
  for (const [id, prefix] of prefixes) {
    const members: string[] = [];
    for (let length = 0; length <= prefix.unified.length; length++) {
      for (const block of blocksByCidr.get(prefixIdentity(truncate(prefix.unified, length))) ?? []) {
        if (blockHolds(block, prefix)) members.push(block.key);
      }
    }
    atomKeyOf.set(id, members.sort().join(' '));
  }
  const atomIds = assignStableIds([...new Set(atomKeyOf.values())].filter((key) => key !== ''), FIRST_ALLOCATED_ID.atom);
  const idOf = (atomKey: string): number => (atomKey === '' ? 0 : (atomIds.get(atomKey) as number));

  const entries: CidrAtomEntry[] = [];
  for (const [id, prefix] of prefixes) {
    const atomKey = atomKeyOf.get(id) as string;
    if (atomKey === (enclosingAtomKey(prefix.unified, atomKeyOf) ?? '')) continue;
    entries.push({ cidr: formatCidr(prefix.cidr), atom: idOf(atomKey) });
  }
  entries.sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));

  const atomsOfBlock = new Map<string, number[]>(blocks.map((block) => [block.key, []]));
  for (const [atomKey, atom] of atomIds) {
    for (const blockKey of atomKey.split(' ')) atomsOfBlock.get(blockKey)?.push(atom);
  }
  for (const atoms of atomsOfBlock.values()) atoms.sort((a, b) => a - b);
  return { entries, atomsOfBlock };
}
