// Numeric ids that stay the same across compiles for the same key, whatever else the cluster holds:
// counters, events and pinned maps keep meaning the same thing after a restart or an unrelated change.
//
// An id is FNV-1a-32 of the canonical key text, folded into [first, ID_LIMIT). Two keys that fold to the
// same id are settled by probing upwards in sorted key order, so the result is deterministic; only the
// keys involved in a collision (rare in a 2^31 range) can see their id depend on each other.

/** Ids stay below 2^31 so they are safe in 32-bit signed arithmetic on either side of the ABI. */
export const ID_LIMIT = 2 ** 31;

/** Where each kind of id starts: identities leave 0..255 to reserved identities; 0 means "none" elsewhere. */
export const FIRST_ALLOCATED_ID = {
  identity: 256,
  endpoint: 1,
  atom: 1,
  rule: 1,
} as const;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash;
}

/** Assigns each distinct key an id in [first, ID_LIMIT), stable for the key. */
export function assignStableIds(keys: Iterable<string>, first: number): Map<string, number> {
  const span = ID_LIMIT - first;
  const sorted = [...new Set(keys)].sort();
  if (sorted.length > span) throw new RangeError(`stable ids: ${sorted.length} keys do not fit in ${span} ids`);
  const taken = new Set<number>();
  const ids = new Map<string, number>();
  for (const key of sorted) {
    let id = first + (fnv1a32(key) % span);
    while (taken.has(id)) id = id + 1 < ID_LIMIT ? id + 1 : first;
    taken.add(id);
    ids.set(key, id);
  }
  return ids;
}
